//! Operations and environment locks, as `/status` reads them. The writes
//! (requests, approvals, dispatches) arrive with the commands that make them.

use sqlx::FromRow;

use super::{Store, StoreError, now_ms, on_pool};

/// An operation as stored.
#[derive(Debug, Clone, FromRow)]
pub struct OperationRow {
    pub id: i64,
    pub kind: String,
    pub env: Option<String>,
    pub version: String,
    pub state: String,
    pub requested_by: i64,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

/// A held environment lock.
#[derive(Debug, Clone, FromRow)]
pub struct LockRow {
    pub env: String,
    pub locked_by: i64,
    pub reason: String,
    pub locked_at: i64,
    pub expires_at: Option<i64>,
}

impl Store {
    /// Operations that are not over yet, oldest first.
    pub async fn live_operations(&self) -> Result<Vec<OperationRow>, StoreError> {
        let sql = "SELECT id, kind, env, version, state, requested_by, created_at, expires_at \
                   FROM operations \
                   WHERE state IN ('requested', 'awaiting_approval', 'approved', 'dispatched', 'running') \
                   ORDER BY id";
        let rows = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows)
    }

    /// Locks still in force.
    pub async fn active_locks(&self) -> Result<Vec<LockRow>, StoreError> {
        let sql = "SELECT env, locked_by, reason, locked_at, expires_at FROM env_locks \
                   WHERE expires_at IS NULL OR expires_at > $1 ORDER BY env";
        let rows = on_pool!(self, p => sqlx::query_as(sql).bind(now_ms()).fetch_all(p).await)?;
        Ok(rows)
    }
}
