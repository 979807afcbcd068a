//! The health monitor's alarms taken ("I'm on it") and escalated, as the
//! failures of an operation are (see `incidents.rs`): the alarms of one
//! moment (one look of the monitor) are taken once, by the first tap, and
//! an escalation step is written once, only while nobody took them. Both
//! hold the environment's monitor row first, so they cannot cross.

use super::audit::insert_audit;
use super::incidents::Ack;
use super::outbox::{OutboxRow, insert_alerts, select_outbox};
use super::{AuditEntry, NewAlert, Store, StoreError, now_ms, on_pool};
use crate::domain::{Env, UserId};

/// Takes the environment's monitor row for the rest of the transaction
/// (a write that changes nothing).
pub(super) const HOLD_ENV: &str = "UPDATE env_health SET updated_at = updated_at WHERE env = $1";

/// Every copy of the health monitor's messages about an environment, and
/// their edits, written since a moment, in order.
const ALARMS_SINCE: &str =
    select_outbox!("WHERE env = $1 AND created_at >= $2 AND dedup_key LIKE $3 ORDER BY id");

fn health_keys(env: &Env) -> String {
    format!("health:{env}:%")
}

impl Store {
    /// The health monitor's messages about `env` (alarms, their
    /// escalations, the edits of both) written since `since` (Unix ms).
    pub async fn alarms_since(&self, env: &Env, since: i64) -> Result<Vec<OutboxRow>, StoreError> {
        let rows = on_pool!(self, p => sqlx::query_as(ALARMS_SINCE)
            .bind(env.as_str())
            .bind(since)
            .bind(health_keys(env))
            .fetch_all(p)
            .await)?;
        Ok(rows)
    }

    /// Who took the alarms raised in `env` at `alarm_at`, if anyone has.
    pub async fn alarm_acknowledgement(
        &self,
        env: &Env,
        alarm_at: i64,
    ) -> Result<Option<Ack>, StoreError> {
        let sql = "SELECT acked_by, acked_at FROM health_acks WHERE env = $1 AND alarm_at = $2";
        let row: Option<(i64, i64)> = on_pool!(self, p => sqlx::query_as(sql)
            .bind(env.as_str())
            .bind(alarm_at)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(|(by, at)| Ack { by: UserId(by), at }))
    }

    /// Records that `by` took the alarms raised in `env` at each of
    /// `moments`, with the audit line and the alerts `build` makes of the
    /// environment's alarm messages since `since` as they stand (the
    /// copies' edits), in one transaction. `Ok(None)` when the tap took
    /// any of them; else who had taken them first.
    pub async fn acknowledge_alarms(
        &self,
        env: &Env,
        moments: &[i64],
        by: UserId,
        since: i64,
        audit: &AuditEntry,
        build: &(dyn Fn(&[OutboxRow]) -> Vec<NewAlert> + Send + Sync),
    ) -> Result<Option<Ack>, StoreError> {
        let insert = "INSERT INTO health_acks (env, alarm_at, acked_by, acked_at) \
                      VALUES ($1, $2, $3, $4) ON CONFLICT (env, alarm_at) DO NOTHING";
        let took = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(HOLD_ENV).bind(env.as_str()).execute(&mut *tx).await?;
            let now = now_ms();
            let mut took = 0;
            for at in moments {
                took += sqlx::query(insert)
                    .bind(env.as_str())
                    .bind(*at)
                    .bind(by.0)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            if took > 0 {
                insert_audit!(&mut *tx, audit)?;
                let rows: Vec<OutboxRow> = sqlx::query_as(ALARMS_SINCE)
                    .bind(env.as_str())
                    .bind(since)
                    .bind(health_keys(env))
                    .fetch_all(&mut *tx)
                    .await?;
                insert_alerts!(tx, &build(&rows))?;
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            took
        });
        if took > 0 {
            return Ok(None);
        }
        let mut first = None;
        for at in moments {
            if let Some(ack) = self.alarm_acknowledgement(env, *at).await? {
                first = Some(ack);
                break;
            }
        }
        Ok(first)
    }
}
