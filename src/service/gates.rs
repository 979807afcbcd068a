//! Runs held by a GitHub environment's required reviewers: the review
//! prompt (one per run and environment, to the chat that asked and the
//! environment's approval chats), and a tap on it, which the bot's own
//! policy judges before the bot reviews the run on GitHub as itself.

use super::App;
use super::taps::{Button, Tap, TapAnswer};
use crate::adapters::github::{GithubError, WorkflowRun};
use crate::domain::{AlertKey, AlertKind, Callback, ChatId, EditStep, OpStep, OperationId};
use crate::domain::{OperationKind, OperationState, may_review_gate};
use crate::messages::gates as say;
use crate::store::{NewAlert, OperationRow};

/// The key of a gate's prompt in `chat`.
fn gate_key(op: OperationId, environment: u64, chat: i64) -> AlertKey {
    AlertKey::op(op, OpStep::Gate(environment)).in_chat(ChatId(chat))
}

/// Approve / Reject under a gate's prompt.
fn gate_buttons(op: OperationId, environment: u64) -> Vec<Vec<Button>> {
    let button = |approve: bool| Button {
        text: if approve {
            crate::messages::approvals::approve_label()
        } else {
            crate::messages::approvals::reject_label()
        },
        data: Callback::Gate {
            op,
            environment,
            approve,
        }
        .encode(),
    };
    vec![vec![button(true), button(false)]]
}

impl App {
    /// The chats a gate's prompt goes to: the chat the operation was
    /// asked in, then every chat routed `approval` alerts for its
    /// environment.
    fn gate_chats(&self, op: &OperationRow) -> Vec<(i64, Option<i32>)> {
        let mut chats = vec![(op.chat_id, None)];
        for chat in &self.config.chats {
            if chat.takes(AlertKind::Approval, op.env.as_ref()) && chat.id.0 != op.chat_id {
                chats.push((chat.id.0, chat.thread_id));
            }
        }
        chats
    }

    /// A run waits on environments' reviewers: the prompt of each, posted
    /// once (its key), while the operation still waits on its run.
    pub(super) async fn prompt_gates(&self, op: &OperationRow, run: &WorkflowRun) {
        if op.kind == OperationKind::Release || op.env.is_none() {
            return;
        }
        let pending = match self.github.pending_deployments(run.id).await {
            Ok(pending) => pending,
            Err(e) => {
                tracing::warn!(error = %e, run = run.id, "gates: pending deployments unreadable");
                return;
            }
        };
        let id = OperationId(op.id);
        let requester = self.name_of(op.requested_by);
        let mut alerts = Vec::new();
        for gate in pending {
            let environment = gate.environment.id;
            let text = say::prompt(
                op,
                &requester,
                &gate.environment.name,
                &run.html_url,
                gate.current_user_can_approve,
            );
            let buttons = gate
                .current_user_can_approve
                .then(|| serde_json::to_string(&gate_buttons(id, environment)))
                .transpose()
                .expect("buttons serialise");
            for (chat, thread_id) in self.gate_chats(op) {
                alerts.push(NewAlert {
                    buttons: buttons.clone(),
                    thread_id,
                    ..NewAlert::message(
                        gate_key(id, environment, chat),
                        AlertKind::Approval,
                        op.env.clone(),
                        ChatId(chat),
                        text.clone(),
                    )
                });
            }
        }
        let live = [OperationState::Dispatched, OperationState::Running];
        match self.store.enqueue_while(id, &live, &alerts).await {
            Ok(true) => self.outbox.notify_one(),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, operation = op.id, "gates: prompt unwritten"),
        }
    }

    /// A tap on a gate's Approve or Reject: judged by the bot's policy,
    /// claimed once, then the review given on GitHub with a comment naming
    /// the approver; every copy of the prompt is edited to say who.
    pub(super) async fn gate_tap(
        &self,
        tap: &Tap,
        id: OperationId,
        environment: u64,
        approve: bool,
    ) -> TapAnswer {
        let (op, run_id) = match self.gated(tap, id, environment).await {
            Ok(held) => held,
            Err(answer) => return answer,
        };
        let cfg = match self.env_config(&op) {
            Ok(cfg) => cfg,
            Err(answer) => return answer,
        };
        let policy = super::approvals::policy_for(&op, cfg);
        let roles = self
            .config
            .user(tap.user)
            .map(|u| u.roles.as_slice())
            .unwrap_or_default();
        let requester = crate::domain::UserId(op.requested_by);
        if let Err(refusal) = may_review_gate(tap.user, roles, requester, &policy) {
            let text = say::refused(&refusal);
            return self
                .refuse_tap(tap, "gate", refusal.code(), Some(id), text)
                .await;
        }
        let claim = match self
            .store
            .claim_gate(id, environment, tap.user, approve)
            .await
        {
            Ok(Ok(claim)) => claim,
            Ok(Err(review)) => {
                let by = self.name_of(review.by.0);
                let text = if review.done {
                    say::already_reviewed(&by)
                } else {
                    say::being_reviewed(&by)
                };
                self.audit_quietly(self.audit(
                    Some(tap.user),
                    tap.chat,
                    "tap:gate",
                    "refused:already_reviewed",
                    Some(id),
                    text.clone(),
                ))
                .await;
                return TapAnswer { text, alert: false };
            }
            Err(e) => {
                return TapAnswer {
                    text: self.internal_failure("gate: claim", &e),
                    alert: true,
                };
            }
        };
        let reviewed = self
            .review_on_github(tap, &op, run_id, environment, approve)
            .await;
        let name = match reviewed {
            Ok(name) => name,
            Err(answer) => {
                if let Err(e) = self.store.release_gate(claim).await {
                    tracing::warn!(error = %e, operation = op.id, "gates: claim kept");
                }
                return answer;
            }
        };
        let who = self.name_of(tap.user.0);
        let run_url = op.run_url.clone().unwrap_or_default();
        let text = say::reviewed(
            &op,
            &self.name_of(op.requested_by),
            &name,
            &run_url,
            &who,
            approve,
        );
        let step = if approve {
            EditStep::Approve
        } else {
            EditStep::Reject
        };
        let edits = self.gate_edits(&op, environment, step, &text).await;
        let outcome = if approve { "approved" } else { "rejected" };
        let audit = self.audit(
            Some(tap.user),
            tap.chat,
            "tap:gate",
            outcome,
            Some(id),
            format!("GitHub environment {name} of run {run_id}"),
        );
        if let Err(e) = self.store.gate_reviewed(claim, &audit, &edits).await {
            // GitHub took the review; only its record here is missing.
            tracing::error!(error = %e, operation = op.id, "gates: review unrecorded");
        }
        self.outbox.notify_one();
        TapAnswer {
            text: say::done(approve),
            alert: false,
        }
    }

    /// The operation and run a gate's button names, when the chat tapped
    /// in holds that gate's prompt; else the refusal.
    async fn gated(
        &self,
        tap: &Tap,
        id: OperationId,
        environment: u64,
    ) -> Result<(OperationRow, u64), TapAnswer> {
        let store_failed = |e: &crate::store::StoreError| TapAnswer {
            text: self.internal_failure("gate: store", e),
            alert: true,
        };
        let op = self
            .store
            .operation(id)
            .await
            .map_err(|e| store_failed(&e))?;
        let held = match (op, tap.chat) {
            (Some(op), Some(chat)) => {
                let key = gate_key(id, environment, chat);
                if self
                    .store
                    .has_alert(&key)
                    .await
                    .map_err(|e| store_failed(&e))?
                {
                    op.run_id
                        .and_then(|r| u64::try_from(r).ok())
                        .map(|r| (op, r))
                } else {
                    None
                }
            }
            _ => None,
        };
        match held {
            Some(held) => Ok(held),
            None => {
                let text = crate::messages::common::not_my_button();
                Err(self.refuse_tap(tap, "gate", "forged", None, text).await)
            }
        }
    }

    /// The edit of every copy of a gate's prompt to `text`, without its
    /// buttons.
    async fn gate_edits(
        &self,
        op: &OperationRow,
        environment: u64,
        step: EditStep,
        text: &str,
    ) -> Vec<NewAlert> {
        let id = OperationId(op.id);
        let mut edits = Vec::new();
        for (chat, thread_id) in self.gate_chats(op) {
            let key = gate_key(id, environment, chat);
            if matches!(self.store.has_alert(&key).await, Ok(true)) {
                edits.push(NewAlert {
                    thread_id,
                    ..NewAlert::edit(
                        &key,
                        step,
                        AlertKind::Approval,
                        op.env.clone(),
                        ChatId(chat),
                        text.to_owned(),
                    )
                });
            }
        }
        edits
    }

    /// Reviews the run's deployment to `environment` on GitHub, if GitHub
    /// still waits on it and the bot may: the environment's name, or the
    /// answer to show.
    async fn review_on_github(
        &self,
        tap: &Tap,
        op: &OperationRow,
        run_id: u64,
        environment: u64,
        approve: bool,
    ) -> Result<String, TapAnswer> {
        let failed = |e: &GithubError| TapAnswer {
            text: self.internal_failure("gate: GitHub", e),
            alert: true,
        };
        let pending = self
            .github
            .pending_deployments(run_id)
            .await
            .map_err(|e| failed(&e))?;
        let Some(gate) = pending
            .into_iter()
            .find(|p| p.environment.id == environment)
        else {
            return Err(TapAnswer {
                text: say::not_pending(op.env_name().unwrap_or("?")),
                alert: true,
            });
        };
        let name = gate.environment.name;
        if !gate.current_user_can_approve {
            return Err(TapAnswer {
                text: say::bot_not_a_reviewer(&name),
                alert: true,
            });
        }
        let comment = say::review_comment(&self.name_of(tap.user.0), tap.user.0, approve, op.id);
        match self
            .github
            .review_pending_deployment(run_id, environment, approve, &comment)
            .await
        {
            Ok(()) => Ok(name),
            // Reviewed meanwhile (on GitHub's site): nothing to do here.
            Err(GithubError::Status { status: 422, .. }) => Err(TapAnswer {
                text: say::not_pending(&name),
                alert: true,
            }),
            Err(e) => Err(failed(&e)),
        }
    }
}
