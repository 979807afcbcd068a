//! The record of deploys and rollbacks on GitHub (`github.deployments`):
//! the deployment statuses to post, queued in the transaction of the move
//! that causes them (so none is lost to a crash or an outage), and the
//! queue the leader works, in order per environment.

use sqlx::FromRow;

use super::fence::fenced_write;
use super::{Store, StoreError, on_pool};
use crate::domain::{DeploymentStatus, Env, OperationId, OperationKind};

/// Queues status `$2` of operation `$1` (at `$3`): only for a deploy or
/// rollback of an environment, and after the first (`$4`: this is the
/// first, `queued`) only when its deployment was queued. One of each per
/// operation.
pub(super) const QUEUE_STEP: &str = "INSERT INTO deployment_steps (operation_id, status, next_attempt_at, created_at) \
     SELECT o.id, $2, $3, $3 FROM operations o \
     WHERE o.id = $1 AND o.kind IN ('deploy', 'rollback') AND o.env IS NOT NULL \
       AND ($4 OR EXISTS (SELECT 1 FROM deployment_steps s WHERE s.operation_id = o.id AND s.status = 'queued')) \
     ON CONFLICT (operation_id, status) DO NOTHING";

/// Operation `$1` succeeded: the earlier ones of its environment whose
/// success was recorded (or is on its way) become inactive (at `$2`).
pub(super) const QUEUE_INACTIVE: &str = "INSERT INTO deployment_steps (operation_id, status, next_attempt_at, created_at) \
     SELECT p.id, 'inactive', $2, $2 FROM operations o \
     JOIN operations p ON p.env = o.env AND p.id <> o.id \
     JOIN deployment_steps ps ON ps.operation_id = p.id AND ps.status = 'success' AND ps.state <> 'dropped' \
     WHERE o.id = $1 \
       AND EXISTS (SELECT 1 FROM deployment_steps s WHERE s.operation_id = o.id AND s.status = 'success') \
     ON CONFLICT (operation_id, status) DO NOTHING";

/// Queues, in the transaction `$tx`, the deployment statuses that moving
/// operation `$id` to `$to` records (see
/// [`crate::domain::deployment_statuses`]), when the store records
/// deployments at all.
macro_rules! queue_deployment_steps {
    ($store:expr, $tx:expr, $id:expr, $to:expr) => {{
        if $store.deployments {
            let id: crate::domain::OperationId = $id;
            let to: crate::domain::OperationState = $to;
            let now = crate::store::now_ms();
            for status in crate::domain::deployment_statuses(to) {
                sqlx::query(crate::store::deployments::QUEUE_STEP)
                    .bind(id.0)
                    .bind(status.as_str())
                    .bind(now)
                    .bind(*status == crate::domain::DeploymentStatus::Queued)
                    .execute(&mut *$tx)
                    .await?;
            }
            if to == crate::domain::OperationState::Succeeded {
                sqlx::query(crate::store::deployments::QUEUE_INACTIVE)
                    .bind(id.0)
                    .bind(now)
                    .execute(&mut *$tx)
                    .await?;
            }
        }
    }};
}
pub(crate) use queue_deployment_steps;

/// A deployment status to post, with what GitHub needs of its operation.
#[derive(Debug, Clone)]
pub struct DeploymentStep {
    pub id: i64,
    pub operation: OperationId,
    pub status: DeploymentStatus,
    /// Attempts started before this one.
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub kind: OperationKind,
    pub env: Env,
    pub version: String,
    pub run_url: Option<String>,
    /// The GitHub Deployment, once created.
    pub deployment_id: Option<i64>,
}

#[derive(FromRow)]
struct StepRow {
    id: i64,
    operation_id: i64,
    status: String,
    attempts: i64,
    next_attempt_at: i64,
    kind: String,
    env: String,
    version: String,
    run_url: Option<String>,
    github_deployment_id: Option<i64>,
}

impl TryFrom<StepRow> for DeploymentStep {
    type Error = StoreError;

    fn try_from(r: StepRow) -> Result<Self, StoreError> {
        let bad = |what: &str, v: &str| {
            StoreError::Codec(format!("deployment step {}: {what} {v:?}", r.id))
        };
        Ok(Self {
            id: r.id,
            operation: OperationId(r.operation_id),
            status: DeploymentStatus::parse(&r.status).ok_or_else(|| bad("status", &r.status))?,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            kind: OperationKind::parse(&r.kind).ok_or_else(|| bad("kind", &r.kind))?,
            env: Env::parse(&r.env).map_err(|_| bad("env", &r.env))?,
            version: r.version,
            run_url: r.run_url,
            deployment_id: r.github_deployment_id,
        })
    }
}

impl Store {
    /// This store, queueing deployment statuses with the moves of deploys
    /// and rollbacks (`github.deployments`) or not.
    pub fn recording_deployments(self, on: bool) -> Store {
        Store {
            deployments: on,
            ..self
        }
    }

    /// The deployment statuses not posted yet, oldest first, at most
    /// `limit` (due or not: a step waiting for its retry holds back those
    /// after it in its environment).
    pub async fn pending_deployment_steps(
        &self,
        limit: i64,
    ) -> Result<Vec<DeploymentStep>, StoreError> {
        let sql = "SELECT s.id, s.operation_id, s.status, s.attempts, s.next_attempt_at, o.kind, o.env, \
                   o.version, o.run_url, o.github_deployment_id \
                   FROM deployment_steps s JOIN operations o ON o.id = s.operation_id \
                   WHERE s.state = 'pending' ORDER BY s.id LIMIT $1";
        let rows: Vec<StepRow> =
            on_pool!(self, p => sqlx::query_as(sql).bind(limit).fetch_all(p).await)?;
        rows.into_iter().map(DeploymentStep::try_from).collect()
    }

    /// Counts an attempt of a step before it is made (a crash during it
    /// leaves the count: the next attempt looks on GitHub first). Returns
    /// whether this store (its lease) may make it.
    pub async fn start_deployment_step(&self, id: i64) -> Result<bool, StoreError> {
        let n = fenced_write!(self, p => sqlx::query(
            "UPDATE deployment_steps SET attempts = attempts + 1 WHERE id = $1 AND state = 'pending'",
        )
        .bind(id));
        Ok(n == 1)
    }

    /// Notes the GitHub Deployment that records an operation (the first
    /// one noted stays).
    pub async fn note_github_deployment(
        &self,
        operation: OperationId,
        deployment_id: i64,
    ) -> Result<(), StoreError> {
        fenced_write!(self, p => sqlx::query(
            "UPDATE operations SET github_deployment_id = COALESCE(github_deployment_id, $2) WHERE id = $1",
        )
        .bind(operation.0)
        .bind(deployment_id));
        Ok(())
    }

    /// A step GitHub took.
    pub async fn deployment_step_done(&self, id: i64) -> Result<(), StoreError> {
        fenced_write!(self, p => sqlx::query(
            "UPDATE deployment_steps SET state = 'done', last_error = NULL WHERE id = $1 AND state = 'pending'",
        )
        .bind(id));
        Ok(())
    }

    /// A step GitHub did not take, tried again at `at` (Unix ms).
    pub async fn retry_deployment_step(
        &self,
        id: i64,
        at: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        fenced_write!(self, p => sqlx::query(
            "UPDATE deployment_steps SET next_attempt_at = $2, last_error = $3 WHERE id = $1 AND state = 'pending'",
        )
        .bind(id)
        .bind(at)
        .bind(error));
        Ok(())
    }

    /// Gives up the steps of an operation that GitHub refuses for good
    /// (all of them when `only` is none: its deployment cannot be made).
    pub async fn drop_deployment_steps(
        &self,
        operation: OperationId,
        only: Option<i64>,
        error: &str,
    ) -> Result<(), StoreError> {
        fenced_write!(self, p => sqlx::query(
            "UPDATE deployment_steps SET state = 'dropped', last_error = $3 \
             WHERE operation_id = $1 AND state = 'pending' AND ($2 IS NULL OR id = $2)",
        )
        .bind(operation.0)
        .bind(only)
        .bind(error));
        Ok(())
    }
}
