//! Reviews of runs held by a GitHub environment's required reviewers:
//! the first tap claims the review of a (run's operation, environment)
//! before the bot calls GitHub, so a second tap never reviews again.

use super::audit::insert_audit;
use super::outbox::insert_alerts;
use super::{AuditEntry, NewAlert, Store, StoreError, now_ms, on_pool};
use crate::domain::{OperationId, UserId};

/// How long a claim not yet done holds (ms): far longer than a call to
/// GitHub may take, short enough that a tap after a crash goes through.
const CLAIM_HELD_MS: i64 = 120_000;

/// Proof that this caller holds the review of one environment of an
/// operation's run: only [`Store::claim_gate`] makes one.
#[derive(Debug)]
pub struct GateClaim {
    op: OperationId,
    environment: u64,
}

/// Who holds (or gave) a gate's review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateReview {
    pub by: UserId,
    pub approved: bool,
    /// GitHub took the review (else it is being given now).
    pub done: bool,
}

impl Store {
    /// Claims the review of `environment` for the run of `op`, by `by`.
    /// `Err(review)` when someone claimed it first.
    pub async fn claim_gate(
        &self,
        op: OperationId,
        environment: u64,
        by: UserId,
        approved: bool,
    ) -> Result<Result<GateClaim, GateReview>, StoreError> {
        let env_id = i64::try_from(environment).unwrap_or(i64::MAX);
        let insert = "INSERT INTO gate_reviews \
                      (operation_id, environment_id, reviewed_by, approved, reviewed_at, done) \
                      VALUES ($1, $2, $3, $4, $5, 0) \
                      ON CONFLICT (operation_id, environment_id) DO NOTHING";
        let select = "SELECT reviewed_by, approved, done FROM gate_reviews \
                      WHERE operation_id = $1 AND environment_id = $2";
        // A claim whose holder died before GitHub answered is let go
        // once it is older than any call to GitHub can take.
        let stale = "DELETE FROM gate_reviews WHERE operation_id = $1 \
                     AND environment_id = $2 AND done = 0 AND reviewed_at < $3";
        on_pool!(self, p => sqlx::query(stale)
            .bind(op.0)
            .bind(env_id)
            .bind(now_ms() - CLAIM_HELD_MS)
            .execute(p)
            .await
            .map(|_| ()))?;
        // A claim let go between the two statements is taken on the
        // next round; a review done is never let go, so this ends.
        loop {
            let took = on_pool!(self, p => sqlx::query(insert)
                .bind(op.0)
                .bind(env_id)
                .bind(by.0)
                .bind(i64::from(approved))
                .bind(now_ms())
                .execute(p)
                .await
                .map(|done| done.rows_affected()))?;
            if took == 1 {
                return Ok(Ok(GateClaim { op, environment }));
            }
            let row: Option<(i64, i64, i64)> = on_pool!(self, p => sqlx::query_as(select)
                .bind(op.0)
                .bind(env_id)
                .fetch_optional(p)
                .await)?;
            if let Some((by, approved, done)) = row {
                return Ok(Err(GateReview {
                    by: UserId(by),
                    approved: approved != 0,
                    done: done != 0,
                }));
            }
        }
    }

    /// GitHub took the claimed review: marked done, with its audit line
    /// and the prompt's edits, in one transaction.
    pub async fn gate_reviewed(
        &self,
        claim: GateClaim,
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<(), StoreError> {
        let env_id = i64::try_from(claim.environment).unwrap_or(i64::MAX);
        let sql = "UPDATE gate_reviews SET done = 1, reviewed_at = $3 \
                   WHERE operation_id = $1 AND environment_id = $2";
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(sql)
                .bind(claim.op.0)
                .bind(env_id)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
            insert_audit!(&mut *tx, audit)?;
            insert_alerts!(tx, alerts)?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// GitHub did not take the claimed review: the claim is let go, so
    /// that a later tap may review.
    pub async fn release_gate(&self, claim: GateClaim) -> Result<(), StoreError> {
        let env_id = i64::try_from(claim.environment).unwrap_or(i64::MAX);
        let sql = "DELETE FROM gate_reviews \
                   WHERE operation_id = $1 AND environment_id = $2 AND done = 0";
        on_pool!(self, p => sqlx::query(sql)
            .bind(claim.op.0)
            .bind(env_id)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}
