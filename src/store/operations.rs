//! Operations, their approvals, environment locks and QA verdicts. Every
//! state change is a compare-and-set on the operation's row, made in the
//! same transaction as its audit line and alerts: two taps at once, or two
//! bot instances, get exactly one outcome.

use sqlx::FromRow;

use super::audit::insert_audit;
use super::outbox::insert_alerts;
use super::{AuditEntry, NewAlert, Store, StoreError, now_ms, on_pool};
use crate::domain::{OperationId, OperationState, UserId};

/// An operation as stored.
#[derive(Debug, Clone, FromRow)]
pub struct OperationRow {
    pub id: i64,
    pub kind: String,
    pub env: Option<String>,
    pub version: String,
    pub release_type: Option<String>,
    pub state: String,
    pub requested_by: i64,
    pub chat_id: i64,
    pub request_id: String,
    pub run_id: Option<i64>,
    pub run_url: Option<String>,
    /// What the operation rested on or ended with (a reason, the version
    /// running when a deploy was asked for).
    pub detail: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: Option<i64>,
    /// When the workflow was dispatched (or, for an adopted run, seen).
    pub dispatched_at: Option<i64>,
    /// A rollback that runs directly on ECS, not through the workflow.
    pub direct_ecs: bool,
}

impl OperationRow {
    /// The version that ran in the environment when the operation was
    /// asked for (its detail starts `running=X`), if known.
    pub fn ran_before(&self) -> Option<&str> {
        self.detail
            .as_deref()
            .and_then(|d| d.split(" · ").next())
            .and_then(|d| d.strip_prefix("running="))
    }

    pub fn state(&self) -> OperationState {
        OperationState::parse(&self.state).unwrap_or(OperationState::Failed)
    }
}

/// The states of an operation that is not over (SQL), in step with
/// `OperationState::is_final` and the migrations' one-live indexes.
macro_rules! live_states {
    () => {
        "('requested', 'awaiting_approval', 'approved', 'dispatched', 'running', 'confirming')"
    };
}

macro_rules! operation_columns {
    () => {
        "id, kind, env, version, release_type, state, requested_by, chat_id, request_id, run_id, run_url, \
         detail, created_at, updated_at, expires_at, dispatched_at, direct_ecs"
    };
}

macro_rules! select_operations {
    ($($rest:expr),+) => {
        concat!("SELECT ", operation_columns!(), " FROM operations ", $($rest),+)
    };
}
pub(super) use {live_states, operation_columns, select_operations};

/// Ends the transaction `$tx` that inserted an operation (`$inserted`, the
/// insert's `RETURNING id`): its audit line and alerts written with it and
/// committed, `Some(id)`; or rolled back, `None`, when a unique index
/// refused the row. Other errors return from the calling function.
macro_rules! commit_new_operation {
    ($tx:ident, $inserted:expr, $audit:expr, $alerts:expr) => {
        match $inserted {
            Err(e) if is_unique_violation(&e) => {
                $tx.rollback().await?;
                None
            }
            Err(e) => return Err(e.into()),
            Ok((id,)) => {
                let id = OperationId(id);
                let audit = AuditEntry {
                    operation: Some(id),
                    ..$audit.clone()
                };
                insert_audit!(&mut *$tx, &audit)?;
                let alerts: Vec<NewAlert> = $alerts.iter().map(|a| with_op(a, id)).collect();
                insert_alerts!($tx, &alerts)?;
                $tx.commit().await?;
                Some(id)
            }
        }
    };
}
pub(super) use commit_new_operation;

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

/// A new operation, before it is stored.
#[derive(Debug, Clone)]
pub struct NewOperation {
    pub kind: &'static str,
    pub env: Option<String>,
    pub version: String,
    pub release_type: Option<String>,
    pub state: OperationState,
    pub requested_by: UserId,
    pub chat_id: i64,
    pub request_id: String,
    /// How long, in milliseconds from its creation, a decision may take.
    pub expires_in_ms: Option<i64>,
    pub detail: Option<String>,
    /// The run, when the operation is made for one already started.
    pub run: Option<(i64, String)>,
    /// A rollback that runs directly on ECS (GitHub was unreachable).
    pub direct_ecs: bool,
}

/// What became of a request to create an operation.
#[derive(Debug, Clone)]
pub enum Created {
    New(OperationId),
    /// The environment already has an operation in flight (the database's
    /// one-live-operation-per-environment index said so).
    Busy,
}

/// Proof that this caller, and no other, moved an operation to
/// `dispatched`: only [`Store::claim_dispatch`] and [`Store::decide`] make
/// one, and dispatching takes it by value.
#[derive(Debug)]
pub struct DispatchClaim {
    pub operation: OperationRow,
}

/// Moves operation `$1` from `$from` to `dispatched` at `$2` (now),
/// returning its row from the write itself (RETURNING, on both backends).
macro_rules! claim_from {
    ($from:literal) => {
        concat!(
            "UPDATE operations SET state = 'dispatched', updated_at = $2, dispatched_at = $2 \
             WHERE id = $1 AND state = '",
            $from,
            "' RETURNING ",
            operation_columns!()
        )
    };
}

pub(super) use claim_from;

/// The audit line of a dispatch's claim.
pub(super) fn claim_audit(id: OperationId) -> AuditEntry {
    AuditEntry {
        actor: None,
        chat: None,
        action: "dispatch:claim".into(),
        outcome: "claimed".into(),
        operation: Some(id),
        detail: String::new(),
    }
}

pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

impl Store {
    /// Operations that are not over yet, oldest first.
    pub async fn live_operations(&self) -> Result<Vec<OperationRow>, StoreError> {
        let sql = select_operations!("WHERE state IN ", live_states!(), " ORDER BY id");
        let rows = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows)
    }

    /// One operation.
    pub async fn operation(&self, id: OperationId) -> Result<Option<OperationRow>, StoreError> {
        let sql = select_operations!("WHERE id = $1");
        let row = on_pool!(self, p => sqlx::query_as(sql).bind(id.0).fetch_optional(p).await)?;
        Ok(row)
    }

    /// Every operation, oldest first (history, tests).
    pub async fn all_operations(&self) -> Result<Vec<OperationRow>, StoreError> {
        let sql = select_operations!("ORDER BY id");
        let rows = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows)
    }

    /// The operation a workflow run belongs to, by the run's id.
    pub async fn operation_by_run(&self, run_id: i64) -> Result<Option<OperationRow>, StoreError> {
        let sql = select_operations!("WHERE run_id = $1");
        let row = on_pool!(self, p => sqlx::query_as(sql).bind(run_id).fetch_optional(p).await)?;
        Ok(row)
    }

    /// The operation with this request id.
    pub async fn operation_by_request(
        &self,
        request_id: &str,
    ) -> Result<Option<OperationRow>, StoreError> {
        let sql = select_operations!("WHERE request_id = $1");
        let row =
            on_pool!(self, p => sqlx::query_as(sql).bind(request_id).fetch_optional(p).await)?;
        Ok(row)
    }

    /// Requests whose approval prompt has expired undecided.
    pub async fn expired_requests(&self) -> Result<Vec<OperationRow>, StoreError> {
        let sql = select_operations!(
            "WHERE state = 'awaiting_approval' AND expires_at IS NOT NULL AND expires_at <= $1 ORDER BY id"
        );
        let rows = on_pool!(self, p => sqlx::query_as(sql).bind(now_ms()).fetch_all(p).await)?;
        Ok(rows)
    }

    /// Approved operations nobody claimed for dispatch since `before`
    /// (the bot stopped between approval and dispatch).
    pub async fn stranded_approvals(&self, before: i64) -> Result<Vec<OperationRow>, StoreError> {
        let sql = select_operations!("WHERE state = 'approved' AND updated_at <= $1 ORDER BY id");
        let rows = on_pool!(self, p => sqlx::query_as(sql).bind(before).fetch_all(p).await)?;
        Ok(rows)
    }

    /// Operations waiting on their workflow run (dispatched or running).
    pub async fn followed_operations(&self) -> Result<Vec<OperationRow>, StoreError> {
        let sql = select_operations!("WHERE state IN ('dispatched', 'running') ORDER BY id");
        let rows = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows)
    }

    /// How many operations there are of each kind and state.
    pub async fn operation_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let sql = "SELECT kind, state, COUNT(*) FROM operations GROUP BY kind, state ORDER BY kind, state";
        let rows = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows)
    }

    /// What the delivery figures of `env` since `since_ms` rest on, oldest
    /// first: the environment's operations that reached their state since
    /// then, and the successful releases of the versions deployed there
    /// since then (for the lead time). Bounded by the window, not by the
    /// history: two index look-ups (migration 0012).
    pub async fn delivery_facts(
        &self,
        env: &str,
        since_ms: i64,
    ) -> Result<Vec<crate::domain::dora::Fact>, StoreError> {
        let sql = "SELECT id, kind, env, version, state, updated_at FROM operations \
                   WHERE env = $1 AND updated_at >= $2 \
                   UNION ALL \
                   SELECT id, kind, env, version, state, updated_at FROM operations \
                   WHERE kind = 'release' AND state = 'succeeded' AND version IN ( \
                       SELECT version FROM operations \
                       WHERE env = $1 AND updated_at >= $2 AND kind = 'deploy' AND state = 'succeeded') \
                   ORDER BY id";
        type Row = (i64, String, Option<String>, String, String, i64);
        let rows: Vec<Row> = on_pool!(self, p => {
            sqlx::query_as(sql).bind(env).bind(since_ms).fetch_all(p).await
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(_, kind, env, version, state, at)| crate::domain::dora::Fact {
                    kind,
                    env,
                    version,
                    state,
                    at,
                },
            )
            .collect())
    }

    /// Deploys and rollbacks whose run succeeded, being confirmed on ECS.
    pub async fn confirming_operations(&self) -> Result<Vec<OperationRow>, StoreError> {
        let sql = select_operations!("WHERE state = 'confirming' ORDER BY id");
        let rows = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows)
    }

    /// Moves an operation from one of `from` to `to` (compare-and-set),
    /// noting its run when given (an operation that has another run does
    /// not move), with the audit line and alerts — all or nothing.
    /// Returns whether this call moved it.
    #[allow(clippy::too_many_arguments)]
    pub async fn advance(
        &self,
        id: OperationId,
        from: &[OperationState],
        to: OperationState,
        run: Option<(i64, &str)>,
        detail: Option<&str>,
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<bool, StoreError> {
        self.advance_locking(id, from, to, run, detail, audit, alerts, None)
            .await
    }

    /// Enqueues alerts about an operation only while it is in one of
    /// `states` (a progress edit must not land after the outcome's).
    /// Returns whether they were enqueued.
    pub async fn enqueue_while(
        &self,
        id: OperationId,
        states: &[OperationState],
        alerts: &[NewAlert],
    ) -> Result<bool, StoreError> {
        // The states are our own constants, never user input.
        let list: Vec<String> = states.iter().map(|s| format!("'{}'", s.as_str())).collect();
        // A write that changes nothing, to hold the row against a move.
        let sql = format!(
            "UPDATE operations SET state = state WHERE id = $1 AND state IN ({})",
            list.join(", ")
        );
        let held = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let held = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(id.0)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if held {
                insert_alerts!(tx, alerts)?;
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            held
        });
        Ok(held)
    }

    /// [`Self::advance`], locking an environment in the same transaction
    /// when it moves (replacing a lock held there).
    #[allow(clippy::too_many_arguments)]
    pub async fn advance_locking(
        &self,
        id: OperationId,
        from: &[OperationState],
        to: OperationState,
        run: Option<(i64, &str)>,
        detail: Option<&str>,
        audit: &AuditEntry,
        alerts: &[NewAlert],
        lock: Option<&NewLock>,
    ) -> Result<bool, StoreError> {
        // The states are our own constants, never user input.
        let from_list: Vec<String> = from.iter().map(|s| format!("'{}'", s.as_str())).collect();
        // A run once attached is never replaced: a move that names
        // another run does not happen.
        let sql = format!(
            "UPDATE operations SET state = $2, run_id = COALESCE(run_id, $3), run_url = COALESCE(run_url, $4), \
             detail = COALESCE($5, detail), updated_at = $6 WHERE id = $1 AND state IN ({}){}",
            from_list.join(", "),
            if run.is_some() {
                " AND (run_id IS NULL OR run_id = $3)"
            } else {
                ""
            }
        );
        let moved = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let moved = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(id.0)
                .bind(to.as_str())
                .bind(run.map(|r| r.0))
                .bind(run.map(|r| r.1.to_owned()))
                .bind(detail)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if moved {
                if let Some(lock) = lock {
                    let now = now_ms();
                    sqlx::query("DELETE FROM env_locks WHERE env = $1")
                        .bind(&lock.env)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "INSERT INTO env_locks (env, locked_by, reason, locked_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&lock.env)
                    .bind(lock.locked_by.0)
                    .bind(&lock.reason)
                    .bind(now)
                    .bind(lock.lasts_ms.map(|ms| now + ms))
                    .execute(&mut *tx)
                    .await?;
                }
                insert_audit!(&mut *tx, audit)?;
                insert_alerts!(tx, alerts)?;
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            moved
        });
        Ok(moved)
    }

    /// Locks an environment, with the audit line and alerts, unless a lock
    /// is in force there: then nothing changes and that lock is returned.
    pub async fn lock_env(
        &self,
        lock: &NewLock,
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<Option<LockRow>, StoreError> {
        let now = now_ms();
        let held = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            // A lock whose time is up no longer holds (the lifter may not
            // have passed yet).
            sqlx::query("DELETE FROM env_locks WHERE env = $1 AND expires_at IS NOT NULL AND expires_at <= $2")
                .bind(&lock.env)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let inserted = sqlx::query(
                "INSERT INTO env_locks (env, locked_by, reason, locked_at, expires_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (env) DO NOTHING",
            )
            .bind(&lock.env)
            .bind(lock.locked_by.0)
            .bind(&lock.reason)
            .bind(now)
            .bind(lock.lasts_ms.map(|ms| now + ms))
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if inserted {
                insert_audit!(&mut *tx, audit)?;
                insert_alerts!(tx, alerts)?;
                tx.commit().await?;
                None
            } else {
                let held: LockRow = sqlx::query_as(
                    "SELECT env, locked_by, reason, locked_at, expires_at FROM env_locks WHERE env = $1",
                )
                .bind(&lock.env)
                .fetch_one(&mut *tx)
                .await?;
                tx.rollback().await?;
                Some(held)
            }
        });
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

    /// Stores a new operation with its audit line and alerts. The alerts'
    /// keys may contain `{op}`, replaced by the new operation's id.
    pub async fn create_operation(
        &self,
        op: &NewOperation,
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<Created, StoreError> {
        let now = now_ms();
        let created = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
                "INSERT INTO operations (kind, env, version, release_type, state, requested_by, chat_id, \
                 request_id, created_at, updated_at, expires_at, detail, run_id, run_url, direct_ecs) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13, $14) RETURNING id",
            )
            .bind(op.kind)
            .bind(&op.env)
            .bind(&op.version)
            .bind(&op.release_type)
            .bind(op.state.as_str())
            .bind(op.requested_by.0)
            .bind(op.chat_id)
            .bind(&op.request_id)
            .bind(now)
            .bind(op.expires_in_ms.map(|ms| now + ms))
            .bind(&op.detail)
            .bind(op.run.as_ref().map(|r| r.0))
            .bind(op.run.as_ref().map(|r| r.1.clone()))
            .bind(op.direct_ecs)
            .fetch_one(&mut *tx)
            .await;
            match commit_new_operation!(tx, inserted, audit, alerts) {
                Some(id) => Created::New(id),
                None => Created::Busy,
            }
        });
        Ok(created)
    }

    /// Moves an operation from `approved` to `dispatched`, with its audit
    /// line; the one caller that succeeds gets the claim that dispatching
    /// needs.
    pub async fn claim_dispatch(
        &self,
        id: OperationId,
    ) -> Result<Option<DispatchClaim>, StoreError> {
        let audit = claim_audit(id);
        let claimed: Option<OperationRow> = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let claimed = sqlx::query_as(claim_from!("approved"))
                .bind(id.0)
                .bind(now_ms())
                .fetch_optional(&mut *tx)
                .await?;
            if claimed.is_some() {
                insert_audit!(&mut *tx, &audit)?;
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            claimed
        });
        Ok(claimed.map(|operation| DispatchClaim { operation }))
    }

    /// Claims again a direct ECS rollback left `dispatched` since before
    /// `before` (the bot stopped between its claim and ECS's answer):
    /// pointing a service at a task definition again changes nothing, so
    /// unlike a workflow dispatch it may be redone. The claim's time is
    /// renewed, so one caller at a time gets it.
    pub async fn reclaim_direct(
        &self,
        id: OperationId,
        before: i64,
    ) -> Result<Option<DispatchClaim>, StoreError> {
        let sql = concat!(
            "UPDATE operations SET updated_at = $2, dispatched_at = $2 \
             WHERE id = $1 AND state = 'dispatched' AND direct_ecs AND updated_at <= $3 RETURNING ",
            operation_columns!()
        );
        let audit = AuditEntry {
            outcome: "reclaimed".into(),
            ..claim_audit(id)
        };
        let claimed: Option<OperationRow> = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let claimed = sqlx::query_as(sql)
                .bind(id.0)
                .bind(now_ms())
                .bind(before)
                .fetch_optional(&mut *tx)
                .await?;
            if claimed.is_some() {
                insert_audit!(&mut *tx, &audit)?;
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            claimed
        });
        Ok(claimed.map(|operation| DispatchClaim { operation }))
    }

    /// Records the run a dispatch started (when GitHub told us), with the
    /// audit line and alerts.
    pub async fn record_dispatch(
        &self,
        id: OperationId,
        run_id: Option<i64>,
        run_url: Option<&str>,
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<(), StoreError> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            // The run may be known already (its webhook came first); a
            // run once attached is never replaced.
            sqlx::query(
                "UPDATE operations SET run_id = COALESCE(run_id, $2), run_url = COALESCE(run_url, $3), \
                 updated_at = $4 WHERE id = $1",
            )
            .bind(id.0)
            .bind(run_id)
            .bind(run_url)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
            insert_audit!(&mut *tx, audit)?;
            // "Started" is news only while the run has not ended: an
            // outcome told first is not overwritten by it.
            let (live,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM operations WHERE id = $1 AND state IN ('dispatched', 'running')",
            )
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await?;
            if live > 0 {
                insert_alerts!(tx, alerts)?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Records a QA verdict on a version in an environment, with its audit
    /// line and alerts.
    pub async fn record_verification(
        &self,
        env: &str,
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
            .bind(env)
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
    pub async fn is_verified(&self, env: &str, version: &str) -> Result<bool, StoreError> {
        let sql = "SELECT \
                   (SELECT COUNT(*) FROM operations WHERE kind IN ('deploy', 'rollback') AND env = $1 \
                    AND version = $2 AND state = 'succeeded'), \
                   (SELECT verdict FROM verifications WHERE env = $1 AND version = $2 ORDER BY id DESC LIMIT 1)";
        let (deployed, verdict): (i64, Option<String>) =
            on_pool!(self, p => sqlx::query_as(sql).bind(env).bind(version).fetch_one(p).await)?;
        Ok(deployed > 0 && verdict.as_deref() == Some("verified"))
    }
    /// The successful deploys and rollbacks of an environment, newest
    /// first, at most `n`: what ran there, and when it was confirmed.
    pub async fn succeeded_in(&self, env: &str, n: i64) -> Result<Vec<OperationRow>, StoreError> {
        let sql = select_operations!(
            "WHERE env = $1 AND kind IN ('deploy', 'rollback') AND state = 'succeeded' \
             ORDER BY id DESC LIMIT $2"
        );
        let rows = on_pool!(self, p => sqlx::query_as(sql).bind(env).bind(n).fetch_all(p).await)?;
        Ok(rows)
    }

    /// Notes what ran in the operation's environment before it (see
    /// [`OperationRow::ran_before`]), unless already noted; whatever the
    /// detail says already is kept after it.
    pub async fn note_ran_before(&self, id: OperationId, tag: &str) -> Result<(), StoreError> {
        let sql = "UPDATE operations SET detail = 'running=' || $2 || COALESCE(' · ' || detail, '') \
                   WHERE id = $1 AND (detail IS NULL OR detail NOT LIKE 'running=%')";
        on_pool!(self, p => sqlx::query(sql).bind(id.0).bind(tag).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// The last operations, newest first, of one environment or all.
    pub async fn history(
        &self,
        env: Option<&str>,
        n: i64,
    ) -> Result<Vec<OperationRow>, StoreError> {
        let rows = match env {
            Some(env) => {
                let sql = select_operations!("WHERE env = $1 ORDER BY id DESC LIMIT $2");
                on_pool!(self, p => sqlx::query_as(sql).bind(env).bind(n).fetch_all(p).await)?
            }
            None => {
                let sql = select_operations!("ORDER BY id DESC LIMIT $1");
                on_pool!(self, p => sqlx::query_as(sql).bind(n).fetch_all(p).await)?
            }
        };
        Ok(rows)
    }

    /// The latest successful deploy or rollback of each of `envs`, oldest
    /// first. One look-up per environment on `operations_succeeded_by_env`:
    /// as fast with a million operations as with ten.
    pub async fn last_deploys(&self, envs: &[&str]) -> Result<Vec<OperationRow>, StoreError> {
        let sql = select_operations!(
            "WHERE env = $1 AND state = 'succeeded' AND kind IN ('deploy', 'rollback') \
             ORDER BY id DESC LIMIT 1"
        );
        let mut rows = Vec::new();
        for env in envs {
            let row: Option<OperationRow> =
                on_pool!(self, p => sqlx::query_as(sql).bind(env).fetch_optional(p).await)?;
            rows.extend(row);
        }
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    /// QA's latest verdict in each environment.
    pub async fn latest_verdicts(&self) -> Result<Vec<VerdictRow>, StoreError> {
        let sql = "SELECT env, version, verdict, user_id, decided_at FROM verifications \
                   WHERE id IN (SELECT MAX(id) FROM verifications GROUP BY env) ORDER BY env";
        let rows = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows)
    }

    /// Records that a version runs successfully in an environment, outside
    /// any operation of the bot's (a deploy the bot saw but did not start).
    pub async fn record_succeeded_deploy(
        &self,
        env: &str,
        version: &str,
        by: UserId,
    ) -> Result<OperationId, StoreError> {
        let now = now_ms();
        let (id,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO operations (kind, env, version, state, requested_by, chat_id, request_id, created_at, updated_at) \
             VALUES ('deploy', $1, $2, 'succeeded', $3, 0, $4, $5, $5) RETURNING id",
        )
        .bind(env)
        .bind(version)
        .bind(by.0)
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(now)
        .fetch_one(p)
        .await)?;
        Ok(OperationId(id))
    }
}

/// An alert whose keys name the operation: `{op}` becomes its id.
pub(super) fn with_op(alert: &NewAlert, id: OperationId) -> NewAlert {
    let op = id.0.to_string();
    NewAlert {
        dedup_key: alert.dedup_key.replace("{op}", &op),
        edit_of: alert.edit_of.as_ref().map(|k| k.replace("{op}", &op)),
        buttons: alert.buttons.as_ref().map(|b| b.replace("{op}", &op)),
        text: alert.text.replace("{op}", &op),
        ..alert.clone()
    }
}
