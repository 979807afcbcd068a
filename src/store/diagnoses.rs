//! Diagnoses still to come: a failure's copies are marked in the outbox
//! with the alert (`diagnose_pending`), claimed for a while by the
//! instance that gathers their evidence, and cleared in the transaction
//! that enqueues the evidence's edit. An instance that dies half-way
//! leaves its claim to run out; another takes the work over.

use super::alarms::HOLD_ENV;
use super::incidents::HOLD_OPERATION;
use super::outbox::{OutboxRow, insert_alerts, select_outbox};
use super::{NewAlert, Store, StoreError, on_pool};
use crate::domain::{Env, OperationId};

/// A failure's copy waiting for its diagnosis.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingDiagnosis {
    pub id: i64,
    pub dedup_key: String,
    pub env: Option<String>,
    pub operation_id: Option<i64>,
    /// The message the copy shows in: its own key, or the one it edits.
    pub message: String,
}

/// The edit of a message carrying its diagnosis, built from the newest
/// text the message has (`None`: nothing to edit).
pub type BuildEdit<'a> = dyn Fn(&OutboxRow) -> Option<NewAlert> + Send + Sync + 'a;

impl Store {
    /// Claims up to `limit` copies waiting for their diagnosis until
    /// `until` (Unix ms): those never claimed or whose claim ran out by
    /// `now`, written since `since`. Older ones are given up (their
    /// evidence would describe another moment). Oldest first.
    pub async fn claim_diagnoses(
        &self,
        now: i64,
        since: i64,
        until: i64,
        limit: i64,
    ) -> Result<Vec<PendingDiagnosis>, StoreError> {
        let give_up = "UPDATE alert_outbox SET diagnose_pending = 0 \
                       WHERE diagnose_pending <> 0 AND created_at < $1";
        // The outer condition repeats the inner one: on PostgreSQL, a
        // second instance's claim re-reads a row the first just claimed
        // and passes it by.
        let claim = "UPDATE alert_outbox SET diagnose_pending = $1 \
                     WHERE id IN (SELECT id FROM alert_outbox \
                                  WHERE diagnose_pending <> 0 AND diagnose_pending < $2 \
                                  ORDER BY id LIMIT $3) \
                       AND diagnose_pending <> 0 AND diagnose_pending < $2 \
                     RETURNING id, dedup_key, env, operation_id, COALESCE(edit_of, dedup_key) AS message";
        let mut claimed: Vec<PendingDiagnosis> = on_pool!(self, p => {
            sqlx::query(give_up).bind(since).execute(p).await?;
            sqlx::query_as(claim).bind(until).bind(now).bind(limit).fetch_all(p).await
        })?;
        claimed.sort_by_key(|d| d.id);
        Ok(claimed)
    }

    /// Enqueues the diagnosis of `pending` (one failure's copies): for
    /// each message they show in, the edit `build` makes of its newest
    /// text, and their marks cleared, in one transaction, under the same
    /// hold as an acknowledgement of the failure takes (on the operation's
    /// row, else on the environment's monitor row), so that whichever of
    /// the two comes second builds on the other's text. Returns how many
    /// edits were new.
    pub async fn diagnosed(
        &self,
        env: &Env,
        op: Option<OperationId>,
        pending: &[PendingDiagnosis],
        build: &BuildEdit<'_>,
    ) -> Result<u64, StoreError> {
        let newest =
            select_outbox!("WHERE dedup_key = $1 OR edit_of = $1 ORDER BY id DESC LIMIT 1");
        let clear = "UPDATE alert_outbox SET diagnose_pending = 0 WHERE id = $1";
        let mut messages: Vec<&str> = pending.iter().map(|d| d.message.as_str()).collect();
        messages.sort_unstable();
        messages.dedup();
        let new = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            // Writes first: on SQLite, a transaction that read before it
            // writes may find another writer in the way and fail.
            for d in pending {
                sqlx::query(clear).bind(d.id).execute(&mut *tx).await?;
            }
            match op {
                Some(op) => sqlx::query(HOLD_OPERATION).bind(op.0).execute(&mut *tx).await?,
                None => sqlx::query(HOLD_ENV).bind(env.as_str()).execute(&mut *tx).await?,
            };
            let mut edits = Vec::new();
            for message in &messages {
                let row: Option<OutboxRow> =
                    sqlx::query_as(newest).bind(*message).fetch_optional(&mut *tx).await?;
                if let Some(edit) = row.as_ref().and_then(build) {
                    edits.push(edit);
                }
            }
            let new = insert_alerts!(tx, &edits)?;
            tx.commit().await?;
            new
        });
        Ok(new)
    }
}
