//! Strangers' answers: when the bot last answered a chat or a sender it
//! does not serve, so each is answered at most once a window, whichever
//! instance takes its commands and however often the bot restarts.

use super::{Store, StoreError, on_pool};

impl Store {
    /// Whether a stranger's command is answered now: yes when `key`
    /// (chat, user; user 0 for a whole chat) has had no answer since
    /// `since` (Unix ms), and then `now` is noted as its answer; no
    /// otherwise, and the command is counted as left unanswered. One
    /// statement: two instances taking the same stranger's commands at
    /// once answer one of them.
    pub async fn answer_stranger(
        &self,
        key: (i64, i64),
        now: i64,
        since: i64,
    ) -> Result<bool, StoreError> {
        // Every SET reads the row as it was: `quiet` is reset exactly when
        // `answered_at` moves on.
        let sql = "INSERT INTO stranger_answers (chat_id, user_id, answered_at, quiet) \
                   VALUES ($1, $2, $3, 0) \
                   ON CONFLICT (chat_id, user_id) DO UPDATE SET \
                   quiet = CASE WHEN stranger_answers.answered_at < $4 THEN 0 \
                                ELSE stranger_answers.quiet + 1 END, \
                   answered_at = CASE WHEN stranger_answers.answered_at < $4 \
                                THEN excluded.answered_at ELSE stranger_answers.answered_at END \
                   RETURNING quiet";
        let (quiet,): (i64,) = on_pool!(self, p => sqlx::query_as(sql)
            .bind(key.0)
            .bind(key.1)
            .bind(now)
            .bind(since)
            .fetch_one(p)
            .await)?;
        Ok(quiet == 0)
    }

    /// The commands of `key` left unanswered since its last answer, if
    /// it was ever answered.
    pub async fn stranger_quiet(&self, key: (i64, i64)) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT quiet FROM stranger_answers WHERE chat_id = $1 AND user_id = $2";
        let row: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(sql)
            .bind(key.0)
            .bind(key.1)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(|(n,)| n))
    }

    /// Moves every stranger's last answer `by_ms` into the past, as if
    /// that long had gone by (tests, and an operator who wants a stranger
    /// told again at once).
    pub async fn age_stranger_answers(&self, by_ms: i64) -> Result<u64, StoreError> {
        let sql = "UPDATE stranger_answers SET answered_at = answered_at - $1";
        let n = on_pool!(self, p => sqlx::query(sql).bind(by_ms).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n)
    }

    /// Forgets strangers last answered before `before`, at most `limit`
    /// of them (their next command is answered either way). Returns how
    /// many.
    pub async fn forget_strangers(&self, before: i64, limit: i64) -> Result<u64, StoreError> {
        let sql = "DELETE FROM stranger_answers WHERE (chat_id, user_id) IN ( \
                     SELECT chat_id, user_id FROM stranger_answers WHERE answered_at < $1 \
                     ORDER BY answered_at LIMIT $2)";
        let n = on_pool!(self, p => sqlx::query(sql).bind(before).bind(limit).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n)
    }
}
