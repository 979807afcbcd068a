//! GitHub webhook deliveries: stored once per `X-GitHub-Delivery`, with
//! their audit line and alerts in the same transaction.

use super::audit::insert_audit;
use super::outbox::insert_alerts;
use super::{AuditEntry, NewAlert, Store, StoreError, now_ms, on_pool};

/// A verified webhook delivery.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// `X-GitHub-Delivery`: unique per delivery (a redelivery keeps it).
    pub id: String,
    /// `X-GitHub-Event`: `workflow_run`, `release`, `ping`, …
    pub event: String,
    /// The payload's `action`, when it has one.
    pub action: Option<String>,
    /// The raw JSON body.
    pub payload: String,
    /// Why it changes nothing, when it is not the bot's (another
    /// repository's event): stored as ignored, already processed.
    pub ignored: Option<String>,
}

/// Whether a delivery was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New,
    Duplicate,
}

impl Store {
    /// Stores a delivery with its audit line and alerts, all or nothing;
    /// `done` when it has nothing more to apply (stored as processed, no
    /// second write). A delivery id seen before changes nothing.
    pub async fn record_delivery(
        &self,
        delivery: &Delivery,
        done: bool,
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<Recorded, StoreError> {
        let batch = [(delivery.clone(), done, audit.clone(), alerts.to_vec())];
        Ok(self.record_deliveries(&batch).await?[0])
    }

    /// [`Self::record_delivery`] for several deliveries in one transaction
    /// (one commit, one sync to disk): how a burst is stored. All or
    /// nothing: on an error none is stored.
    pub async fn record_deliveries(
        &self,
        batch: &[(Delivery, bool, AuditEntry, Vec<NewAlert>)],
    ) -> Result<Vec<Recorded>, StoreError> {
        let now = now_ms();
        let recorded = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut recorded = Vec::with_capacity(batch.len());
            for (delivery, done, audit, alerts) in batch {
                let inserted = sqlx::query(
                    "INSERT INTO webhook_deliveries (delivery_id, event, action, payload, received_at, processed_at, ignored) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (delivery_id) DO NOTHING",
                )
                .bind(&delivery.id)
                .bind(&delivery.event)
                .bind(&delivery.action)
                .bind(&delivery.payload)
                .bind(now)
                .bind(done.then_some(now))
                .bind(&delivery.ignored)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    recorded.push(Recorded::Duplicate);
                } else {
                    insert_audit!(&mut *tx, audit)?;
                    insert_alerts!(tx, alerts)?;
                    recorded.push(Recorded::New);
                }
            }
            tx.commit().await?;
            recorded
        });
        Ok(recorded)
    }

    /// Notes that a delivery's effects were applied.
    pub async fn mark_processed(&self, delivery_id: &str) -> Result<(), StoreError> {
        let sql = "UPDATE webhook_deliveries SET processed_at = $2 WHERE delivery_id = $1";
        on_pool!(self, p => sqlx::query(sql).bind(delivery_id).bind(now_ms()).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Whether a stored delivery's effects were applied.
    pub async fn is_processed(&self, delivery_id: &str) -> Result<bool, StoreError> {
        let sql = "SELECT processed_at FROM webhook_deliveries WHERE delivery_id = $1";
        let row: Option<(Option<i64>,)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(delivery_id).fetch_optional(p).await)?;
        Ok(matches!(row, Some((Some(_),))))
    }

    /// Why a stored delivery was ignored: `Some(None)` when it was not,
    /// `None` when no such delivery is stored.
    pub async fn delivery_ignored(
        &self,
        delivery_id: &str,
    ) -> Result<Option<Option<String>>, StoreError> {
        let sql = "SELECT ignored FROM webhook_deliveries WHERE delivery_id = $1";
        let row: Option<(Option<String>,)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(delivery_id).fetch_optional(p).await)?;
        Ok(row.map(|(why,)| why))
    }

    /// How many deliveries are stored (for tests and diagnostics).
    pub async fn delivery_count(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = on_pool!(self, p => sqlx::query_as("SELECT COUNT(*) FROM webhook_deliveries").fetch_one(p).await)?;
        Ok(n)
    }
}
