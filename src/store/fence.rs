//! Fencing the leader's writes by its lease: a store handed to the
//! singleton work carries the holder's name, and each of its singleton
//! writes first checks, in its own transaction, that the holder still has
//! the leader lease unexpired. A write made by an instance that has lost
//! the lease (cut off from the database while a standby took over, then
//! back) changes nothing. On PostgreSQL the check takes a share lock on
//! the lease row, so a takeover waits for a write already under way and
//! the new leader sees it. Commands and taps use the unfenced store: any
//! instance may take them.

use std::sync::Arc;

use super::Store;

impl Store {
    /// This store, its singleton writes fenced by `holder`'s leader lease.
    pub fn fenced(&self, holder: &str) -> Store {
        Store {
            pool: self.pool.clone(),
            fence: Some(Arc::from(holder)),
            deployments: self.deployments,
        }
    }
}

/// Evaluates to whether the store's fence (if it has one) holds, checked
/// inside the transaction `$tx`; an unfenced store always may write.
macro_rules! fence_holds {
    ($store:expr, $tx:expr) => {{
        match &$store.fence {
            None => true,
            Some(holder) => {
                let sql = crate::store::fence::check_sql($store.backend());
                let held: Option<(String,)> = sqlx::query_as(sql)
                    .bind(crate::leader::LEASE)
                    .bind(holder.as_ref())
                    .bind(crate::store::now_ms())
                    .fetch_optional(&mut *$tx)
                    .await?;
                held.is_some()
            }
        }
    }};
}
pub(crate) use fence_holds;

/// Runs one write `$query` (built for either backend) fenced as above;
/// evaluates to the rows it changed (none when the fence does not hold).
macro_rules! fenced_write {
    ($store:expr, $p:ident => $query:expr) => {{
        on_pool!($store, $p => {
            if $store.fence.is_none() {
                $query.execute($p).await?.rows_affected()
            } else {
                let mut tx = $p.begin().await?;
                if crate::store::fence::fence_holds!($store, tx) {
                    let n = $query.execute(&mut *tx).await?.rows_affected();
                    tx.commit().await?;
                    n
                } else {
                    tx.rollback().await?;
                    0
                }
            }
        })
    }};
}
pub(crate) use fenced_write;

/// The lease check. SQLite: a write that changes nothing, so that the
/// transaction takes the one writer's lock from its start (waiting its
/// turn); a read first would be refused at once when it came to write
/// after another writer.
pub(super) fn check_sql(backend: super::Backend) -> &'static str {
    match backend {
        super::Backend::Sqlite => {
            "UPDATE leases SET holder = holder WHERE name = $1 AND holder = $2 AND expires_at > $3 \
             RETURNING holder"
        }
        super::Backend::Postgres => {
            "SELECT holder FROM leases WHERE name = $1 AND holder = $2 AND expires_at > $3 FOR SHARE"
        }
    }
}
