//! Runs the bot did not start (the Release workflow's staging deploy, the
//! GitHub UI): the operations made for them, and what the bot knows of
//! each workflow's runs (since when, and how far the poller has listed).

use super::audit::insert_audit;
use super::deployments::queue_deployment_steps;
use super::operations::{
    OperationRow, commit_new_operation, is_unique_violation, live_states, operation_columns,
    select_operations, with_op,
};
use super::outbox::insert_alerts;
use super::{AuditEntry, NewAlert, Store, StoreError, now_ms, on_pool};
use crate::domain::{Env, OperationId, OperationKind, OperationState};

/// A run found outside the bot, to be recorded as an operation.
#[derive(Debug, Clone)]
pub struct AdoptedRun<'a> {
    pub kind: OperationKind,
    pub env: Option<&'a Env>,
    pub version: &'a str,
    /// What ran in the environment before it (ECS), when known.
    pub running: Option<&'a str>,
    pub run_id: i64,
    pub run_url: &'a str,
    /// The live operation it runs alongside, when that one holds the
    /// environment's (or the releases') one slot.
    pub alongside: Option<OperationId>,
}

/// What became of a run to adopt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Adopted {
    New(OperationId),
    /// The slot is held by another live operation (only without
    /// `alongside`).
    Busy,
    /// Another path (a webhook, the poller, another instance) recorded
    /// the run first.
    Already,
}

/// What the bot knows of one workflow's runs (Unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunKnowledge {
    /// Runs created before this are history: never adopted.
    pub known_since: i64,
    /// The poller has listed the runs created up to here.
    pub polled_to: i64,
}

impl Store {
    /// Makes an operation for a run the bot did not dispatch, with its
    /// audit line and alerts (`{op}` in their keys and texts becomes its
    /// id), in one transaction.
    pub async fn adopt_run(
        &self,
        run: &AdoptedRun<'_>,
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<Adopted, StoreError> {
        let now = now_ms();
        let detail = match run.running {
            Some(tag) => format!("running={tag} · started outside the bot"),
            None => "started outside the bot".into(),
        };
        let adopted = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
                "INSERT INTO operations (kind, env, version, state, requested_by, chat_id, request_id, \
                 created_at, updated_at, dispatched_at, detail, run_id, run_url, alongside) \
                 VALUES ($1, $2, $3, $4, 0, 0, $5, $6, $6, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(run.kind.as_str())
            .bind(run.env.map(Env::as_str))
            .bind(run.version)
            .bind(OperationState::Dispatched.as_str())
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(now)
            .bind(&detail)
            .bind(run.run_id)
            .bind(run.run_url)
            .bind(run.alongside.map(|a| a.0))
            .fetch_one(&mut *tx)
            .await;
            if let Ok((id,)) = &inserted {
                queue_deployment_steps!(self, tx, OperationId(*id), OperationState::Dispatched);
            }
            match commit_new_operation!(tx, inserted, audit, alerts) {
                Some(id) => Adopted::New(id),
                None if run.alongside.is_some() => Adopted::Already,
                None => Adopted::Busy,
            }
        });
        Ok(adopted)
    }

    /// The live operation holding the one slot a run of `kind` in `env`
    /// would take: the environment's, or for a release (no environment),
    /// the releases'.
    pub async fn slot_holder(
        &self,
        kind: OperationKind,
        env: Option<&Env>,
    ) -> Result<Option<OperationRow>, StoreError> {
        let row = match env {
            Some(env) => {
                let sql = select_operations!(
                    "WHERE env = $1 AND alongside IS NULL AND state IN ",
                    live_states!(),
                    " ORDER BY id LIMIT 1"
                );
                on_pool!(self, p => sqlx::query_as(sql).bind(env.as_str()).fetch_optional(p).await)?
            }
            None => {
                let sql = select_operations!(
                    "WHERE kind = $1 AND env IS NULL AND alongside IS NULL AND state IN ",
                    live_states!(),
                    " ORDER BY id LIMIT 1"
                );
                on_pool!(self, p => sqlx::query_as(sql).bind(kind.as_str()).fetch_optional(p).await)?
            }
        };
        Ok(row)
    }

    /// Starts the bot's knowledge of these workflows' runs now, for those
    /// it has none of yet (a first start, a workflow newly configured).
    pub async fn open_run_knowledge(&self, workflows: &[&str]) -> Result<(), StoreError> {
        let now = now_ms();
        let sql = "INSERT INTO run_discovery (workflow, known_since, polled_to) VALUES ($1, $2, $2) \
                   ON CONFLICT (workflow) DO NOTHING";
        for workflow in workflows {
            on_pool!(self, p => sqlx::query(sql).bind(*workflow).bind(now).execute(p).await.map(|_| ()))?;
        }
        Ok(())
    }

    /// What the bot knows of a workflow's runs, if it has started to.
    pub async fn run_knowledge(&self, workflow: &str) -> Result<Option<RunKnowledge>, StoreError> {
        let sql = "SELECT known_since, polled_to FROM run_discovery WHERE workflow = $1";
        let row: Option<(i64, i64)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(workflow).fetch_optional(p).await)?;
        Ok(row.map(|(known_since, polled_to)| RunKnowledge {
            known_since,
            polled_to,
        }))
    }

    /// The poller has listed a workflow's runs created up to `to` (it
    /// never moves back).
    pub async fn polled_runs_to(&self, workflow: &str, to: i64) -> Result<(), StoreError> {
        let sql = "UPDATE run_discovery SET polled_to = $2 WHERE workflow = $1 AND polled_to < $2";
        on_pool!(self, p => sqlx::query(sql).bind(workflow).bind(to).execute(p).await.map(|_| ()))?;
        Ok(())
    }
}
