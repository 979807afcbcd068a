//! What several request flows ask the same way: what runs in an
//! environment now, what a version will run as, what holds an
//! environment busy, and the dispatch of a request that needs no
//! approval.

use super::{App, Reply};
use crate::adapters::ecs::{image_tag, tag_is_version};
use crate::config::EnvironmentConfig;
use crate::domain::{DeployRefusal, Env, OperationId};
use crate::messages::releases;
use crate::messages::requests;

/// How many of a family's newest revisions are searched for the one that
/// carries a version (each is described once, then cached).
const ARTIFACT_SCAN: usize = 50;

impl App {
    /// The version to roll `env` back to after `failed` went wrong there:
    /// the newest one confirmed healthy there (a deploy or rollback that
    /// succeeded) before `failed`, other than `failed`'s own version.
    /// `None` when there is none, or the store cannot say.
    pub(super) async fn last_healthy_before(
        &self,
        env: &Env,
        failed: &crate::store::OperationRow,
    ) -> Option<String> {
        let succeeded = match self.store.succeeded_in(env, 50).await {
            Ok(ops) => ops,
            Err(e) => {
                tracing::warn!(error = %e, env = %env, "last healthy version unknown");
                return None;
            }
        };
        succeeded
            .into_iter()
            .find(|op| op.id < failed.id && op.version != failed.version)
            .map(|op| op.version)
    }

    /// Why an environment takes no new operation: what is in flight there
    /// (for the race the checks before creating it could not see).
    pub(super) async fn in_flight(&self, env: &Env) -> String {
        let live = self.store.live_operations().await.unwrap_or_default();
        match live.iter().find(|op| op.env.as_ref() == Some(env)) {
            Some(op) => DeployRefusal::Busy {
                env: env.clone(),
                id: op.id,
                kind: op.kind,
                version: op.version.clone(),
                state: op.state,
            }
            .message(),
            None => crate::messages::requests::busy(env),
        }
    }

    /// What a deploy of `version` will run, as far as ECS knows: the image
    /// and the newest task definition revision carrying it (HTML).
    pub(super) async fn artifact(&self, cfg: &EnvironmentConfig, version: &str) -> String {
        match self.ecs.revisions(cfg.first_service(), ARTIFACT_SCAN).await {
            Ok(revisions) => {
                let carrying = revisions.iter().find_map(|r| {
                    let image = r.image.as_deref()?;
                    tag_is_version(image_tag(image)?, version).then_some((image, &r.name))
                });
                match carrying {
                    Some((image, name)) => requests::artifact(image, name),
                    None => requests::artifact_unregistered(version),
                }
            }
            Err(e) => requests::artifact_unknown(version, &e.to_string()),
        }
    }

    /// The image tag the environment's service runs now.
    pub(super) async fn running_tag(
        &self,
        cfg: &EnvironmentConfig,
    ) -> Result<Option<String>, String> {
        self.ecs
            .service_state(cfg.first_service())
            .await
            .map(|s| {
                s.primary()
                    .and_then(|d| d.image.as_deref())
                    .and_then(image_tag)
                    .map(str::to_owned)
            })
            .map_err(|e| e.to_string())
    }

    /// Claims an approved operation and dispatches it; the answer says
    /// what came of it under `head`.
    pub(super) async fn dispatch_claimed(
        &self,
        id: OperationId,
        head: &str,
    ) -> (String, Option<Reply>) {
        match self.store.claim_dispatch(id).await {
            Ok(Some(claim)) => match (claim.operation().direct_ecs, self.dispatch(claim).await) {
                (_, Ok(super::Started::Workflow)) => (
                    "dispatched".into(),
                    Some(Reply::new(releases::dispatched(head))),
                ),
                (_, Ok(super::Started::OnEcs(said))) => (
                    "dispatched:ecs".into(),
                    Some(Reply::new(releases::dispatched_on_ecs(head, &said))),
                ),
                (true, Err(e)) => (
                    "error:ecs".into(),
                    Some(Reply::new(releases::ecs_failed(head, &e))),
                ),
                (false, Err(e)) => (
                    "error:dispatch".into(),
                    Some(Reply::new(releases::dispatch_failed(head, &e))),
                ),
            },
            Ok(None) => ("error:claim".into(), None),
            Err(e) => self.internal_error("claim", &e),
        }
    }
}
