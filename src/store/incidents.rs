//! Failures taken ("I'm on it") and escalated: the first acknowledgement
//! of a failed operation wins, and an escalation step is written once
//! with its audit line (its outbox key makes the step unique).

use super::audit::insert_audit;
use super::fence::fence_holds;
use super::outbox::{OutboxRow, insert_alerts, select_outbox};
use super::{AuditEntry, NewAlert, Store, StoreError, now_ms, on_pool};
use crate::domain::{OperationId, UserId};

/// Takes the operation's row for the rest of the transaction (a write
/// that changes nothing: a row lock on PostgreSQL, the writer's lock on
/// SQLite), so that an acknowledgement and an escalation step of one
/// failure are decided one after the other.
pub(super) const HOLD_OPERATION: &str =
    "UPDATE operations SET updated_at = updated_at WHERE id = $1";

/// Who took a failure, and when (Unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    pub by: UserId,
    pub at: i64,
}

impl Store {
    /// Records that `by` took the failed operation `op`, with its audit
    /// line and the alerts `build` makes of the operation's alerts as they
    /// stand (the copies' edits), in one transaction under a hold on the
    /// operation's row (a diagnosis's edit and this one are written one
    /// after the other, the second building on the first). `Ok(None)`
    /// when this was the first acknowledgement; else the one that was.
    pub async fn acknowledge(
        &self,
        op: OperationId,
        by: UserId,
        audit: &AuditEntry,
        build: &(dyn Fn(&[OutboxRow]) -> Vec<NewAlert> + Send + Sync),
    ) -> Result<Option<Ack>, StoreError> {
        let outbox = select_outbox!("WHERE operation_id = $1 ORDER BY id");
        let first = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(HOLD_OPERATION).bind(op.0).execute(&mut *tx).await?;
            let sql = "INSERT INTO incident_acks (operation_id, acked_by, acked_at) VALUES ($1, $2, $3) \
                       ON CONFLICT (operation_id) DO NOTHING";
            let first = sqlx::query(sql)
                .bind(op.0)
                .bind(by.0)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if first {
                insert_audit!(&mut *tx, audit)?;
                let rows: Vec<OutboxRow> =
                    sqlx::query_as(outbox).bind(op.0).fetch_all(&mut *tx).await?;
                let alerts = build(&rows);
                insert_alerts!(tx, &alerts)?;
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            first
        });
        if first {
            return Ok(None);
        }
        self.acknowledgement(op).await
    }

    /// Who took the failed operation `op`, if anyone has.
    pub async fn acknowledgement(&self, op: OperationId) -> Result<Option<Ack>, StoreError> {
        let sql = "SELECT acked_by, acked_at FROM incident_acks WHERE operation_id = $1";
        let row: Option<(i64, i64)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(op.0).fetch_optional(p).await)?;
        Ok(row.map(|(by, at)| Ack { by: UserId(by), at }))
    }

    /// Enqueues an escalation step of the failed operation `op`: its
    /// alerts and, when any was new (the step not written before), its
    /// audit line, in one transaction fenced by the leader's lease, and
    /// only while nobody has taken the failure (checked under the same
    /// hold on the operation's row as [`Self::acknowledge`] takes, so an
    /// acknowledgement and a step cannot cross). Returns whether the step
    /// is new.
    pub async fn escalate(
        &self,
        op: OperationId,
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<bool, StoreError> {
        let new = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let taken = if fence_holds!(self, tx) {
                sqlx::query(HOLD_OPERATION).bind(op.0).execute(&mut *tx).await?;
                let sql = "SELECT 1 FROM incident_acks WHERE operation_id = $1";
                let row: Option<(i32,)> = sqlx::query_as(sql).bind(op.0).fetch_optional(&mut *tx).await?;
                Some(row.is_some())
            } else {
                None
            };
            if taken != Some(false) {
                tx.rollback().await?;
                false
            } else {
                let new = insert_alerts!(tx, alerts)? > 0;
                if new {
                    insert_audit!(&mut *tx, audit)?;
                }
                tx.commit().await?;
                new
            }
        });
        Ok(new)
    }

    /// Every alert of an operation, in the order enqueued.
    pub async fn outbox_of(&self, op: OperationId) -> Result<Vec<OutboxRow>, StoreError> {
        let sql = select_outbox!("WHERE operation_id = $1 ORDER BY id");
        let rows = on_pool!(self, p => sqlx::query_as(sql).bind(op.0).fetch_all(p).await)?;
        Ok(rows)
    }
}
