//! Incident reports: one GitHub issue per rollback, claimed before it is
//! created (two taps, one issue), and what their timeline is made of.

use super::audit::AuditRow;
use super::outbox::insert_alerts;
use super::{NewAlert, Store, StoreError, now_ms, on_pool};
use crate::domain::{OperationId, UserId};

/// Where an incident report stands when someone asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportClaim {
    /// This caller creates it.
    Mine,
    /// Opened already: its number and URL.
    Opened(i64, String),
    /// Someone else is creating it right now.
    Underway,
}

/// One alert of an operation, once (not once per chat).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertEvent {
    pub at: i64,
    pub kind: String,
    pub text: String,
}

/// How long a claim without an issue holds before another may retry it
/// (the claimant crashed, or GitHub failed without us hearing).
const CLAIM_HOLDS_MS: i64 = 120_000;

impl Store {
    /// Claims the incident report of a rollback.
    pub async fn claim_report(
        &self,
        id: OperationId,
        by: UserId,
    ) -> Result<ReportClaim, StoreError> {
        let now = now_ms();
        let claim = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(
                "DELETE FROM incident_reports WHERE operation_id = $1 AND issue_url IS NULL AND claimed_at <= $2",
            )
            .bind(id.0)
            .bind(now - CLAIM_HOLDS_MS)
            .execute(&mut *tx)
            .await?;
            let inserted = sqlx::query(
                "INSERT INTO incident_reports (operation_id, claimed_by, claimed_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (operation_id) DO NOTHING",
            )
            .bind(id.0)
            .bind(by.0)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            let claim = if inserted {
                ReportClaim::Mine
            } else {
                let row: (Option<i64>, Option<String>) = sqlx::query_as(
                    "SELECT issue_number, issue_url FROM incident_reports WHERE operation_id = $1",
                )
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await?;
                match row {
                    (Some(number), Some(url)) => ReportClaim::Opened(number, url),
                    _ => ReportClaim::Underway,
                }
            };
            tx.commit().await?;
            claim
        });
        Ok(claim)
    }

    /// Records the opened issue, with its alerts.
    pub async fn report_opened(
        &self,
        id: OperationId,
        number: i64,
        url: &str,
        alerts: &[NewAlert],
    ) -> Result<(), StoreError> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE incident_reports SET issue_number = $2, issue_url = $3 WHERE operation_id = $1")
                .bind(id.0)
                .bind(number)
                .bind(url)
                .execute(&mut *tx)
                .await?;
            insert_alerts!(tx, alerts)?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Gives a claim up (GitHub refused): the next tap tries again.
    pub async fn release_report(&self, id: OperationId) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("DELETE FROM incident_reports WHERE operation_id = $1 AND issue_url IS NULL")
            .bind(id.0)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The audit lines of some operations, oldest first.
    pub async fn audit_of(&self, ids: &[i64]) -> Result<Vec<AuditRow>, StoreError> {
        let mut rows = Vec::new();
        for id in ids {
            let sql = "SELECT id, at, actor, chat_id, action, outcome, operation_id, detail FROM audit_log \
                       WHERE operation_id = $1 ORDER BY id";
            let mut some: Vec<AuditRow> =
                on_pool!(self, p => sqlx::query_as(sql).bind(*id).fetch_all(p).await)?;
            rows.append(&mut some);
        }
        rows.sort_by_key(|r| (r.at, r.id));
        Ok(rows)
    }

    /// The alerts about some operations, each event once, oldest first
    /// (approval prompts and their edits left out; an outcome edited into
    /// the "started" message is an event of its own).
    pub async fn alerts_of(&self, ids: &[i64]) -> Result<Vec<AlertEvent>, StoreError> {
        let mut events: Vec<(String, AlertEvent)> = Vec::new();
        for id in ids {
            let pattern = format!(
                "{}%",
                crate::domain::AlertKey::operation_prefix(crate::domain::OperationId(*id))
            );
            let sql = "SELECT dedup_key, kind, text, created_at FROM alert_outbox \
                       WHERE dedup_key LIKE $1 AND kind <> 'approval' ORDER BY id";
            let rows: Vec<(String, String, String, i64)> =
                on_pool!(self, p => sqlx::query_as(sql).bind(pattern).fetch_all(p).await)?;
            for (key, kind, text, at) in rows {
                let event = event_of(&key);
                if events.iter().all(|(k, _)| *k != event) {
                    events.push((event, AlertEvent { at, kind, text }));
                }
            }
        }
        let mut events: Vec<AlertEvent> = events.into_iter().map(|(_, e)| e).collect();
        events.sort_by_key(|e| e.at);
        Ok(events)
    }
}

/// An alert's event: its key without the `@chat` part (`op:2:dispatched@-100…:succeeded`
/// → `op:2:dispatched:succeeded`).
fn event_of(key: &str) -> String {
    match key.split_once('@') {
        Some((event, rest)) => match rest.split_once(':') {
            Some((_chat, step)) => format!("{event}:{step}"),
            None => event.to_owned(),
        },
        None => key.to_owned(),
    }
}
