//! QA's verdicts on a version in an environment.

use sqlx::FromRow;

use super::audit::insert_audit;
use super::outbox::insert_alerts;
use super::{AuditEntry, NewAlert, Store, StoreError, now_ms, on_pool};
use crate::domain::{Env, UserId};

/// QA's verdict on a version in an environment.
#[derive(Debug, Clone, FromRow)]
pub struct VerdictRow {
    pub env: String,
    pub version: String,
    /// `verified` or `issues`.
    pub verdict: String,
    pub user_id: i64,
    pub decided_at: i64,
}

impl Store {
    /// Records a QA verdict on a version in an environment, with its audit
    /// line and alerts.
    pub async fn record_verification(
        &self,
        env: &Env,
        version: &str,
        verified: bool,
        user: UserId,
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<(), StoreError> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(
                "INSERT INTO verifications (env, version, verdict, user_id, decided_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(env.as_str())
            .bind(version)
            .bind(if verified { "verified" } else { "issues" })
            .bind(user.0)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
            insert_audit!(&mut *tx, audit)?;
            insert_alerts!(tx, alerts)?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Whether `version` deployed successfully to `env` and QA's latest
    /// verdict on it there is "verified".
    pub async fn is_verified(&self, env: &Env, version: &str) -> Result<bool, StoreError> {
        let sql = "SELECT \
                   (SELECT COUNT(*) FROM operations WHERE kind IN ('deploy', 'rollback') AND env = $1 \
                    AND version = $2 AND state = 'succeeded'), \
                   (SELECT verdict FROM verifications WHERE env = $1 AND version = $2 ORDER BY id DESC LIMIT 1)";
        let (deployed, verdict): (i64, Option<String>) = on_pool!(self, p => sqlx::query_as(sql).bind(env.as_str()).bind(version).fetch_one(p).await)?;
        Ok(deployed > 0 && verdict.as_deref() == Some("verified"))
    }

    /// QA's latest verdict in each environment.
    pub async fn latest_verdicts(&self) -> Result<Vec<VerdictRow>, StoreError> {
        let sql = "SELECT env, version, verdict, user_id, decided_at FROM verifications \
                   WHERE id IN (SELECT MAX(id) FROM verifications GROUP BY env) ORDER BY env";
        let rows = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows)
    }
}
