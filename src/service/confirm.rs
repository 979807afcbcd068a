//! After a deploy's or rollback's run succeeds, the bot does not take the
//! workflow's word for it: ECS must show the version rolled out (the
//! primary deployment's image tag is the version, rollout COMPLETED,
//! running = desired, nothing old left draining) and the health URL must
//! answer 2xx. Until then the operation is `confirming`; when the time is
//! up, or ECS says the rollout failed, it ends `unhealthy` with an alert
//! that says what did not hold.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::App;
use super::story::Story;
use crate::alerts::{self, Rendered};
use crate::domain::rollout::{Rollout, judge_services};
use crate::domain::runs::alert_kind_of;
use crate::domain::{AlertKey, EditStep, OpStep};
use crate::domain::{AlertKind, Callback, OperationId, OperationKind, OperationState, UserId};
use crate::messages::story as say;
use crate::service::Button;
use crate::store::Transition;
use crate::store::{AuditEntry, NewAlert, NewLock, OperationRow, now_ms};

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
        self.confirm_in_span(op)
            .instrument(super::operation_span(op))
            .await
    }

    async fn confirm_in_span(&self, op: &OperationRow) {
        let Some(env_config) = op
            .env
            .as_ref()
            .and_then(|e| self.config.environments.get(e))
        else {
            return;
        };
        let states = self.ecs.services_state(env_config).await;
        let named: Vec<_> = env_config
            .services()
            .iter()
            .zip(states)
            .map(|(s, state)| (s.name(), state.map_err(|e| e.to_string())))
            .collect();
        let mut verdict = judge_services(&named, &op.version);
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
                let checks = say::checks_held(running, &task_definition, health);
                self.settle(op, OperationState::Succeeded, &checks).await;
            }
            Rollout::Failed(why) => {
                self.settle(
                    op,
                    OperationState::Unhealthy,
                    &say::checks_failed(&why, None),
                )
                .await;
            }
            Rollout::Pending(why) if now_ms() >= deadline => {
                let checks = say::checks_failed(&why, Some(within.as_secs() as i64));
                self.settle(op, OperationState::Unhealthy, &checks).await;
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
        let took = (now_ms() - since) / 1000;
        let own = alert_kind_of(op.kind);
        let mut alerts: Vec<NewAlert> = Vec::new();
        let mut lock = None;
        let (outcome, detail) = if to == OperationState::Succeeded {
            let env_config = env_typed
                .as_ref()
                .and_then(|e| self.config.environments.get(e));
            let rollback = op.kind == OperationKind::Rollback;
            let locked_from = (rollback && env_config.is_some_and(|c| c.rollback.lock_after))
                .then(|| op.ran_before().unwrap_or("?"));
            if let Some(from) = locked_from {
                lock = Some(NewLock {
                    env: env.clone(),
                    locked_by: UserId(op.requested_by),
                    reason: say::rollback_lock_reason(from, &op.version),
                    lasts_ms: None,
                });
            }
            let text = say::succeeded(op, took, checks, locked_from);
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
                    text: say::incident_report_button(),
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
            let mut unhealthy = self.unhealthy_alerts(op, checks).await;
            super::diagnose::mark_for_diagnosis(&mut unhealthy);
            alerts.extend(unhealthy);
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
        match self
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
            Ok(true) if to == OperationState::Unhealthy => {
                self.diagnoser.notify_one();
                self.roll_back_automatically(op, to).await;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, operation = op.id, "confirm: not stored"),
        }
    }

    /// What a deploy or rollback that ran but did not hold says: "deployed
    /// but unhealthy", loud as a failure, and the operation's story.
    async fn unhealthy_alerts(&self, op: &OperationRow, checks: &str) -> Vec<NewAlert> {
        let own = alert_kind_of(op.kind);
        let text = say::unhealthy(op, checks);
        let mut routed = alerts::route_kinds(
            &self.config,
            &[AlertKind::Failure, own],
            op.env.as_ref(),
            &AlertKey::op(OperationId(op.id), OpStep::Unhealthy),
            &text,
        );
        self.with_alert_buttons(op, &mut routed).await;
        let ring = say::unhealthy_ring(op);
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

/// Confirms rollouts every `aws.confirm_interval`, and at once when woken
/// (a run just succeeded), until stopped.
pub async fn confirm_loop(app: Arc<App>, stop: CancellationToken) {
    loop {
        let app = app.current();
        app.confirm_rollouts().await;
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(app.config.aws.confirm_interval) => {}
            () = app.confirmer.notified() => {}
        }
    }
}
