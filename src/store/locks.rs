//! Environment locks: taken, lifted (by hand or when their time is up),
//! recalled to the team.

use sqlx::FromRow;

use super::audit::insert_audit;
use super::outbox::insert_alerts;
use super::{AuditEntry, NewAlert, Store, StoreError, now_ms, on_pool};
use crate::domain::UserId;

/// A compare-and-set in one transaction: runs `$query` (a `sqlx::query`
/// with its binds, built anew for each backend); when it changed exactly one row, writes the audit
/// line and alerts and commits, else rolls back. Evaluates to whether it
/// moved.
macro_rules! cas {
    ($store:expr, $query:expr, $audit:expr, $alerts:expr) => {
        on_pool!($store, p => {
            let mut tx = p.begin().await?;
            let moved = $query.execute(&mut *tx).await?.rows_affected() == 1;
            if moved {
                insert_audit!(&mut *tx, $audit)?;
                insert_alerts!(tx, $alerts)?;
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            moved
        })
    };
}
pub(super) use cas;

/// Takes a row keyed by scope unless one is in force there, in one
/// transaction: `$sweep` drops the scope's row whose time is up, `$insert`
/// (`ON CONFLICT DO NOTHING`) takes it; taken, the audit line and alerts
/// are written and it evaluates to `None`; held, nothing changes and it
/// evaluates to `Some` of the row in force, read by `$held`.
macro_rules! take_unless_held {
    ($store:expr, $sweep:expr, $insert:expr, $held:expr, $audit:expr, $alerts:expr) => {
        on_pool!($store, p => {
            let mut tx = p.begin().await?;
            $sweep.execute(&mut *tx).await?;
            if $insert.execute(&mut *tx).await?.rows_affected() == 1 {
                insert_audit!(&mut *tx, $audit)?;
                insert_alerts!(tx, $alerts)?;
                tx.commit().await?;
                None
            } else {
                let held = $held.fetch_one(&mut *tx).await?;
                tx.rollback().await?;
                Some(held)
            }
        })
    };
}
pub(super) use take_unless_held;

/// A held environment lock.
#[derive(Debug, Clone, FromRow)]
pub struct LockRow {
    pub env: String,
    pub locked_by: i64,
    pub reason: String,
    pub locked_at: i64,
    pub expires_at: Option<i64>,
}

/// A lock to take.
#[derive(Debug, Clone)]
pub struct NewLock {
    pub env: String,
    pub locked_by: UserId,
    pub reason: String,
    /// How long it holds before it lifts itself (ms); `None`: until
    /// unlocked (recalled to the team meanwhile).
    pub lasts_ms: Option<i64>,
}

/// Replaces the lock of `lock.env` inside the transaction `$tx` (a lock a
/// move of an operation takes with it, e.g. after a rollback).
macro_rules! replace_lock {
    ($tx:ident, $lock:expr) => {{
        let lock: &crate::store::NewLock = $lock;
        let now = crate::store::now_ms();
        sqlx::query("DELETE FROM env_locks WHERE env = $1")
            .bind(&lock.env)
            .execute(&mut *$tx)
            .await?;
        sqlx::query(
            "INSERT INTO env_locks (env, locked_by, reason, locked_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&lock.env)
        .bind(lock.locked_by.0)
        .bind(&lock.reason)
        .bind(now)
        .bind(lock.lasts_ms.map(|ms| now + ms))
        .execute(&mut *$tx)
        .await?;
    }};
}
pub(super) use replace_lock;

impl Store {
    /// Locks an environment, with the audit line and alerts, unless a lock
    /// is in force there: then nothing changes and that lock is returned.
    pub async fn lock_env(
        &self,
        lock: &NewLock,
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<Option<LockRow>, StoreError> {
        let now = now_ms();
        // A lock whose time is up no longer holds (the lifter may not have
        // passed yet).
        let sweep =
            "DELETE FROM env_locks WHERE env = $1 AND expires_at IS NOT NULL AND expires_at <= $2";
        let insert = "INSERT INTO env_locks (env, locked_by, reason, locked_at, expires_at) \
                      VALUES ($1, $2, $3, $4, $5) ON CONFLICT (env) DO NOTHING";
        let held =
            "SELECT env, locked_by, reason, locked_at, expires_at FROM env_locks WHERE env = $1";
        let held = take_unless_held!(
            self,
            sqlx::query(sweep).bind(&lock.env).bind(now),
            sqlx::query(insert)
                .bind(&lock.env)
                .bind(lock.locked_by.0)
                .bind(&lock.reason)
                .bind(now)
                .bind(lock.lasts_ms.map(|ms| now + ms)),
            sqlx::query_as::<_, LockRow>(held).bind(&lock.env),
            audit,
            alerts
        );
        Ok(held)
    }

    /// Lifts the lock of an environment, if `locked_at` still names it
    /// (compare-and-set: an unlock, the lifter and a new lock race), with
    /// the audit line and alerts. Returns whether this call lifted it.
    pub async fn unlock_env(
        &self,
        env: &str,
        locked_at: i64,
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<bool, StoreError> {
        let sql = "DELETE FROM env_locks WHERE env = $1 AND locked_at = $2";
        Ok(cas!(
            self,
            sqlx::query(sql).bind(env).bind(locked_at),
            audit,
            alerts
        ))
    }

    /// Every lock row, whether or not its time is up (the lifter's view).
    pub async fn all_locks(&self) -> Result<Vec<LockRow>, StoreError> {
        let sql =
            "SELECT env, locked_by, reason, locked_at, expires_at FROM env_locks ORDER BY env";
        let rows = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows)
    }

    /// Notes a reminder about a lock, with its alert, once per `every`:
    /// only when the last reminder (or the lock) is older than `before`.
    pub async fn remind_lock(
        &self,
        env: &str,
        locked_at: i64,
        before: i64,
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE env_locks SET reminded_at = $3 WHERE env = $1 AND locked_at = $2 \
                   AND COALESCE(reminded_at, locked_at) <= $4";
        let now = now_ms();
        Ok(cas!(
            self,
            sqlx::query(sql)
                .bind(env)
                .bind(locked_at)
                .bind(now)
                .bind(before),
            audit,
            alerts
        ))
    }

    /// Locks still in force.
    pub async fn active_locks(&self) -> Result<Vec<LockRow>, StoreError> {
        let sql = "SELECT env, locked_by, reason, locked_at, expires_at FROM env_locks \
                   WHERE expires_at IS NULL OR expires_at > $1 ORDER BY env";
        let rows = on_pool!(self, p => sqlx::query_as(sql).bind(now_ms()).fetch_all(p).await)?;
        Ok(rows)
    }
}
