//! Mutes: a chat's pause on one alert kind or one environment.

use sqlx::FromRow;

use super::audit::insert_audit;
use super::{AuditEntry, Store, StoreError, now_ms, on_pool};

/// A mute in force.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct MuteRow {
    pub chat_id: i64,
    pub target: String,
    pub until: i64,
    pub muted_by: i64,
    pub spare_env: Option<String>,
}

impl Store {
    /// Mutes `target` in a chat until `until` (replacing a mute of it).
    pub async fn mute(&self, mute: &MuteRow, audit: &AuditEntry) -> Result<(), StoreError> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            // One statement: two mutes of the same target at once cannot
            // collide (a delete-then-insert could, on PostgreSQL).
            sqlx::query(
                "INSERT INTO mutes (chat_id, target, until, muted_by, spare_env) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (chat_id, target) DO UPDATE SET until = excluded.until, \
                 muted_by = excluded.muted_by, spare_env = excluded.spare_env",
            )
            .bind(mute.chat_id)
            .bind(&mute.target)
            .bind(mute.until)
            .bind(mute.muted_by)
            .bind(&mute.spare_env)
            .execute(&mut *tx)
            .await?;
            insert_audit!(&mut *tx, audit)?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Lifts a mute; returns whether one was in force.
    pub async fn unmute(
        &self,
        chat: i64,
        target: &str,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let lifted = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let lifted = sqlx::query("DELETE FROM mutes WHERE chat_id = $1 AND target = $2 AND until > $3")
                .bind(chat)
                .bind(target)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            insert_audit!(&mut *tx, audit)?;
            tx.commit().await?;
            lifted
        });
        Ok(lifted)
    }

    /// The mutes in force in a chat.
    pub async fn mutes_of(&self, chat: i64) -> Result<Vec<MuteRow>, StoreError> {
        let sql = "SELECT chat_id, target, until, muted_by, spare_env FROM mutes \
                   WHERE chat_id = $1 AND until > $2 ORDER BY target";
        let rows =
            on_pool!(self, p => sqlx::query_as(sql).bind(chat).bind(now_ms()).fetch_all(p).await)?;
        Ok(rows)
    }
}
