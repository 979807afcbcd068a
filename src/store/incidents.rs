//! Failures taken ("I'm on it") and escalated: the first acknowledgement
//! of a failed operation wins, and an escalation step is written once
//! with its audit line (its outbox key makes the step unique).

use super::alarms::HOLD_ENV;
use super::audit::insert_audit;
use super::fence::fence_holds;
use super::outbox::{OutboxRow, insert_alerts, select_outbox};
use super::{AuditEntry, NewAlert, Store, StoreError, now_ms, on_pool};
use crate::domain::{Env, OperationId, UserId};

/// Takes the operation's row for the rest of the transaction (a write
/// that changes nothing: a row lock on PostgreSQL, the writer's lock on
/// SQLite), so that an acknowledgement and an escalation step of one
/// failure are decided one after the other.
pub(super) const HOLD_OPERATION: &str =
    "UPDATE operations SET updated_at = updated_at WHERE id = $1";

/// What an escalation step is of: a failed operation, or the health
/// monitor's alarms about an environment raised at one moment (Unix ms).
#[derive(Debug, Clone, Copy)]
pub enum Untaken<'a> {
    Operation(OperationId),
    Alarms { env: &'a Env, at: i64 },
}

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
    /// acknowledgement and a step cannot cross; for the health monitor's
    /// alarms, the hold [`Self::acknowledge_alarms`] takes). Returns
    /// whether the step is new.
    pub async fn escalate(
        &self,
        of: Untaken<'_>,
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<bool, StoreError> {
        let new = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let taken = if fence_holds!(self, tx) {
                let row: Option<(i32,)> = match of {
                    Untaken::Operation(op) => {
                        sqlx::query(HOLD_OPERATION).bind(op.0).execute(&mut *tx).await?;
                        let sql = "SELECT 1 FROM incident_acks WHERE operation_id = $1";
                        sqlx::query_as(sql).bind(op.0).fetch_optional(&mut *tx).await?
                    }
                    Untaken::Alarms { env, at } => {
                        sqlx::query(HOLD_ENV).bind(env.as_str()).execute(&mut *tx).await?;
                        let sql = "SELECT 1 FROM health_acks WHERE env = $1 AND alarm_at = $2";
                        sqlx::query_as(sql).bind(env.as_str()).bind(at).fetch_optional(&mut *tx).await?
                    }
                };
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

impl Store {
    /// Claims the decision on deploy `deploy`'s automatic rollback until
    /// `until` (Unix ms): `true` unless it was decided already or another
    /// instance holds it past `now`.
    pub async fn claim_auto_rollback(
        &self,
        deploy: OperationId,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        let sql = "INSERT INTO auto_rollbacks (deploy_id, claimed_until, done) VALUES ($1, $2, 0) \
                   ON CONFLICT (deploy_id) DO UPDATE SET claimed_until = excluded.claimed_until \
                   WHERE auto_rollbacks.done = 0 AND auto_rollbacks.claimed_until < $3";
        let claimed = on_pool!(self, p => sqlx::query(sql)
            .bind(deploy.0)
            .bind(until)
            .bind(now)
            .execute(p)
            .await
            .map(|done| done.rows_affected() == 1))?;
        Ok(claimed)
    }

    /// Deploy `deploy`'s automatic rollback was decided: never again.
    pub async fn auto_rollback_decided(&self, deploy: OperationId) -> Result<(), StoreError> {
        let sql = "UPDATE auto_rollbacks SET done = 1 WHERE deploy_id = $1";
        on_pool!(self, p => sqlx::query(sql).bind(deploy.0).execute(p).await.map(|_| ()))?;
        Ok(())
    }
}
