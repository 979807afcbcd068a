//! Button taps: approvals and rejections of deploys, QA's verdicts, the
//! answer to "Release anyway?". Callback data carries an operation id and
//! an action only; everything else is read from the store and checked.

use serde::{Deserialize, Serialize};

use super::App;
use super::deploy::{Recheck, policy_of};
use super::dispatch::Started;
use super::lapsed::{Shown, no_longer_counts};
use crate::alerts::format::escape;
use crate::config::EnvironmentConfig;
use crate::domain::{AlertKey, EditStep, OpStep};
use crate::domain::{
    AlertKind, Callback, DecisionFacts, Env, OperationId, OperationKind, QaVerdict, UserId, Vote,
    counting_approvals, may_decide,
};
use crate::store::{Decided, Decision, NewAlert, OperationRow};

/// One inline button: its label and its `callback_data` (≤ 64 bytes: an
/// operation id and an action, never the version or the environment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub text: String,
    pub data: String,
}

/// A tap on a button, as the Telegram front hands it over.
#[derive(Debug, Clone)]
pub struct Tap {
    pub user: UserId,
    /// The chat of the message the button is under, when Telegram says.
    pub chat: Option<i64>,
    pub data: String,
}

/// The answer to a tap (`answerCallbackQuery`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapAnswer {
    pub text: String,
    /// Show as an alert the person must dismiss (refusals).
    pub alert: bool,
}

impl App {
    /// The operation a prompt's button names, if it is of the button's
    /// kind (a release for "Release anyway?") and was asked about in the
    /// chat tapped in; otherwise the refusal.
    async fn prompted(
        &self,
        tap: &Tap,
        id: OperationId,
        release: bool,
        anywhere: bool,
    ) -> Result<OperationRow, TapAnswer> {
        match self.store.operation(id).await {
            // A decision is taken under one of its own prompts (the chat
            // that asked, or an approval chat it was posted to): data
            // naming another chat's operation is forged (QA's verdict
            // buttons go to every routed chat).
            Ok(Some(op))
                if (op.kind == OperationKind::Release) == release
                    && (anywhere || self.asked_in(&op, tap.chat).await) =>
            {
                Ok(op)
            }
            Ok(_) => {
                let text = "This button is not one of mine.".to_owned();
                Err(self.refuse_tap(tap, "unknown", "forged", None, text).await)
            }
            Err(e) => Err(TapAnswer {
                text: self.internal_failure("tap: store", &e),
                alert: true,
            }),
        }
    }

    /// The environment an operation runs in, as configured now.
    fn env_config(&self, op: &OperationRow) -> Result<&EnvironmentConfig, TapAnswer> {
        op.env
            .as_ref()
            .and_then(|e| self.config.environments.get(e))
            .ok_or_else(|| TapAnswer {
                text: "This environment is no longer configured.".into(),
                alert: true,
            })
    }

    /// A tap on "Release anyway" or "Cancel".
    pub(super) async fn release_anyway_tap(
        &self,
        tap: &Tap,
        id: OperationId,
        go: bool,
    ) -> TapAnswer {
        match self.prompted(tap, id, true, false).await {
            Ok(op) => self.confirm_release(tap, &op, go).await,
            Err(answer) => answer,
        }
    }

    /// A tap on QA's "Verified" or "Found issues".
    pub(super) async fn qa_tap(&self, tap: &Tap, id: OperationId, verdict: QaVerdict) -> TapAnswer {
        let op = match self.prompted(tap, id, false, true).await {
            Ok(op) => op,
            Err(answer) => return answer,
        };
        match self.env_config(&op) {
            Ok(cfg) => {
                self.qa_verdict(tap, &op, cfg, verdict == QaVerdict::Verified)
                    .await
            }
            Err(answer) => answer,
        }
    }

    /// A tap on Approve (or its confirmation) or Reject of a deploy or
    /// rollback request.
    pub(super) async fn vote_tap(&self, tap: &Tap, id: OperationId, vote: Vote) -> TapAnswer {
        let op = match self.prompted(tap, id, false, false).await {
            Ok(op) => op,
            Err(answer) => return answer,
        };
        match self.env_config(&op) {
            Ok(cfg) => self.vote(tap, &op, cfg, vote).await,
            Err(answer) => answer,
        }
    }

    async fn vote(
        &self,
        tap: &Tap,
        op: &OperationRow,
        cfg: &EnvironmentConfig,
        vote: Vote,
    ) -> TapAnswer {
        let began = std::time::Instant::now();
        let id = OperationId(op.id);
        let policy = if super::rollback::is_rollback(op) {
            super::rollback::rollback_policy(cfg)
        } else {
            policy_of(cfg)
        };
        let user = self.config.user(tap.user);
        let approving = matches!(vote, Vote::Approve | Vote::ConfirmApprove);
        let facts = DecisionFacts {
            requester: UserId(op.requested_by),
            state: op.state,
            expired: op.expires_at.is_some_and(|t| t <= crate::store::now_ms()),
            decider: tap.user,
            decider_roles: user.map(|u| u.roles.as_slice()),
            already_voted: false,
            approve: approving,
            policy: &policy,
        };
        let verb = match vote {
            Vote::Approve => "approve",
            Vote::ConfirmApprove => "confirm",
            Vote::Reject => "reject",
        };
        if let Err(refusal) = may_decide(&facts) {
            return self
                .refuse_tap(tap, verb, refusal.code(), Some(id), refusal.message())
                .await;
        }
        let decider = self.name_of(tap.user.0);
        let requester = self.name_of(op.requested_by);
        let head = format!(
            "<b>{}</b> · #{}\nAsked by {}",
            super::deploy::op_title(op),
            op.id,
            escape(&requester)
        );
        let workflow = if super::rollback::is_rollback(op) {
            "Rollback"
        } else {
            "Deploy"
        };
        // The fat-finger guard: a first Approve only arms the approval.
        if vote == Vote::Approve && cfg.approval.confirm_tap {
            return self.arm(tap, op, cfg).await;
        }
        if vote == Vote::ConfirmApprove
            && let Err(answer) = self.armed_in_time(tap, id, cfg, verb).await
        {
            return answer;
        }
        let (step, outcome_text) = vote_outcome(op, vote, &head, &decider, workflow);
        let edits = self.edit_prompts(op, step, outcome_text).await;
        let audit = self.audit(
            Some(tap.user),
            Some(op.chat_id),
            &format!("tap:{verb}"),
            "recorded",
            Some(id),
            String::new(),
        );
        let needed = i64::from(policy.approvals.max(1));
        // What the request rested on is checked again before the approval
        // counts: a stale request is cancelled, never dispatched.
        if approving && let Err(answer) = self.recheck_vote(op, cfg, &decider, began).await {
            return answer;
        }
        // Approvals follow the config as it is now: one given by someone
        // since removed from `[[users]]`, or who lost the approver role,
        // no longer counts; the prompt says so when it leaves one short.
        let requester_id = UserId(op.requested_by);
        let roles_of = |u: UserId| self.config.user(u).map(|u| u.roles.as_slice());
        let counts = |u: UserId| {
            counting_approvals(&[u], requester_id, &policy, roles_of)
                .1
                .is_empty()
        };
        let lapsed_edits = if approving {
            let shown = Shown {
                head: &head,
                decider: &decider,
            };
            match self
                .lapsed_edits(op, tap.user, &policy, needed, &shown)
                .await
            {
                Ok(edits) => edits,
                Err(answer) => return answer,
            }
        } else {
            Vec::new()
        };
        let decided = self
            .store
            .decide(
                id,
                &Decision {
                    user: tap.user,
                    approve: approving,
                    needed,
                    counts: &counts,
                    audit: &audit,
                    alerts_if_moved: &edits,
                    alerts_if_lapsed: &lapsed_edits,
                },
            )
            .await;
        self.answer_vote(tap, op, verb, needed, workflow, began, decided)
            .await
    }

    /// What the request rested on, checked again before an approval
    /// counts: a stale request is cancelled, never dispatched.
    async fn recheck_vote(
        &self,
        op: &OperationRow,
        cfg: &EnvironmentConfig,
        decider: &str,
        began: std::time::Instant,
    ) -> Result<(), TapAnswer> {
        let checked = self.recheck(op, cfg).await;
        tracing::debug!(operation = op.id, after = ?began.elapsed(), "tap: re-checked");
        match checked {
            Ok(()) => Ok(()),
            Err(Recheck::Stale(why)) => Err(self.stale(op, decider, &why).await),
            Err(Recheck::Unavailable(e)) => {
                let reference = &super::reference();
                tracing::error!(reference, error = %e, operation = op.id, "recheck: store");
                Err(TapAnswer {
                    text: format!(
                        "Could not check the request just now (ref {reference}); nothing changed. Try again in a moment."
                    ),
                    alert: true,
                })
            }
        }
    }

    /// The fat-finger guard's second tap counts only within the window
    /// after the Confirm button of this person's first reached the chat.
    async fn armed_in_time(
        &self,
        tap: &Tap,
        id: OperationId,
        cfg: &EnvironmentConfig,
        verb: &str,
    ) -> Result<(), TapAnswer> {
        let window = cfg.approval.confirm_window.as_millis() as i64;
        match self.store.confirm_window_start(id, tap.user).await {
            Ok(Some(at)) if crate::store::now_ms() - at <= window => Ok(()),
            Ok(_) => {
                let text = "The confirmation window has passed (or this is not your approval). Tap Approve again.";
                Err(self
                    .refuse_tap(tap, verb, "not_armed", Some(id), text.into())
                    .await)
            }
            Err(e) => Err(TapAnswer {
                text: self.internal_failure("confirm: store", &e),
                alert: true,
            }),
        }
    }

    /// What the tapper is told once the store has the decision.
    #[allow(clippy::too_many_arguments)]
    async fn answer_vote(
        &self,
        tap: &Tap,
        op: &OperationRow,
        verb: &str,
        needed: i64,
        workflow: &str,
        began: std::time::Instant,
        decided: Result<Decided, crate::store::StoreError>,
    ) -> TapAnswer {
        let id = OperationId(op.id);
        match decided {
            Ok(Decided::Claimed(claim)) => {
                tracing::debug!(operation = id.0, after = ?began.elapsed(), "tap: approved and claimed");
                self.outbox.notify_one();
                // A dispatch failure is alerted and recorded by dispatch
                // itself.
                let text = match self.dispatch(*claim).await {
                    Ok(Started::Workflow) => {
                        format!("Approved. Dispatching the {workflow} workflow.")
                    }
                    Ok(Started::OnEcs(said)) => format!("Approved. {said}"),
                    Err(e) if op.direct_ecs => format!("Approved. {e}"),
                    Err(e) => format!("Approved, but the dispatch failed: {e}"),
                };
                TapAnswer { text, alert: false }
            }
            Ok(Decided::Rejected) => {
                self.outbox.notify_one();
                TapAnswer {
                    text: "Rejected.".into(),
                    alert: false,
                }
            }
            Ok(Decided::Counted { approvals, lapsed }) if !lapsed.is_empty() => {
                self.outbox.notify_one();
                let names: Vec<String> = lapsed.iter().map(|u| self.name_of(u.0)).collect();
                TapAnswer {
                    text: format!(
                        "Recorded, but {}: {approvals} of {needed} approvals.",
                        no_longer_counts(&names)
                    ),
                    alert: false,
                }
            }
            Ok(Decided::Counted { approvals, .. }) => TapAnswer {
                text: format!("Recorded: {approvals} of {needed} approvals."),
                alert: false,
            },
            Ok(Decided::AlreadyVoted) => {
                let text = "You have already decided on this request.".to_owned();
                self.refuse_tap(tap, verb, "already_voted", Some(id), text)
                    .await
            }
            Ok(Decided::TooLate(state)) => {
                let text = format!("Too late: this request is already {state}.");
                self.refuse_tap(tap, verb, "already_decided", Some(id), text)
                    .await
            }
            Err(e) => TapAnswer {
                text: self.internal_failure("tap: store", &e),
                alert: true,
            },
        }
    }

    /// The fat-finger guard's first tap: arms this person's approval and
    /// offers the button that confirms it.
    async fn arm(
        &self,
        tap: &Tap,
        op: &crate::store::OperationRow,
        cfg: &crate::config::EnvironmentConfig,
    ) -> TapAnswer {
        let id = OperationId(op.id);
        let env = op.env_name().unwrap_or("?");
        let label = if super::rollback::is_rollback(op) {
            format!("Confirm rollback {env} → {}", op.version)
        } else {
            format!("Confirm deploy {} → {env}", op.version)
        };
        let window = crate::alerts::format::span(cfg.approval.confirm_window.as_secs() as i64);
        let buttons = vec![vec![Button {
            text: label.clone(),
            data: Callback::Decide {
                op: id,
                vote: Vote::ConfirmApprove,
            }
            .encode(),
        }]];
        let text = format!(
            "👆 {}: {}? Tap within {window}.",
            escape(&self.name_of(tap.user.0)),
            escape(&label.replacen("Confirm", "confirm", 1))
        );
        let confirm = NewAlert {
            buttons: Some(serde_json::to_string(&buttons).expect("buttons serialise")),
            ..NewAlert::message(
                AlertKey::op(
                    id,
                    OpStep::Arm {
                        by: tap.user,
                        nonce: uuid::Uuid::new_v4().simple().to_string(),
                    },
                ),
                AlertKind::Approval,
                Env::parse(env).ok(),
                // Under the prompt the approver tapped (a copy of it may
                // be in another chat than the one that asked).
                crate::domain::ChatId(tap.chat.unwrap_or(op.chat_id)),
                text,
            )
        };
        let audit = self.audit(
            Some(tap.user),
            tap.chat,
            "tap:approve",
            "armed",
            Some(id),
            String::new(),
        );
        match self
            .store
            .arm_approval(id, tap.user, &audit, &[confirm])
            .await
        {
            Ok(_) => {
                self.outbox.notify_one();
                TapAnswer {
                    text: format!("Now tap “{label}” within {window}."),
                    alert: false,
                }
            }
            Err(e) => TapAnswer {
                text: self.internal_failure("arm: store", &e),
                alert: true,
            },
        }
    }

    /// Refuses a tap: audited, answered as an alert to dismiss.
    pub(super) async fn refuse_tap(
        &self,
        tap: &Tap,
        verb: &str,
        code: &str,
        op: Option<OperationId>,
        text: String,
    ) -> TapAnswer {
        self.audit_quietly(self.audit(
            Some(tap.user),
            tap.chat,
            &format!("tap:{verb}"),
            &format!("refused:{code}"),
            op,
            text.clone(),
        ))
        .await;
        TapAnswer { text, alert: true }
    }
}

/// The edit a vote makes to the prompts, and its text.
fn vote_outcome(
    op: &OperationRow,
    vote: Vote,
    head: &str,
    decider: &str,
    workflow: &str,
) -> (EditStep, String) {
    let text = if vote == Vote::Reject {
        format!("❌ {head}\nRejected by {}.", escape(decider))
    } else {
        let next = if op.direct_ecs {
            "rolling back directly on ECS".to_owned()
        } else {
            format!("dispatching the {workflow} workflow")
        };
        format!("✅ {head}\nApproved by {}; {next}.", escape(decider))
    };
    let step = match vote {
        Vote::Approve => EditStep::Approve,
        Vote::ConfirmApprove => EditStep::ConfirmApprove,
        Vote::Reject => EditStep::Reject,
    };
    (step, text)
}
