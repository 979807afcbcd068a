//! The rollback that does not need GitHub: the ECS service is pointed at
//! the newest task definition carrying the target version
//! (`UpdateService`), and the bot follows the ECS rollout and confirms it
//! like any other; every message says the workflow was bypassed. Two ways
//! lead here: a rollback asked for while GitHub was unreachable goes this
//! way once approved, and when the Rollback workflow cannot be dispatched
//! (API down, workflow disabled), the failure alert offers the rollback's
//! approvers a button for it.

use super::App;
use super::story::Story;
use super::taps::{Tap, TapAnswer};
use crate::adapters::ecs::{EcsError, Revision};
use crate::alerts;
use crate::domain::rollout::{image_tag, tag_is_version};
use crate::domain::{AlertKey, EditStep, OpStep};
use crate::domain::{AlertKind, Callback, Env, OperationId, OperationKind, OperationState};
use crate::messages::direct as say;
pub(super) use crate::messages::direct::Bypass;
use crate::messages::story::what;
use crate::store::Transition;
use crate::store::{Created, DispatchClaim, NewOperation, OperationRow};

/// How long after the failed dispatch the direct way stays open.
const DIRECT_WITHIN_MS: i64 = 3_600_000;

/// How many of a family's newest revisions are searched for the target.
const SCAN: usize = 100;

/// The button a failed rollback dispatch offers.
pub(super) fn direct_button(op: i64) -> super::Button {
    super::Button {
        text: say::button(),
        data: Callback::DirectRollback {
            op: OperationId(op),
        }
        .encode(),
    }
}

impl App {
    /// A tap on "Roll back directly on ECS" (`e:{op}:y`).
    pub(super) async fn direct_rollback_tap(&self, tap: &Tap, id: OperationId) -> TapAnswer {
        let refuse = |text: String| TapAnswer { text, alert: true };
        let op = self.store.operation(id).await.ok().flatten();
        let Some(op) = op.filter(|op| op.kind == OperationKind::Rollback) else {
            let text = crate::messages::common::not_my_button();
            return self.refuse_tap(tap, "direct", "forged", None, text).await;
        };
        let id = OperationId(op.id);
        let Some((env, cfg)) = op
            .env
            .clone()
            .and_then(|e| self.config.environments.get(&e).map(|c| (e, c)))
        else {
            return refuse(crate::messages::common::env_gone());
        };
        let target = match self.direct_target(tap, &op, &env, cfg).await {
            Ok(target) => target,
            Err(answer) => return answer,
        };
        let state = op.state;

        // The workflow's operation ends here (if its dispatch is still in
        // doubt, it is superseded); the direct one takes its place.
        let who = self.name_of(tap.user.0);
        if state == OperationState::Dispatched {
            let audit = self.audit(
                Some(tap.user),
                tap.chat,
                "rollback:direct",
                "superseded",
                Some(id),
                String::new(),
            );
            match self
                .transition(
                    id,
                    Transition::new(&[OperationState::Dispatched], OperationState::Failed)
                        .detail("superseded by a direct ECS rollback"),
                    &audit,
                    &[],
                )
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    return refuse(crate::messages::common::moved_on_meanwhile());
                }
                Err(e) => return refuse(self.internal_failure("direct rollback: store", &e)),
            }
        }
        let new = NewOperation {
            kind: OperationKind::Rollback,
            env: op.env.clone(),
            version: op.version.clone(),
            release_type: None,
            state: OperationState::Approved,
            requested_by: tap.user,
            chat_id: op.chat_id,
            request_id: uuid::Uuid::new_v4().to_string(),
            expires_in_ms: None,
            detail: op.detail.clone(),
            run: None,
            direct_ecs: true,
            freeze_override: None,
        };
        let audit = self.audit(
            Some(tap.user),
            tap.chat,
            "operation:rollback",
            "ecs_direct",
            None,
            format!(
                "{} to {env} via UpdateService {}, after #{}",
                op.version,
                target_names(&target),
                op.id
            ),
        );
        let new_id = match self.create_operation(&new, &audit, &[]).await {
            Ok(Created::New(new_id)) => new_id,
            Ok(Created::Busy) => {
                return refuse(self.in_flight(&env).await);
            }
            Err(e) => return refuse(self.internal_failure("direct rollback: store", &e)),
        };
        let claim = match self.store.claim_dispatch(new_id).await {
            Ok(Some(claim)) => claim,
            _ => return refuse(crate::messages::common::someone_else_is_on_it()),
        };
        let who = say::by(&who);
        match self
            .roll_back_on_ecs(claim, Bypass::FailedDispatch(op.id), &who, Some(target))
            .await
        {
            Ok(text) => TapAnswer { text, alert: false },
            Err(e) => refuse(e),
        }
    }

    /// The task definition a direct rollback would point the service at,
    /// once the tapper may, and the operation still may, go this way.
    async fn direct_target(
        &self,
        tap: &Tap,
        op: &OperationRow,
        env: &Env,
        cfg: &crate::config::EnvironmentConfig,
    ) -> Result<Vec<Revision>, TapAnswer> {
        let id = OperationId(op.id);
        let roles = self
            .config
            .user(tap.user)
            .map(|u| u.roles.as_slice())
            .unwrap_or(&[]);
        let policy = cfg.rollback_policy();
        if let Err(refusal) = crate::domain::may_roll_back_directly(roles, &policy) {
            let names: Vec<&str> = policy.approvers.iter().map(|r| r.as_str()).collect();
            let text = say::not_an_approver(&names);
            return Err(self
                .refuse_tap(tap, "direct", refusal.code(), Some(id), text)
                .await);
        }
        // Only a rollback whose workflow never started: no run known, and
        // dispatch failed (or its outcome is still unknown).
        let state = op.state;
        // Only the environment's latest operation, and only for a while: a
        // button under an old failure must not roll prod back days later.
        let latest = self
            .store
            .history(op.env.as_ref(), 1)
            .await
            .ok()
            .and_then(|ops| ops.first().map(|o| o.id));
        if latest != Some(op.id) || crate::store::now_ms() - op.updated_at > DIRECT_WITHIN_MS {
            let text = say::stale(op.id, op.env_name().unwrap_or("?"));
            return Err(self
                .refuse_tap(tap, "direct", "stale", Some(id), text)
                .await);
        }
        if op.run_id.is_some()
            || !matches!(state, OperationState::Failed | OperationState::Dispatched)
        {
            let text = say::has_run(op.id, &state.to_string());
            return Err(self
                .refuse_tap(tap, "direct", "has_run", Some(id), text)
                .await);
        }
        let targets = match self.direct_targets(cfg, &op.version).await {
            Ok(targets) => targets,
            Err(e) => {
                return Err(TapAnswer {
                    text: say::ecs_unreadable(&e.to_string()),
                    alert: true,
                });
            }
        };
        // Nothing to do only once every service runs the version.
        let tags: Vec<Option<String>> = self
            .ecs
            .services_state(cfg)
            .await
            .iter()
            .map(|state| {
                let state = state.as_ref().ok()?;
                image_tag(state.primary()?.image.as_deref()?).map(str::to_owned)
            })
            .collect();
        if let Some(Some(now)) = tags.first()
            && tags
                .iter()
                .all(|t| t.as_deref().is_some_and(|t| tag_is_version(t, &op.version)))
        {
            let text = say::already_running(env.as_str(), now);
            return Err(self
                .refuse_tap(tap, "direct", "already_running", Some(id), text)
                .await);
        }
        match targets {
            Targets::Found(targets) => Ok(targets),
            Targets::Missing(missing) => {
                let text = match cfg.services().len() {
                    1 => say::nothing_on_ecs(&op.version),
                    _ => say::nothing_on_ecs_for(&op.version, &names(&missing)),
                };
                Err(self
                    .refuse_tap(tap, "direct", "no_task_definition", Some(id), text)
                    .await)
            }
        }
    }

    /// What a direct rollback to `version` would point each of the
    /// environment's services at: each service has its own task definition
    /// family, searched for the newest revision carrying the version.
    pub(super) async fn direct_targets(
        &self,
        cfg: &crate::config::EnvironmentConfig,
        version: &str,
    ) -> Result<Targets, EcsError> {
        let services = cfg.services();
        let found =
            futures::future::join_all(services.iter().map(|s| self.ecs.revisions(s, SCAN))).await;
        let mut targets = Vec::new();
        let mut missing = Vec::new();
        for (service, revisions) in services.iter().zip(found) {
            match revisions?.into_iter().find(|r| carries(r, version)) {
                Some(target) => targets.push(target),
                None => missing.push(service.name().to_owned()),
            }
        }
        Ok(match missing.is_empty() {
            true => Targets::Found(targets),
            false => Targets::Missing(missing),
        })
    }

    /// Runs a claimed rollback directly on ECS: points each service at
    /// the newest task definition of its family carrying the version
    /// (`targets`, when the caller already found them), then leaves it
    /// `confirming`, as after a run that succeeded. Said in the
    /// operation's messages either way; returns the sentence for whoever
    /// started it, or what went wrong.
    pub(super) async fn roll_back_on_ecs(
        &self,
        claim: DispatchClaim,
        bypass: Bypass,
        who: &str,
        targets: Option<Vec<Revision>>,
    ) -> Result<String, String> {
        let op = claim.into_operation();
        let id = OperationId(op.id);
        let Some((env, cfg)) = op
            .env
            .clone()
            .and_then(|e| self.config.environments.get(&e).map(|c| (e, c)))
        else {
            let why = "its environment is no longer configured".to_owned();
            return Err(self.ecs_rollback_failed(&op, who, &why, &why).await);
        };
        let targets = match targets {
            Some(targets) => targets,
            None => match self.direct_targets(cfg, &op.version).await {
                Ok(Targets::Found(targets)) => targets,
                Ok(Targets::Missing(missing)) => {
                    let why = match cfg.services().len() {
                        1 => say::no_task_definition(&op.version),
                        _ => say::missing_task_definitions(&op.version, &names(&missing))
                            .replace('\n', "; "),
                    };
                    return Err(self.ecs_rollback_failed(&op, who, &why, &why).await);
                }
                Err(e) => {
                    let why = "ECS could not be read".to_owned();
                    return Err(self
                        .ecs_rollback_failed(&op, who, &why, &e.to_string())
                        .await);
                }
            },
        };
        let services = cfg.services();
        let updates = futures::future::join_all(
            services
                .iter()
                .zip(&targets)
                .map(|(service, target)| self.ecs.update_service(service, &target.arn)),
        )
        .await;
        let several = services.len() > 1;
        let not_updated = "ECS did not take the update";
        let taken = updates.iter().filter(|u| u.is_ok()).count();
        if several {
            // Each service's update is on the record, whatever the others did.
            for ((service, target), update) in services.iter().zip(&targets).zip(&updates) {
                let (outcome, detail) = match update {
                    Ok(()) => (
                        "service_updated",
                        format!("{}: {}", service.name(), target.name),
                    ),
                    Err(e) => ("service_not_updated", format!("{}: {e}", service.name())),
                };
                let audit = self.audit(None, None, "dispatch:rollback", outcome, Some(id), detail);
                self.audit_quietly(audit).await;
            }
        }
        if taken == 0 {
            let causes: Vec<String> = services
                .iter()
                .zip(&updates)
                .filter_map(|(s, u)| u.as_ref().err().map(|e| (s, e)))
                .map(|(s, e)| match several {
                    true => format!("{}: {e}", s.name()),
                    false => e.to_string(),
                })
                .collect();
            return Err(self
                .ecs_rollback_failed(&op, who, not_updated, &causes.join("; "))
                .await);
        }
        let outcomes: Vec<say::ServiceOutcome<'_>> = services
            .iter()
            .zip(&targets)
            .zip(&updates)
            .map(|((service, target), update)| say::ServiceOutcome {
                service: service.name(),
                updated: match update {
                    Ok(()) => Ok(target.name.as_str()),
                    Err(_) => Err(not_updated),
                },
            })
            .collect();
        if taken < services.len() {
            // A partial rollback is a failure, said plainly: the services
            // now run different versions.
            let text = say::partial(&what(&op), op.id, &outcomes, who);
            let cause = format!(
                "partial rollback: {taken} of {} services updated",
                services.len()
            );
            let why = say::partial_why();
            self.end_direct_failed(&op, &text, &why, &cause).await;
            return Err(say::failed_answer(&why));
        }
        let text = match several {
            false => say::started(&what(&op), op.id, &targets[0].name, bypass, who),
            true => say::started_services(&what(&op), op.id, &outcomes, bypass, who),
        };
        let routed = alerts::route_kinds(
            &self.config,
            &[AlertKind::Rollback, AlertKind::Failure],
            Some(&env),
            &AlertKey::op(OperationId(op.id), OpStep::Direct),
            &text,
        );
        let alerts = self
            .story_alerts(
                &op,
                EditStep::Direct,
                AlertKind::Rollback,
                &text,
                routed,
                Story::Step,
            )
            .await;
        // The task definitions by name: the audit log reaches the incident
        // report (a GitHub issue), and an ARN carries the account id.
        let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
        let audit = self.audit(
            None,
            None,
            "dispatch:rollback",
            "ecs_updated",
            Some(id),
            names.join(", "),
        );
        if let Err(e) = self
            .transition(
                id,
                Transition::new(&[OperationState::Dispatched], OperationState::Confirming),
                &audit,
                &alerts,
            )
            .await
        {
            tracing::error!(error = %e, operation = op.id, "direct rollback not recorded");
        }
        self.confirmer.notify_one();
        Ok(say::rolling_back(&op.version, &target_names(&targets)))
    }

    /// A direct rollback still `dispatched` `after_ms` after its claim:
    /// the bot stopped before ECS answered. It is done again (pointing the
    /// service at the same task definition twice is harmless).
    pub(super) async fn resume_direct(&self, op: &OperationRow, after_ms: i64) {
        if crate::store::now_ms() - op.updated_at < after_ms {
            return;
        }
        let before = crate::store::now_ms() - after_ms;
        match self.store.reclaim_direct(OperationId(op.id), before).await {
            Ok(Some(claim)) => {
                tracing::info!(operation = op.id, "resuming a direct ECS rollback");
                let who = self.who_of(claim.operation()).await;
                let _ = self
                    .roll_back_on_ecs(claim, Bypass::Resumed, &who, None)
                    .await;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, operation = op.id, "direct rollback: reclaim"),
        }
    }

    /// Ends a direct rollback that could not be done: the operation fails,
    /// loudly; `why` is what the chat is told, `cause` what the log and the
    /// audit keep (it may name ARNs or accounts).
    async fn ecs_rollback_failed(
        &self,
        op: &OperationRow,
        who: &str,
        why: &str,
        cause: &str,
    ) -> String {
        let text = say::failed(&what(op), op.id, why, who);
        self.end_direct_failed(op, &text, why, cause).await;
        say::failed_answer(why)
    }

    /// Fails a direct rollback with its story's `text`; `why` is the
    /// operation's detail, `cause` what the log and the audit keep.
    async fn end_direct_failed(&self, op: &OperationRow, text: &str, why: &str, cause: &str) {
        tracing::error!(operation = op.id, cause, "direct rollback failed");
        let routed = alerts::route_kinds(
            &self.config,
            &[AlertKind::Rollback, AlertKind::Failure],
            op.env.as_ref(),
            &AlertKey::op(OperationId(op.id), OpStep::DirectFailed),
            text,
        );
        let ring = say::failed_ring(&what(op), op.id);
        let alerts = self
            .story_alerts(
                op,
                EditStep::DirectFailed,
                AlertKind::Rollback,
                text,
                routed,
                Story::Ring(&ring),
            )
            .await;
        let audit = self.audit(
            None,
            None,
            "dispatch:rollback",
            "failed",
            Some(OperationId(op.id)),
            cause.to_owned(),
        );
        let detail = match op.ran_before() {
            Some(r) => format!("running={r} · {why}"),
            None => why.to_owned(),
        };
        if let Err(e) = self
            .transition(
                OperationId(op.id),
                Transition::new(&[OperationState::Dispatched], OperationState::Failed)
                    .detail(&detail),
                &audit,
                &alerts,
            )
            .await
        {
            tracing::error!(error = %e, operation = op.id, "failed direct rollback not recorded");
        }
    }
}

/// Where a direct rollback would point an environment's services.
pub(super) enum Targets {
    /// Each service's newest revision carrying the version, in the
    /// config's order.
    Found(Vec<Revision>),
    /// The services (by name) that have none: nothing is done then.
    Missing(Vec<String>),
}

/// The task definitions a rollback points at, as the chat names them.
pub(super) fn target_names(targets: &[Revision]) -> String {
    let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
    names.join(", ")
}

fn names(services: &[String]) -> Vec<&str> {
    services.iter().map(String::as_str).collect()
}

/// Whether a task definition revision's container carries `version`.
pub(super) fn carries(revision: &Revision, version: &str) -> bool {
    revision
        .image
        .as_deref()
        .and_then(image_tag)
        .is_some_and(|t| tag_is_version(t, version))
}
