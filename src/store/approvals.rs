//! Approvals: decisions on a request (counted under the current config's
//! rule, settling it in the same transaction), the fat-finger guard's
//! armed approvals, who approved, and the requests whose decision is late
//! (expired prompts, approvals nobody dispatched).

use super::audit::insert_audit;
use super::deployments::queue_deployment_steps;
use super::operations::{OperationRow, operation_columns, select_operations};
use super::outbox::insert_alerts;
use super::transitions::{CLAIM, CLAIM_ON_APPROVAL, DispatchClaim, REJECT, allowed, claim_audit};
use super::{AuditEntry, NewAlert, Store, StoreError, now_ms, on_pool};
use crate::domain::{AlertKey, OpStep, OperationId, OperationState, UserId};

/// The outcome of a decision, as the compare-and-set saw it.
#[derive(Debug)]
pub enum Decided {
    /// Recorded; the operation still waits for more approvals: this many
    /// count, and these recorded ones no longer do (their givers lost the
    /// approver role since).
    Counted { approvals: i64, lapsed: Vec<UserId> },
    /// This decision rejected the operation.
    Rejected,
    /// This decision was the last approval needed: the operation is
    /// approved and, in the same write, claimed for its dispatch.
    Claimed(Box<DispatchClaim>),
    /// The person had already decided on this operation.
    AlreadyVoted,
    /// The operation had left `awaiting_approval` meanwhile.
    TooLate(OperationState),
}

/// One person's decision on a request, as [`Store::decide`] records it.
#[derive(Clone, Copy)]
pub struct Decision<'a> {
    pub user: UserId,
    /// Approve (true) or reject (false).
    pub approve: bool,
    /// Approvals that settle the request.
    pub needed: i64,
    /// Whether a recorded approval by this person still counts (the
    /// current config's rule, `domain::counting_approvals`).
    pub counts: &'a (dyn Fn(UserId) -> bool + Send + Sync),
    /// How many of the approvals that count go towards `needed` (all of
    /// them, or, with approval groups, the groups' places they fill:
    /// `domain::tally`).
    pub tally: &'a (dyn Fn(&[UserId]) -> i64 + Send + Sync),
    pub audit: &'a AuditEntry,
    pub alerts_if_moved: &'a [NewAlert],
    pub alerts_if_lapsed: &'a [NewAlert],
    /// Written when the approval is counted, none lapsed, and the request
    /// still waits (a prompt's progress by group).
    pub alerts_if_counted: &'a [NewAlert],
}

impl Store {
    /// Records an approval or rejection and, when it settles the request,
    /// moves the operation — a compare-and-set on its state, with the audit
    /// line and the alerts of the outcome in the same transaction. Alerts
    /// are written only when this decision moved the operation (or, for
    /// `alerts_if_lapsed`, left it short because earlier approvals lapsed).
    pub async fn decide(
        &self,
        id: OperationId,
        decision: &Decision<'_>,
    ) -> Result<Decided, StoreError> {
        let Decision {
            user,
            approve,
            needed,
            counts,
            tally,
            audit,
            alerts_if_moved,
            alerts_if_lapsed,
            alerts_if_counted,
        } = *decision;
        let now = now_ms();
        let ((waiting, rejected), (_, claimed)) = (REJECT, CLAIM_ON_APPROVAL);
        allowed(waiting, rejected)?;
        allowed(CLAIM_ON_APPROVAL.0, claimed)?;
        let decided = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            // Touch the row first: it takes the row's lock (PostgreSQL) or
            // the write lock (SQLite), so decisions on one operation are
            // serialised and every count below sees the others.
            let open = sqlx::query(
                "UPDATE operations SET updated_at = $2 WHERE id = $1 AND state = $3",
            )
            .bind(id.0)
            .bind(now)
            .bind(waiting.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if open == 0 {
                let row: Option<OperationRow> = sqlx::query_as(select_operations!("WHERE id = $1"))
                    .bind(id.0)
                    .fetch_optional(&mut *tx)
                    .await?;
                tx.rollback().await?;
                let state = row.map_or(OperationState::Failed, |r| r.state);
                return Ok(Decided::TooLate(state));
            }
            let voted = sqlx::query(
                "INSERT INTO approvals (operation_id, user_id, decision, decided_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (operation_id, user_id) DO NOTHING",
            )
            .bind(id.0)
            .bind(user.0)
            .bind(if approve { "approve" } else { "reject" })
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if voted == 0 {
                tx.rollback().await?;
                return Ok(Decided::AlreadyVoted);
            }
            // Which of them still count is the current config's call
            // (`counts`), not the table's: a removed approver's word lapses.
            let approvers: Vec<(i64,)> = sqlx::query_as(
                "SELECT user_id FROM approvals WHERE operation_id = $1 AND decision = 'approve' ORDER BY id",
            )
            .bind(id.0)
            .fetch_all(&mut *tx)
            .await?;
            let (counting, lapsed): (Vec<UserId>, Vec<UserId>) =
                approvers.into_iter().map(|(u,)| UserId(u)).partition(|u| counts(*u));
            let approvals = tally(&counting);
            let decided = if !approve {
                sqlx::query("UPDATE operations SET state = $2 WHERE id = $1")
                    .bind(id.0)
                    .bind(rejected.as_str())
                    .execute(&mut *tx)
                    .await?;
                Decided::Rejected
            } else if approvals >= needed {
                // Approved and claimed in one write: one commit (one sync
                // to disk) fewer on a tap's way to the dispatch, and no
                // moment where it is approved but nobody's to dispatch.
                let operation = sqlx::query_as(CLAIM)
                    .bind(id.0)
                    .bind(now)
                    .bind(claimed.as_str())
                    .bind(waiting.as_str())
                    .fetch_one(&mut *tx)
                    .await?;
                queue_deployment_steps!(self, tx, id, claimed);
                Decided::Claimed(Box::new(DispatchClaim::new(operation)))
            } else {
                Decided::Counted { approvals, lapsed }
            };
            match &decided {
                Decided::Counted { lapsed, .. } if lapsed.is_empty() => {
                    insert_alerts!(tx, alerts_if_counted)?;
                }
                Decided::Counted { .. } => {
                    insert_alerts!(tx, alerts_if_lapsed)?;
                }
                _ => {
                    insert_alerts!(tx, alerts_if_moved)?;
                }
            }
            insert_audit!(&mut *tx, audit)?;
            if matches!(decided, Decided::Claimed(_)) {
                insert_audit!(&mut *tx, &claim_audit(id))?;
            }
            tx.commit().await?;
            decided
        });
        Ok(decided)
    }

    /// Arms an approval (the fat-finger guard's first tap), with its audit
    /// line and the confirmation message.
    pub async fn arm_approval(
        &self,
        id: OperationId,
        user: UserId,
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<i64, StoreError> {
        let now = now_ms();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(
                "INSERT INTO approval_arms (operation_id, user_id, armed_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (operation_id, user_id) DO UPDATE SET armed_at = excluded.armed_at",
            )
            .bind(id.0)
            .bind(user.0)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            insert_audit!(&mut *tx, audit)?;
            insert_alerts!(tx, alerts)?;
            tx.commit().await?;
        });
        Ok(now)
    }

    /// When the confirmation window of this person's armed approval of
    /// this operation began, if they armed one: when its Confirm button
    /// was delivered (a backlog in the chat does not eat the window), or
    /// now if it is out but not noted as sent yet (a tap on it proves
    /// Telegram has it). The tap's time when the message is gone.
    pub async fn confirm_window_start(
        &self,
        id: OperationId,
        user: UserId,
    ) -> Result<Option<i64>, StoreError> {
        // The newest confirm message is this arming's (arming again sends
        // a new one).
        let mut confirms = AlertKey::op(
            id,
            OpStep::Arm {
                by: user,
                nonce: String::new(),
            },
        )
        .to_string();
        confirms.push('%');
        let sql = "SELECT COALESCE((SELECT COALESCE(o.sent_at, $4) FROM alert_outbox o \
                     WHERE o.operation_id = $1 AND o.dedup_key LIKE $3 ORDER BY o.id DESC LIMIT 1), a.armed_at) \
                   FROM approval_arms a WHERE a.operation_id = $1 AND a.user_id = $2";
        let row: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(sql)
            .bind(id.0)
            .bind(user.0)
            .bind(&confirms)
            .bind(now_ms())
            .fetch_optional(p)
            .await)?;
        Ok(row.map(|(t,)| t))
    }

    /// Who approved an operation, in order.
    pub async fn approvers_of(&self, id: OperationId) -> Result<Vec<i64>, StoreError> {
        let sql = "SELECT user_id FROM approvals WHERE operation_id = $1 AND decision = 'approve' ORDER BY id";
        let rows: Vec<(i64,)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(id.0).fetch_all(p).await)?;
        Ok(rows.into_iter().map(|(u,)| u).collect())
    }

    /// Requests still awaiting a decision whose prompt has not expired.
    pub async fn open_requests(&self) -> Result<Vec<OperationRow>, StoreError> {
        let sql = select_operations!(
            "WHERE state = 'awaiting_approval' AND expires_at IS NOT NULL AND expires_at > $1 ORDER BY id"
        );
        let rows = on_pool!(self, p => sqlx::query_as(sql).bind(now_ms()).fetch_all(p).await)?;
        Ok(rows)
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
}
