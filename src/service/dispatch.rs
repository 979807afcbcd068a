//! Dispatching a claimed operation's workflow (Deploy or Release), once;
//! or, for a rollback asked for while GitHub was unreachable, running it
//! directly on ECS.

use tracing::Instrument;

use super::App;
use super::Started;
use super::story::Story;
use crate::alerts::{self, Rendered};
use crate::config::WorkflowInput;
use crate::domain::{AlertKey, EditStep, OpStep};
use crate::domain::{AlertKind, OperationId, OperationKind, OperationState, ReleaseType};
use crate::messages::story as say;
use crate::store::DispatchClaim;
use crate::store::Transition;

impl App {
    /// Dispatches the workflow of a claimed operation (Deploy or Release).
    /// Never retried blindly: a failure ends the operation, said loudly,
    /// and is returned for the requester's answer. A rollback asked for
    /// while GitHub was unreachable goes straight to ECS instead, even if
    /// GitHub answers again by now: that is what its prompt said and what
    /// its approvers approved.
    pub(super) async fn dispatch(&self, claim: DispatchClaim) -> Result<Started, String> {
        let span = super::operation_span(claim.operation());
        self.dispatch_in_span(claim).instrument(span).await
    }

    async fn dispatch_in_span(&self, claim: DispatchClaim) -> Result<Started, String> {
        if claim.operation().direct_ecs {
            let who = self.who_of(claim.operation()).await;
            return self
                .roll_back_on_ecs(claim, super::direct::Bypass::GithubDown, &who, None)
                .await
                .map(Started::OnEcs);
        }
        let op = claim.into_operation();
        let id = OperationId(op.id);
        let env_typed = op.env.clone();
        let wf = self.config.github.workflows.of_kind(op.kind);
        let inputs = workflow_inputs(wf, &op);
        // Who asked and everyone who approved, from the store: the
        // approving tap may be another instance's, or lie behind a restart.
        let who = self.who_of(&op).await;
        let action = format!("dispatch:{}", op.kind);
        let began = std::time::Instant::now();
        let dispatched = self.github.dispatch(&wf.file, &inputs).await;
        tracing::debug!(operation = op.id, took = ?began.elapsed(), ok = dispatched.is_ok(), "dispatch: GitHub answered");
        match dispatched {
            Ok(run) => {
                // From the claim: the last approval's write, or the
                // request's when none was needed.
                let claimed = op.dispatched_at.unwrap_or(op.created_at);
                let took = u64::try_from(crate::store::now_ms() - claimed).unwrap_or(0);
                self.metrics
                    .dispatch_took(op.kind, std::time::Duration::from_millis(took));
                self.record_started(&op, &run, &who, &action).await;
                Ok(Started::Workflow)
            }
            Err(e) if e.maybe_took_effect() => {
                // Never dispatched again blindly: the run may exist. The
                // poller looks for it by its request id until a deadline.
                tracing::warn!(error = %e, operation = op.id, "dispatch outcome unknown");
                let text = say::dispatch_unknown(&op, &e.to_string(), &who);
                let mut alerts = alerts::route(
                    &self.config,
                    &Rendered {
                        kind: AlertKind::Failure,
                        env: env_typed,
                        key: AlertKey::op(OperationId(op.id), OpStep::DispatchUnknown),
                        text,
                    },
                );
                offer_direct_rollback(&op, &mut alerts);
                let audit = self.audit(None, None, &action, "unknown", Some(id), e.to_string());
                if let Err(e) = self
                    .store
                    .record_dispatch(id, None, None, &audit, &alerts)
                    .await
                {
                    tracing::error!(error = %e, operation = op.id, "recording an unknown dispatch failed");
                }
                self.outbox.notify_one();
                Err(say::dispatch_unknown_answer(&e.to_string()))
            }
            Err(e) => {
                tracing::error!(error = %e, operation = op.id, "dispatch failed");
                let text = say::dispatch_failed(&op, &e.to_string(), &who);
                let mut alerts = alerts::route(
                    &self.config,
                    &Rendered {
                        kind: AlertKind::Failure,
                        env: env_typed,
                        key: AlertKey::op(OperationId(op.id), OpStep::DispatchFailed),
                        text,
                    },
                );
                offer_direct_rollback(&op, &mut alerts);
                let audit = self.audit(None, None, &action, "failed", Some(id), e.to_string());
                // What ran before stays known (a direct ECS rollback, the
                // lock and the incident report read it).
                let detail = match op.ran_before() {
                    Some(r) => format!("running={r} · {e}"),
                    None => e.to_string(),
                };
                if let Err(e) = self
                    .transition(
                        id,
                        Transition::new(&[OperationState::Dispatched], OperationState::Failed)
                            .detail(&detail),
                        &audit,
                        &alerts,
                    )
                    .await
                {
                    tracing::error!(error = %e, operation = op.id, "recording a failed dispatch failed");
                }
                Err(e.to_string())
            }
        }
    }
    /// A dispatch GitHub accepted: the operation's "started" message (its
    /// prompt, where it was asked for, becomes it) and its run, when
    /// GitHub named it.
    async fn record_started(
        &self,
        op: &crate::store::OperationRow,
        run: &crate::adapters::github::Dispatched,
        who: &str,
        action: &str,
    ) {
        let id = OperationId(op.id);
        let text = say::started(op, who, run.html_url.as_deref());
        // Where the request was asked for, its prompt becomes the
        // operation's message.
        let alerts = self
            .story_step(op, EditStep::Started, &text, Story::Step)
            .await;
        let audit = self.audit(
            None,
            None,
            action,
            "dispatched",
            Some(id),
            run.run_id
                .map_or_else(|| "run not returned".to_owned(), |r| format!("run {r}")),
        );
        let run_id = run.run_id.and_then(|r| i64::try_from(r).ok());
        if let Err(e) = self
            .store
            .record_dispatch(id, run_id, run.html_url.as_deref(), &audit, &alerts)
            .await
        {
            tracing::error!(error = %e, operation = op.id, "recording a dispatch failed");
        }
        self.outbox.notify_one();
    }
}

/// The inputs of an operation's workflow, under the names the config
/// gives them: the environment (deploys and rollbacks), the version, the
/// release type (releases) and the request id.
pub(super) fn workflow_inputs<'a>(
    wf: &'a crate::config::WorkflowConfig,
    op: &crate::store::OperationRow,
) -> Vec<(&'a str, String)> {
    let mut inputs = vec![(wf.input_name(WorkflowInput::Version), op.version.clone())];
    if op.kind == OperationKind::Release {
        let kind = op.release_type.map_or("", ReleaseType::as_str).to_owned();
        inputs.push((wf.input_name(WorkflowInput::ReleaseType), kind));
    } else {
        let env = op.env_name().unwrap_or_default().to_owned();
        inputs.insert(0, (wf.input_name(WorkflowInput::Environment), env));
    }
    inputs.push((
        wf.input_name(WorkflowInput::RequestId),
        op.request_id.clone(),
    ));
    inputs
}

/// A rollback whose workflow cannot be dispatched offers the way around
/// GitHub: a button for its approvers that rolls back on ECS directly.
fn offer_direct_rollback(op: &crate::store::OperationRow, alerts: &mut [crate::store::NewAlert]) {
    if op.kind != OperationKind::Rollback {
        return;
    }
    let buttons = vec![vec![super::direct::direct_button(op.id)]];
    let buttons = serde_json::to_string(&buttons).expect("buttons serialise");
    for alert in alerts {
        alert.text.push_str(&say::direct_rollback_offer());
        alert.buttons = Some(buttons.clone());
    }
}
