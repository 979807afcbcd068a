//! GitHub's record of deploys and rollbacks (`github.deployments`): the
//! leader posts the deployment statuses the store queued with each move,
//! oldest first and in order per environment, retrying what GitHub did not
//! take with a growing wait. Nothing here holds up an operation: a GitHub
//! outage only delays the record.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::App;
use crate::adapters::github::{GithubError, NewDeployment, NewStatus};
use crate::config::DEPLOYMENT_RETRY_MOST;
use crate::domain::{Env, OperationId, deployment_retry_after};
use crate::messages::deployments as say;
use crate::store::{DeploymentStep, now_ms};

/// How often the queue is looked at.
const TICK: Duration = Duration::from_millis(500);
/// Steps read at a time.
const BATCH: i64 = 100;

/// Why a step was not taken.
enum Missed {
    /// GitHub will never take it (a ref it does not know, a deployment it
    /// lost): given up, with the deployment's later steps when it could
    /// not be made.
    Refused {
        deployment_made: bool,
        error: String,
    },
    /// Tried again later (GitHub down, slow, limiting, or the token not
    /// allowed yet).
    Later(String),
}

impl From<GithubError> for Missed {
    fn from(e: GithubError) -> Self {
        match &e {
            GithubError::NotFound
            | GithubError::Status {
                status: 400 | 422, ..
            } => Missed::Refused {
                deployment_made: true,
                error: e.to_string(),
            },
            _ => Missed::Later(e.to_string()),
        }
    }
}

impl App {
    /// Posts the deployment statuses that are due; returns when the queue
    /// has nothing more due (or the store is unreachable).
    pub async fn record_deployments(&self) {
        let steps = match self.store.pending_deployment_steps(BATCH).await {
            Ok(steps) => steps,
            Err(e) => {
                tracing::warn!(error = %e, "deployments: store unreadable");
                return;
            }
        };
        let now = now_ms();
        // An environment whose earlier step waits holds back its later
        // ones: GitHub gets each environment's story in order.
        let mut held: HashSet<Env> = HashSet::new();
        // Deployments made in this round: the later steps of their
        // operation were read before, without the id.
        let mut made: HashMap<OperationId, i64> = HashMap::new();
        for mut step in steps {
            if let Some(id) = made.get(&step.operation) {
                step.deployment_id.get_or_insert(*id);
            }
            if held.contains(&step.env) {
                continue;
            }
            if step.next_attempt_at > now {
                held.insert(step.env.clone());
                continue;
            }
            match self.store.start_deployment_step(step.id).await {
                Ok(true) => {}
                // No longer the leader's to do.
                Ok(false) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "deployments: store unwritable");
                    return;
                }
            }
            let done = match self.post_step(&step, &mut made).await {
                Ok(()) => self.store.deployment_step_done(step.id).await,
                Err(Missed::Later(error)) => {
                    held.insert(step.env.clone());
                    let attempt = u32::try_from(step.attempts + 1).unwrap_or(u32::MAX);
                    let wait = deployment_retry_after(
                        self.config.github.deployment_retry,
                        DEPLOYMENT_RETRY_MOST,
                        attempt,
                    );
                    tracing::warn!(operation = step.operation.0, status = step.status.as_str(), attempt,
                        error = %error, "deployments: GitHub did not take a status; trying again in {wait:?}");
                    let at = now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2);
                    self.store.retry_deployment_step(step.id, at, &error).await
                }
                Err(Missed::Refused {
                    deployment_made,
                    error,
                }) => {
                    tracing::warn!(operation = step.operation.0, status = step.status.as_str(),
                        error = %error, "deployments: GitHub refuses the record; given up");
                    let only = deployment_made.then_some(step.id);
                    self.store
                        .drop_deployment_steps(step.operation, only, &error)
                        .await
                }
            };
            if let Err(e) = done {
                tracing::warn!(error = %e, "deployments: store unwritable");
                return;
            }
        }
    }

    /// Posts one status, creating the deployment first if it has none. An
    /// attempt made before (cut short) is looked up on GitHub first.
    async fn post_step(
        &self,
        step: &DeploymentStep,
        made: &mut HashMap<OperationId, i64>,
    ) -> Result<(), Missed> {
        let retried = step.attempts > 0;
        let deployment = match step.deployment_id {
            Some(id) => u64::try_from(id).unwrap_or_default(),
            None => {
                let found = if retried {
                    self.github
                        .find_deployment(step.env.as_str(), step.operation.0)
                        .await?
                } else {
                    None
                };
                let id = match found {
                    Some(id) => id,
                    None => self.create_deployment(step).await?,
                };
                let noted = i64::try_from(id).unwrap_or(i64::MAX);
                made.insert(step.operation, noted);
                self.store
                    .note_github_deployment(step.operation, noted)
                    .await
                    .map_err(|e| Missed::Later(e.to_string()))?;
                id
            }
        };
        if retried
            && self
                .github
                .has_deployment_status(deployment, step.status)
                .await?
        {
            return Ok(());
        }
        let environment_url = self
            .config
            .environments
            .get(&step.env)
            .and_then(|e| e.health_url.as_ref())
            .map(url::Url::as_str);
        let description = say::status(step.status, step.kind);
        let status = NewStatus {
            status: step.status,
            description: &description,
            log_url: step.run_url.as_deref(),
            environment_url,
        };
        Ok(self
            .github
            .post_deployment_status(deployment, &status)
            .await?)
    }

    async fn create_deployment(&self, step: &DeploymentStep) -> Result<u64, Missed> {
        let refs = [format!("v{}", step.version), step.version.clone()];
        let description = say::description(step.operation, step.kind, &step.version, &step.env);
        let new = NewDeployment {
            refs: &refs,
            environment: step.env.as_str(),
            description: &description,
            operation: step.operation.0,
        };
        self.github
            .create_deployment(&new)
            .await
            .map_err(|e| match Missed::from(e) {
                Missed::Refused { error, .. } => Missed::Refused {
                    deployment_made: false,
                    error,
                },
                later => later,
            })
    }
}

/// Records deploys and rollbacks on GitHub until stopped (when
/// `github.deployments` is on).
pub async fn deployments_loop(app: Arc<App>, stop: CancellationToken) {
    if !app.config.github.deployments {
        return;
    }
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(TICK) => {}
        }
        app.current().record_deployments().await;
    }
}
