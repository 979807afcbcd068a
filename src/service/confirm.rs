//! After a deploy's or rollback's run succeeds, the bot does not take the
//! workflow's word for it: ECS must show the version rolled out (the
//! primary deployment's image tag is the version, rollout COMPLETED,
//! running = desired, nothing old left draining) and the health URL must
//! answer 2xx. Until then the operation is `confirming`; when the time is
//! up, or ECS says the rollout failed, it ends `unhealthy` with an alert
//! that says what did not hold.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::App;
use super::story::Story;
use crate::adapters::ecs::{ServiceState, image_tag, tag_is_version as same_version};
use crate::alerts::format::{escape, link, span};
use crate::alerts::{self, Rendered};
use crate::domain::{AlertKey, EditStep, OpStep};
use crate::domain::{AlertKind, Env, OperationId, OperationKind, OperationState};
use crate::domain::{Callback, QaVerdict, UserId};
use crate::service::Button;
use crate::store::Transition;
use crate::store::{AuditEntry, NewAlert, NewLock, OperationRow, now_ms};

/// What ECS says about a rollout of a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    /// The version runs: every task of the service on it.
    Done {
        /// The task definition (`family:revision`) now running.
        task_definition: String,
        running: i32,
    },
    /// Not (yet) there, and why.
    Pending(String),
    /// ECS gave up on it (rollout FAILED, circuit breaker), and why.
    Failed(String),
}

/// `family:revision` of a task definition ARN.
pub fn short_task_definition(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Judges a service against the version that should run there.
pub fn judge_rollout(state: &ServiceState, version: &str) -> Rollout {
    let tag_of = |d: &crate::adapters::ecs::DeploymentState| {
        d.image
            .as_deref()
            .and_then(image_tag)
            .map(str::to_owned)
            .unwrap_or_else(|| "an untagged image".into())
    };
    // A failed rollout of this version, whether still primary or already
    // rolled back by the circuit breaker.
    if let Some(failed) = state
        .deployments
        .iter()
        .find(|d| d.rollout_state.as_deref() == Some("FAILED") && same_version(&tag_of(d), version))
    {
        let reason = failed
            .rollout_reason
            .clone()
            .unwrap_or_else(|| "no reason given".into());
        return Rollout::Failed(format!(
            "ECS rollout of {} FAILED: {reason}",
            short_task_definition(&failed.task_definition)
        ));
    }
    let Some(primary) = state.primary() else {
        return Rollout::Pending("ECS shows no deployment of the service".into());
    };
    let tag = tag_of(primary);
    if !same_version(&tag, version) {
        return Rollout::Pending(format!(
            "ECS runs {tag} ({}), not {version}",
            short_task_definition(&primary.task_definition)
        ));
    }
    let rollout = primary.rollout_state.as_deref().unwrap_or("COMPLETED");
    if rollout != "COMPLETED" {
        return Rollout::Pending(format!(
            "ECS rollout {rollout}: {}/{} tasks running",
            primary.running, primary.desired
        ));
    }
    if primary.running < primary.desired || primary.desired == 0 {
        return Rollout::Pending(format!(
            "{}/{} tasks running",
            primary.running, primary.desired
        ));
    }
    let draining = state
        .deployments
        .iter()
        .filter(|d| d.status != "PRIMARY" && d.running > 0)
        .count();
    if draining > 0 {
        return Rollout::Pending(format!("{draining} older deployment(s) still draining"));
    }
    Rollout::Done {
        task_definition: short_task_definition(&primary.task_definition).to_owned(),
        running: primary.running,
    }
}

impl App {
    /// Checks every operation being confirmed once.
    pub async fn confirm_rollouts(&self) {
        let ops = match self.store.confirming_operations().await {
            Ok(ops) => ops,
            Err(e) => {
                tracing::warn!(error = %e, "confirm: store unreadable");
                return;
            }
        };
        for op in ops {
            self.confirm(&op).await;
        }
    }

    async fn confirm(&self, op: &OperationRow) {
        let Some(env_config) = op
            .env
            .as_ref()
            .and_then(|e| self.config.environments.get(e))
        else {
            return;
        };
        let mut verdict = match self.ecs.service_state(env_config).await {
            Ok(state) => judge_rollout(&state, &op.version),
            Err(e) => Rollout::Pending(format!("ECS unreadable: {e}")),
        };
        let mut health = None;
        if let (Rollout::Done { .. }, Some(url)) = (&verdict, &env_config.health_url) {
            match self.health.probe(url).await {
                Ok(status) => health = Some(status),
                Err(failure) => {
                    let why = crate::adapters::health::describe(url, &failure);
                    verdict = Rollout::Pending(format!("health check: {why}"));
                }
            }
        }
        let within = self.config.aws.confirm_within;
        let deadline = op.updated_at + i64::try_from(within.as_millis()).unwrap_or(i64::MAX);
        match verdict {
            Rollout::Done {
                task_definition,
                running,
            } => {
                let mut checks = format!(
                    "ECS: {running}/{running} tasks on {}",
                    escape(&task_definition)
                );
                if let Some(status) = health {
                    checks.push_str(&format!(" · health {status}"));
                }
                self.settle(op, OperationState::Succeeded, &checks).await;
            }
            Rollout::Failed(why) => {
                self.settle(op, OperationState::Unhealthy, &escape(&why))
                    .await;
            }
            Rollout::Pending(why) if now_ms() >= deadline => {
                let why = format!("{why} after {}", span(within.as_secs() as i64));
                self.settle(op, OperationState::Unhealthy, &escape(&why))
                    .await;
            }
            Rollout::Pending(why) => {
                tracing::debug!(operation = op.id, %why, "not confirmed yet");
            }
        }
    }

    /// Ends a confirming operation with its alert(s).
    async fn settle(&self, op: &OperationRow, to: OperationState, checks: &str) {
        let id = OperationId(op.id);
        let env = op.env_name().unwrap_or_default().to_owned();
        let env_typed = op.env.clone();
        let since = op.dispatched_at.unwrap_or(op.created_at);
        let took = span((now_ms() - since) / 1000);
        let (done, label) = if op.kind == OperationKind::Rollback {
            (
                format!("rolled back to <b>{}</b>", escape(&op.version)),
                "Rollback run",
            )
        } else {
            (
                format!("<b>{}</b> deployed", escape(&op.version)),
                "Deploy run",
            )
        };
        let run = op
            .run_url
            .as_deref()
            .map(|url| format!("\n{}", link(url, label)))
            .unwrap_or_default();
        let own = if op.kind == OperationKind::Rollback {
            AlertKind::Rollback
        } else {
            AlertKind::Deployment
        };
        let mut alerts: Vec<NewAlert> = Vec::new();
        let mut lock = None;
        let (outcome, detail) = if to == OperationState::Succeeded {
            let mut text = format!(
                "✅ <b>{}</b> · {done} (#{}) in {took}\n{checks}{run}",
                escape(&env),
                op.id,
            );
            let env_config = env_typed
                .as_ref()
                .and_then(|e| self.config.environments.get(e));
            let rollback = op.kind == OperationKind::Rollback;
            if rollback && env_config.is_some_and(|c| c.rollback.lock_after) {
                let from = op.ran_before().unwrap_or("?");
                let reason = format!("rolled back from {from} to {}", op.version);
                text.push_str(&format!(
                    "\n🔒 {} is locked now ({}), so nobody redeploys {} by reflex. /unlock {} once a fix is out.",
                    escape(&env),
                    escape(&reason),
                    escape(from),
                    escape(&env)
                ));
                lock = Some(NewLock {
                    env: env.clone(),
                    locked_by: UserId(op.requested_by),
                    reason,
                    lasts_ms: None,
                });
            }
            let mut succeeded = alerts::route(
                &self.config,
                &Rendered {
                    kind: own,
                    env: env_typed,
                    key: AlertKey::op(OperationId(op.id), OpStep::Succeeded),
                    text: text.clone(),
                },
            );
            if rollback {
                // The process's post-rollback step, one tap away.
                let buttons = vec![vec![Button {
                    text: "📝 Open incident report".into(),
                    data: Callback::IncidentReport {
                        op: OperationId(op.id),
                    }
                    .encode(),
                }]];
                let buttons = serde_json::to_string(&buttons).expect("buttons serialise");
                for alert in &mut succeeded {
                    alert.buttons = Some(buttons.clone());
                }
            }
            alerts.extend(
                self.story_alerts(op, EditStep::Succeeded, own, &text, succeeded, Story::Step)
                    .await,
            );
            if op.kind == OperationKind::Deploy && self.needs_verification(op.env.as_ref()) {
                alerts.extend(self.qa_prompt(op));
            }
            ("succeeded", kept_detail(op, checks))
        } else {
            alerts.extend(self.unhealthy_alerts(op, checks, &run).await);
            ("unhealthy", kept_detail(op, checks))
        };
        let audit = AuditEntry {
            actor: None,
            chat: None,
            action: format!("confirm:{}", op.kind),
            outcome: outcome.to_owned(),
            operation: Some(id),
            detail: detail.clone(),
        };
        if let Err(e) = self
            .transition(
                id,
                Transition::new(&[OperationState::Confirming], to)
                    .detail(&detail)
                    .lock(lock.as_ref()),
                &audit,
                &alerts,
            )
            .await
        {
            tracing::warn!(error = %e, operation = op.id, "confirm: not stored");
        }
    }

    /// What a deploy or rollback that ran but did not hold says: "deployed
    /// but unhealthy", loud as a failure, and the operation's story.
    async fn unhealthy_alerts(&self, op: &OperationRow, checks: &str, run: &str) -> Vec<NewAlert> {
        let env = escape(op.env_name().unwrap_or_default());
        let own = super::dispatch::kind_of(op);
        let how = if op.direct_ecs {
            "The rollback went to ECS directly".to_owned()
        } else {
            format!("The {} run succeeded", op.kind)
        };
        let text = format!(
            "⚠️ <b>{env}</b> · <b>{}</b> deployed but unhealthy (#{})\n{how}, but {checks}{run}",
            escape(&op.version),
            op.id,
        );
        let routed = alerts::route_kinds(
            &self.config,
            &[AlertKind::Failure, own],
            op.env.as_ref(),
            &AlertKey::op(OperationId(op.id), OpStep::Unhealthy),
            &text,
        );
        let ring = format!(
            "⚠️ <b>{env}</b> · <b>{}</b> deployed but unhealthy (#{}) ↑",
            escape(&op.version),
            op.id
        );
        self.story_alerts(
            op,
            EditStep::Unhealthy,
            own,
            &text,
            routed,
            Story::Ring(&ring),
        )
        .await
    }
}

/// The operation's detail after confirmation: what ran before (the
/// incident report and the lock need it), then what the checks found.
fn kept_detail(op: &OperationRow, checks: &str) -> String {
    match op.ran_before() {
        Some(running) => format!("running={running} · {checks}"),
        None => checks.to_owned(),
    }
}

/// Confirms rollouts every `interval`, and at once when woken (a run just
/// succeeded), until stopped.
pub async fn confirm_loop(app: Arc<App>, interval: Duration, stop: CancellationToken) {
    loop {
        app.confirm_rollouts().await;
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
            () = app.confirmer.notified() => {}
        }
    }
}

impl App {
    /// Whether another environment promotes only what was verified here.
    pub(super) fn needs_verification(&self, env: Option<&Env>) -> bool {
        env.is_some_and(|env| {
            self.config
                .environments
                .values()
                .any(|c| c.approval.requires_verified_in.as_ref() == Some(env))
        })
    }

    /// "Staging runs 1.3.0 — QA: [Verified] [Found issues]".
    pub(super) fn qa_prompt(&self, op: &OperationRow) -> Vec<NewAlert> {
        let env = op.env_name().unwrap_or_default().to_owned();
        let text = format!(
            "🧪 <b>{} runs {}</b> (#{}) — QA: is it good?",
            escape(&capitalise(&env)),
            escape(&op.version),
            op.id
        );
        let buttons = vec![vec![
            Button {
                text: "✅ Verified".into(),
                data: Callback::Qa {
                    op: OperationId(op.id),
                    verdict: QaVerdict::Verified,
                }
                .encode(),
            },
            Button {
                text: "🐞 Found issues".into(),
                data: Callback::Qa {
                    op: OperationId(op.id),
                    verdict: QaVerdict::FoundIssues,
                }
                .encode(),
            },
        ]];
        let buttons = serde_json::to_string(&buttons).expect("buttons serialise");
        alerts::route(
            &self.config,
            &Rendered {
                kind: AlertKind::Approval,
                env: op.env.clone(),
                key: AlertKey::op(OperationId(op.id), OpStep::Qa),
                text,
            },
        )
        .into_iter()
        .map(|a| NewAlert {
            buttons: Some(buttons.clone()),
            ..a
        })
        .collect()
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::{Rollout, judge_rollout};
    use crate::adapters::ecs::{DeploymentState, ServiceState};

    fn deployment(
        status: &str,
        revision: u32,
        tag: &str,
        rollout: &str,
        running: i32,
    ) -> DeploymentState {
        DeploymentState {
            status: status.into(),
            task_definition: format!(
                "arn:aws:ecs:eu-west-1:123456789012:task-definition/aletheia-api:{revision}"
            ),
            image: Some(format!("repo/aletheia:{tag}")),
            rollout_state: Some(rollout.into()),
            rollout_reason: Some("tasks failed to start".into()),
            created_at: None,
            running,
            desired: 2,
            failed_tasks: 0,
        }
    }

    fn service(deployments: Vec<DeploymentState>) -> ServiceState {
        ServiceState {
            status: "ACTIVE".into(),
            running: 2,
            desired: 2,
            pending: 0,
            deployments,
        }
    }

    #[test]
    fn a_completed_rollout_of_the_version_is_done() {
        let s = service(vec![deployment("PRIMARY", 7, "1.3.0", "COMPLETED", 2)]);
        assert_eq!(
            judge_rollout(&s, "1.3.0"),
            Rollout::Done {
                task_definition: "aletheia-api:7".into(),
                running: 2
            }
        );
        let v = service(vec![deployment("PRIMARY", 7, "v1.3.0", "COMPLETED", 2)]);
        assert!(matches!(judge_rollout(&v, "1.3.0"), Rollout::Done { .. }));
    }

    #[test]
    fn anything_short_of_it_is_pending_with_the_reason() {
        let old = service(vec![deployment("PRIMARY", 6, "1.2.3", "COMPLETED", 2)]);
        assert_eq!(
            judge_rollout(&old, "1.3.0"),
            Rollout::Pending("ECS runs 1.2.3 (aletheia-api:6), not 1.3.0".into())
        );
        let rolling = service(vec![
            deployment("PRIMARY", 7, "1.3.0", "IN_PROGRESS", 1),
            deployment("ACTIVE", 6, "1.2.3", "COMPLETED", 2),
        ]);
        assert_eq!(
            judge_rollout(&rolling, "1.3.0"),
            Rollout::Pending("ECS rollout IN_PROGRESS: 1/2 tasks running".into())
        );
        let draining = service(vec![
            deployment("PRIMARY", 7, "1.3.0", "COMPLETED", 2),
            deployment("ACTIVE", 6, "1.2.3", "COMPLETED", 1),
        ]);
        assert_eq!(
            judge_rollout(&draining, "1.3.0"),
            Rollout::Pending("1 older deployment(s) still draining".into())
        );
        let short = service(vec![deployment("PRIMARY", 7, "1.3.0", "COMPLETED", 1)]);
        assert_eq!(
            judge_rollout(&short, "1.3.0"),
            Rollout::Pending("1/2 tasks running".into())
        );
    }

    #[test]
    fn a_failed_rollout_fails_even_after_the_circuit_breaker_rolled_back() {
        let failed = service(vec![deployment("PRIMARY", 7, "1.3.0", "FAILED", 0)]);
        assert_eq!(
            judge_rollout(&failed, "1.3.0"),
            Rollout::Failed("ECS rollout of aletheia-api:7 FAILED: tasks failed to start".into())
        );
        let rolled_back = service(vec![
            deployment("PRIMARY", 6, "1.2.3", "IN_PROGRESS", 2),
            deployment("ACTIVE", 7, "1.3.0", "FAILED", 0),
        ]);
        assert!(matches!(
            judge_rollout(&rolled_back, "1.3.0"),
            Rollout::Failed(_)
        ));
    }
}
