//! The health monitor's memory: one row per environment, updated by
//! compare-and-set with the alerts the change causes.

use super::outbox::insert_alerts;
use super::{NewAlert, Store, StoreError, now_ms, on_pool};

impl Store {
    /// What the monitor last saw of an environment (JSON) and when.
    pub async fn env_health(&self, env: &str) -> Result<Option<(String, i64)>, StoreError> {
        let sql = "SELECT state, updated_at FROM env_health WHERE env = $1";
        let row = on_pool!(self, p => sqlx::query_as(sql).bind(env).fetch_optional(p).await)?;
        Ok(row)
    }

    /// Stores the monitor's new view with its alerts, if nobody stored
    /// another since `seen_at` (the view this one was computed from); and
    /// with them, when the environment deployed itself, that deploy (of
    /// this version) as a succeeded operation. Returns whether this call
    /// stored it.
    pub async fn save_env_health(
        &self,
        env: &str,
        seen_at: Option<i64>,
        state: &str,
        alerts: &[NewAlert],
        auto_deployed: Option<&str>,
    ) -> Result<bool, StoreError> {
        let now = now_ms().max(seen_at.unwrap_or(0) + 1);
        let saved = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let saved = match seen_at {
                None => sqlx::query(
                    "INSERT INTO env_health (env, state, updated_at) VALUES ($1, $2, $3) ON CONFLICT (env) DO NOTHING",
                )
                .bind(env)
                .bind(state)
                .bind(now)
                .execute(&mut *tx)
                .await?,
                Some(at) => sqlx::query(
                    "UPDATE env_health SET state = $2, updated_at = $3 WHERE env = $1 AND updated_at = $4",
                )
                .bind(env)
                .bind(state)
                .bind(now)
                .bind(at)
                .execute(&mut *tx)
                .await?,
            }
            .rows_affected()
                == 1;
            if saved {
                if let Some(version) = auto_deployed {
                    sqlx::query(
                        "INSERT INTO operations (kind, env, version, state, requested_by, chat_id, request_id, \
                         detail, created_at, updated_at, dispatched_at) \
                         VALUES ('deploy', $1, $2, 'succeeded', 0, 0, $3, 'deployed automatically', $4, $4, $4)",
                    )
                    .bind(env)
                    .bind(version)
                    .bind(uuid::Uuid::new_v4().to_string())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                insert_alerts!(tx, alerts)?;
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            saved
        });
        Ok(saved)
    }
}
