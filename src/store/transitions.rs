//! Moving an operation: one compare-and-set per move, checked against the
//! state machine (`OperationState::can_become`) before it is written, with
//! its audit line, alerts (and a lock, when the move takes one) in the same
//! transaction; and the claim a dispatch needs.

use super::audit::insert_audit;
use super::deployments::queue_deployment_steps;
use super::fence::fence_holds;
use super::locks::replace_lock;
use super::operations::{OperationRow, operation_columns};
use super::outbox::insert_alerts;
use super::{AuditEntry, NewAlert, NewLock, Store, StoreError, now_ms, on_pool};
use crate::domain::{Env, OperationId, OperationKind, OperationState};

/// Proof that this caller, and no other, moved an operation to
/// `dispatched`: only [`Store::claim_dispatch`], [`Store::reclaim_direct`]
/// and [`Store::decide`] make one (its field is private to the store), and
/// dispatching takes it by value.
#[derive(Debug)]
pub struct DispatchClaim {
    operation: OperationRow,
}

impl DispatchClaim {
    pub(super) fn new(operation: OperationRow) -> Self {
        Self { operation }
    }

    /// The operation as the claim's write left it.
    pub fn operation(&self) -> &OperationRow {
        &self.operation
    }

    /// The operation, the claim spent.
    pub fn into_operation(self) -> OperationRow {
        self.operation
    }
}

/// A claim of an approved operation ([`Store::claim_dispatch`]).
pub(super) const CLAIM_APPROVED: (OperationState, OperationState) =
    (OperationState::Approved, OperationState::Dispatched);
/// The last approval needed, approving and claiming in one write
/// ([`Store::decide`]).
pub(super) const CLAIM_ON_APPROVAL: (OperationState, OperationState) =
    (OperationState::AwaitingApproval, OperationState::Dispatched);
/// A rejection ([`Store::decide`]).
pub(super) const REJECT: (OperationState, OperationState) =
    (OperationState::AwaitingApproval, OperationState::Rejected);

/// The moves the store writes by itself, outside [`Store::transition`];
/// each must be one the state machine allows.
#[cfg(test)]
const FIXED_MOVES: [(OperationState, OperationState); 3] =
    [CLAIM_APPROVED, CLAIM_ON_APPROVAL, REJECT];

/// Moves operation `$1` from state `$4` to `$3` (dispatched) at `$2`
/// (now), returning its row from the write itself (RETURNING, on both
/// backends).
pub(super) const CLAIM: &str = concat!(
    "UPDATE operations SET state = $3, updated_at = $2, dispatched_at = $2 \
     WHERE id = $1 AND state = $4 RETURNING ",
    operation_columns!()
);

/// A claim in one transaction: runs `$query` (a `sqlx::query_as` that
/// returns the claimed row, built anew for each backend); when it returned
/// one, writes the audit line and commits, else rolls back. Evaluates to
/// the claim, if this call got it.
macro_rules! claim {
    ($store:expr, $query:expr, $audit:expr) => {{
        let claimed: Option<OperationRow> = on_pool!($store, p => {
            let mut tx = p.begin().await?;
            let claimed = if fence_holds!($store, tx) {
                $query.fetch_optional(&mut *tx).await?
            } else {
                None
            };
            if let Some(row) = claimed.as_ref() {
                let row: &OperationRow = row;
                insert_audit!(&mut *tx, $audit)?;
                queue_deployment_steps!($store, tx, OperationId(row.id), OperationState::Dispatched);
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            claimed
        });
        claimed.map(DispatchClaim::new)
    }};
}

/// Refuses a move the state machine forbids, before anything is written.
pub(super) fn allowed(from: OperationState, to: OperationState) -> Result<(), StoreError> {
    if from.can_become(to) {
        Ok(())
    } else {
        debug_assert!(
            false,
            "the store was asked to move an operation {from:?} -> {to:?}"
        );
        Err(StoreError::Forbidden { from, to })
    }
}

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

/// One move of an operation's state: from one of `from` to `to`, noting
/// its run when given (an operation that has another run does not move),
/// replacing its detail when given, and locking an environment with it
/// when given (replacing a lock held there).
#[derive(Debug, Clone, Copy)]
pub struct Transition<'a> {
    pub from: &'a [OperationState],
    pub to: OperationState,
    pub run: Option<(i64, &'a str)>,
    pub detail: Option<&'a str>,
    pub lock: Option<&'a NewLock>,
}

impl<'a> Transition<'a> {
    pub fn new(from: &'a [OperationState], to: OperationState) -> Self {
        Self {
            from,
            to,
            run: None,
            detail: None,
            lock: None,
        }
    }

    pub fn run(self, run: Option<(i64, &'a str)>) -> Self {
        Self { run, ..self }
    }

    pub fn detail(self, detail: &'a str) -> Self {
        Self {
            detail: Some(detail),
            ..self
        }
    }

    pub fn lock(self, lock: Option<&'a NewLock>) -> Self {
        Self { lock, ..self }
    }
}

/// What a move moved: the operation's kind and environment, read in the
/// write itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub kind: OperationKind,
    pub env: Option<Env>,
}

/// The operation a move moved, as its row says.
fn moved_of(kind: String, env: Option<String>) -> Result<Moved, StoreError> {
    Ok(Moved {
        kind: OperationKind::parse(&kind)
            .ok_or_else(|| StoreError::Codec(format!("operation kind {kind:?}")))?,
        env: env
            .map(|e| Env::parse(&e).map_err(StoreError::Codec))
            .transpose()?,
    })
}

impl Store {
    /// Moves an operation as `t` says (compare-and-set), with the audit
    /// line and alerts — all or nothing. A move the state machine forbids
    /// is refused before anything is written. Returns whether this call
    /// moved it.
    pub async fn transition(
        &self,
        id: OperationId,
        t: Transition<'_>,
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<bool, StoreError> {
        Ok(self.move_operation(id, t, audit, alerts).await?.is_some())
    }

    /// [`Self::transition`], telling what it moved when it did.
    pub async fn move_operation(
        &self,
        id: OperationId,
        t: Transition<'_>,
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<Option<Moved>, StoreError> {
        let Transition {
            from,
            to,
            run,
            detail,
            lock,
        } = t;
        // Staying in a state only notes the run or detail: no move.
        for f in from.iter().filter(|f| **f != to) {
            allowed(*f, to)?;
        }
        // The states are our own constants, never user input.
        let from_list: Vec<String> = from.iter().map(|s| format!("'{}'", s.as_str())).collect();
        // A run once attached is never replaced: a move that names
        // another run does not happen.
        let sql = format!(
            "UPDATE operations SET state = $2, run_id = COALESCE(run_id, $3), run_url = COALESCE(run_url, $4), \
             detail = COALESCE($5, detail), updated_at = $6 WHERE id = $1 AND state IN ({}){} \
             RETURNING kind, env",
            from_list.join(", "),
            if run.is_some() {
                " AND (run_id IS NULL OR run_id = $3)"
            } else {
                ""
            }
        );
        let moved: Option<Moved> = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let moved = if fence_holds!(self, tx) {
                sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(id.0)
                    .bind(to.as_str())
                    .bind(run.map(|r| r.0))
                    .bind(run.map(|r| r.1.to_owned()))
                    .bind(detail)
                    .bind(now_ms())
                    .fetch_optional(&mut *tx)
                    .await?
            } else {
                None
            };
            // Read before the commit: a row that cannot be read leaves the
            // move undone (the transaction rolls back), never done and
            // reported as failed.
            let moved = moved.map(|(kind, env)| moved_of(kind, env)).transpose()?;
            if moved.is_some() {
                if let Some(lock) = lock {
                    replace_lock!(tx, lock);
                }
                insert_audit!(&mut *tx, audit)?;
                insert_alerts!(tx, alerts)?;
                queue_deployment_steps!(self, tx, id, to);
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            moved
        });
        Ok(moved)
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
            let held = fence_holds!(self, tx) && sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
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

    /// Moves an operation from `approved` to `dispatched`, with its audit
    /// line; the one caller that succeeds gets the claim that dispatching
    /// needs.
    pub async fn claim_dispatch(
        &self,
        id: OperationId,
    ) -> Result<Option<DispatchClaim>, StoreError> {
        let audit = claim_audit(id);
        let (from, to) = CLAIM_APPROVED;
        allowed(from, to)?;
        Ok(claim!(
            self,
            sqlx::query_as(CLAIM)
                .bind(id.0)
                .bind(now_ms())
                .bind(to.as_str())
                .bind(from.as_str()),
            &audit
        ))
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
        Ok(claim!(
            self,
            sqlx::query_as(sql).bind(id.0).bind(now_ms()).bind(before),
            &audit
        ))
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_move_the_store_writes_itself_is_allowed() {
        for (from, to) in FIXED_MOVES {
            assert!(from.can_become(to), "{from:?} -> {to:?}");
        }
    }

    #[test]
    #[should_panic(expected = "Succeeded -> Running")]
    fn a_forbidden_move_is_refused() {
        let _ = allowed(OperationState::Succeeded, OperationState::Running);
    }
}
