//! The leader lease (one instance does the singleton work) and the
//! Telegram updates already taken.

use super::{Store, StoreError, now_ms, on_pool};

impl Store {
    /// Takes or renews the lease `name` for `holder` until `ttl_ms` from
    /// now: succeeds when it is free, expired, or already `holder`'s.
    pub async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        ttl_ms: i64,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let sql = "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
                   WHERE leases.holder = excluded.holder OR leases.expires_at < $4";
        let held = on_pool!(self, p => sqlx::query(sql)
            .bind(name)
            .bind(holder)
            .bind(now + ttl_ms)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected() == 1))?;
        Ok(held)
    }

    /// Gives the lease up (a clean stop: the next instance need not wait
    /// for it to expire).
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        let sql = "DELETE FROM leases WHERE name = $1 AND holder = $2";
        on_pool!(self, p => sqlx::query(sql).bind(name).bind(holder).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Who holds the lease now, if anyone does.
    pub async fn lease_holder(&self, name: &str) -> Result<Option<String>, StoreError> {
        let sql = "SELECT holder FROM leases WHERE name = $1 AND expires_at >= $2";
        let row: Option<(String,)> = on_pool!(self, p => sqlx::query_as(sql).bind(name).bind(now_ms()).fetch_optional(p).await)?;
        Ok(row.map(|(h,)| h))
    }

    /// Notes a Telegram update as taken; false when it was taken before.
    pub async fn first_sight(&self, update_id: i64) -> Result<bool, StoreError> {
        let sql = "INSERT INTO telegram_updates (update_id, seen_at) VALUES ($1, $2) \
                   ON CONFLICT (update_id) DO NOTHING";
        let new = on_pool!(self, p => sqlx::query(sql)
            .bind(update_id)
            .bind(now_ms())
            .execute(p)
            .await
            .map(|r| r.rows_affected() == 1))?;
        Ok(new)
    }

    /// Forgets updates taken before `before` (Telegram no longer resends them).
    pub async fn forget_updates(&self, before: i64) -> Result<u64, StoreError> {
        let sql = "DELETE FROM telegram_updates WHERE seen_at < $1";
        let n = on_pool!(self, p => sqlx::query(sql).bind(before).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n)
    }
}
