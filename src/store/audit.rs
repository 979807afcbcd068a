//! The audit log: who did what, when, and what came of it.

use sqlx::FromRow;

use super::{Store, StoreError, on_pool};
use crate::domain::{ChatId, OperationId, UserId};

/// One line of the audit log, before it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub actor: Option<UserId>,
    pub chat: Option<ChatId>,
    /// What was attempted: `command:/status`, `webhook:workflow_run`, …
    pub action: String,
    /// What came of it: `answered`, `refused:unknown_user`, `stored`, …
    pub outcome: String,
    pub operation: Option<OperationId>,
    /// Free text: the command as typed, the reason of a refusal.
    pub detail: String,
}

/// One stored line of the audit log.
#[derive(Debug, Clone, FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: Option<i64>,
    pub chat_id: Option<i64>,
    pub action: String,
    pub outcome: String,
    pub operation_id: Option<i64>,
    pub detail: String,
}

/// Inserts an audit entry on any executor of either backend: a pool or
/// an open transaction.
///
/// The log reads in id order, and its times never go back along it: a
/// line's time is now, or the time of the line before it when that is
/// later. The clock is read before the statement waits for the write
/// lock, and a writer that got the lock first may have stamped a later
/// millisecond (or the wall clock may have been stepped back). On SQLite
/// the statement runs under the one write lock, so the line before is
/// the last one written.
macro_rules! insert_audit {
    ($executor:expr, $entry:expr) => {{
        let entry: &crate::store::AuditEntry = $entry;
        sqlx::query(
            "INSERT INTO audit_log (at, actor, chat_id, action, outcome, operation_id, detail) \
             VALUES (COALESCE((SELECT CASE WHEN last.at > $1 THEN last.at END \
                               FROM audit_log last ORDER BY last.id DESC LIMIT 1), $1), \
                     $2, $3, $4, $5, $6, $7)",
        )
        .bind(crate::store::now_ms())
        .bind(entry.actor.map(|u| u.0))
        .bind(entry.chat.map(|c| c.0))
        .bind(&entry.action)
        .bind(&entry.outcome)
        .bind(entry.operation.map(|o| o.0))
        .bind(&entry.detail)
        .execute($executor)
        .await
        .map(|_| ())
    }};
}
pub(crate) use insert_audit;

impl Store {
    /// Appends one entry to the audit log.
    pub async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        on_pool!(self, p => insert_audit!(p, entry))?;
        Ok(())
    }

    /// The newest `limit` audit entries, oldest first.
    pub async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
        let sql = "SELECT * FROM (SELECT id, at, actor, chat_id, action, outcome, operation_id, detail \
                   FROM audit_log ORDER BY id DESC LIMIT $1) recent ORDER BY id";
        let rows = on_pool!(self, p => sqlx::query_as(sql).bind(limit).fetch_all(p).await)?;
        Ok(rows)
    }
}
