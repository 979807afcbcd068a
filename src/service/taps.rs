//! Button taps: approvals and rejections of deploys, QA's verdicts, the
//! answer to "Release anyway?". Callback data carries an operation id and
//! an action only; everything else is read from the store and checked.

use serde::{Deserialize, Serialize};

use super::App;
use super::deploy::{Recheck, policy_of};
use super::dispatch::Started;
use super::lapsed::{Shown, no_longer_counts};
use crate::alerts::format::escape;
use crate::domain::{
    AlertKind, DecisionFacts, Env, OperationId, OperationKind, UserId, counting_approvals,
    may_decide,
};
use crate::store::{Decided, Decision, NewAlert};

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

/// What a button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Approve,
    /// The fat-finger guard's second tap.
    ConfirmApprove,
    Reject,
    Verified,
    FoundIssues,
    ReleaseAnyway,
    CancelRelease,
}

/// Reads `d:<operation>:<a|r>` (a decision) or `q:<operation>:<v|i>` (QA's
/// verdict); anything else is not ours.
fn parse_tap(data: &str) -> Option<(OperationId, Action)> {
    let mut parts = data.split(':');
    let (Some(kind @ ("d" | "q" | "r")), Some(id), Some(action), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if id.is_empty() || id.len() > 18 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let action = match (kind, action) {
        ("d", "a") => Action::Approve,
        ("d", "c") => Action::ConfirmApprove,
        ("d", "r") => Action::Reject,
        ("q", "v") => Action::Verified,
        ("q", "i") => Action::FoundIssues,
        ("r", "y") => Action::ReleaseAnyway,
        ("r", "n") => Action::CancelRelease,
        _ => return None,
    };
    Some((OperationId(id.parse().ok()?), action))
}

/// The operation a `{kind}:{id}:{action}` button names, when the data is
/// exactly that shape (the direct-rollback and incident-report buttons).
pub(super) fn button_operation(data: &str, kind: &str, action: &str) -> Option<OperationId> {
    let mut parts = data.split(':');
    let (Some(k), Some(id), Some(a), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if k != kind
        || a != action
        || id.is_empty()
        || id.len() > 18
        || !id.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    id.parse().ok().map(OperationId)
}

impl App {
    /// A tap on an approval button.
    pub async fn handle_tap(&self, tap: &Tap) -> TapAnswer {
        let began = std::time::Instant::now();
        let refuse = |text: String| TapAnswer { text, alert: true };
        // Data that does not parse, names no operation, or names one of
        // the other kind (a release button on a deploy) is not ours.
        let found = match parse_tap(&tap.data) {
            None => None,
            Some((id, action)) => match self.store.operation(id).await {
                Ok(Some(op))
                    if (op.kind == OperationKind::Release)
                        == matches!(action, Action::ReleaseAnyway | Action::CancelRelease) =>
                {
                    // A decision is taken under one of its own prompts (the
                    // chat that asked, or an approval chat it was posted
                    // to): data naming another chat's operation is forged
                    // (QA's verdict buttons go to every routed chat).
                    let verdict = matches!(action, Action::Verified | Action::FoundIssues);
                    (verdict || self.asked_in(&op, tap.chat).await).then_some((id, action, op))
                }
                Ok(_) => None,
                Err(e) => {
                    return refuse(self.internal_failure("tap: store", &e));
                }
            },
        };
        let Some((id, action, op)) = found else {
            let text = "This button is not one of mine.".to_owned();
            return self.refuse_tap(tap, "unknown", "forged", None, text).await;
        };
        if op.kind == OperationKind::Release {
            return self
                .confirm_release(tap, &op, action == Action::ReleaseAnyway)
                .await;
        }
        let Some(cfg) = op
            .env
            .clone()
            .and_then(|e| self.config.environments.get(&e))
        else {
            return refuse("This environment is no longer configured.".into());
        };
        if matches!(action, Action::Verified | Action::FoundIssues) {
            return self
                .qa_verdict(tap, &op, cfg, action == Action::Verified)
                .await;
        }
        let policy = if super::rollback::is_rollback(&op) {
            super::rollback::rollback_policy(cfg)
        } else {
            policy_of(cfg)
        };
        let user = self.config.user(tap.user);
        let approving = matches!(action, Action::Approve | Action::ConfirmApprove);
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
        let verb = match action {
            Action::Approve => "approve",
            Action::ConfirmApprove => "confirm",
            _ => "reject",
        };
        if let Err(refusal) = may_decide(&facts) {
            return self
                .refuse_tap(tap, verb, refusal.code(), Some(id), refusal.message())
                .await;
        }
        let decider = self.name_of(tap.user.0);
        let requester = self.name_of(op.requested_by);
        let (head, workflow) = if super::rollback::is_rollback(&op) {
            (
                format!(
                    "<b>{}</b> · #{}\nAsked by {}",
                    super::deploy::op_title(&op),
                    op.id,
                    escape(&requester)
                ),
                "Rollback",
            )
        } else {
            (
                format!(
                    "<b>{}</b> · #{}\nAsked by {}",
                    super::deploy::op_title(&op),
                    op.id,
                    escape(&requester)
                ),
                "Deploy",
            )
        };
        // The fat-finger guard: a first Approve only arms the approval.
        if action == Action::Approve && cfg.approval.confirm_tap {
            return self.arm(tap, &op, cfg).await;
        }
        if action == Action::ConfirmApprove {
            let window = cfg.approval.confirm_window.as_millis() as i64;
            match self.store.armed_at(id, tap.user).await {
                Ok(Some(at)) if crate::store::now_ms() - at <= window => {}
                Ok(_) => {
                    let text = "The confirmation window has passed (or this is not your approval). Tap Approve again.";
                    return self
                        .refuse_tap(tap, verb, "not_armed", Some(id), text.into())
                        .await;
                }
                Err(e) => {
                    return refuse(self.internal_failure("confirm: store", &e));
                }
            }
        }
        let outcome_text = if approving {
            let next = if op.direct_ecs {
                "rolling back directly on ECS".to_owned()
            } else {
                format!("dispatching the {workflow} workflow")
            };
            format!("✅ {head}\nApproved by {}; {next}.", escape(&decider))
        } else {
            format!("❌ {head}\nRejected by {}.", escape(&decider))
        };
        let edits = self.edit_prompts(&op, verb, outcome_text).await;
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
        if approving {
            let checked = self.recheck(&op, cfg).await;
            tracing::debug!(operation = op.id, after = ?began.elapsed(), "tap: re-checked");
            match checked {
                Ok(()) => {}
                Err(Recheck::Stale(why)) => return self.stale(&op, &decider, &why).await,
                Err(Recheck::Unavailable(e)) => {
                    let reference = &super::reference();
                    tracing::error!(reference, error = %e, operation = op.id, "recheck: store");
                    return refuse(format!(
                        "Could not check the request just now (ref {reference}); nothing changed. Try again in a moment."
                    ));
                }
            }
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
                .lapsed_edits(&op, tap.user, &policy, needed, &shown)
                .await
            {
                Ok(edits) => edits,
                Err(answer) => return answer,
            }
        } else {
            Vec::new()
        };
        match self
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
            .await
        {
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
            Err(e) => refuse(self.internal_failure("tap: store", &e)),
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
            data: format!("d:{}:c", op.id),
        }]];
        let text = format!(
            "👆 {}: {}? Tap within {window}.",
            escape(&self.name_of(tap.user.0)),
            escape(&label.replacen("Confirm", "confirm", 1))
        );
        let confirm = NewAlert {
            buttons: Some(serde_json::to_string(&buttons).expect("buttons serialise")),
            ..NewAlert::message(
                format!(
                    "op:{}:arm:{}:{}",
                    op.id,
                    tap.user.0,
                    uuid::Uuid::new_v4().simple()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taps_are_read_strictly() {
        assert_eq!(
            parse_tap("d:12:a"),
            Some((OperationId(12), Action::Approve))
        );
        assert_eq!(parse_tap("d:12:r"), Some((OperationId(12), Action::Reject)));
        for forged in [
            "d:12:x",
            "d:12",
            "d:-1:a",
            "d::a",
            "x:12:a",
            "d:12:a:b",
            "d:1e3:a",
            "d:99999999999999999999:a",
            "",
        ] {
            assert_eq!(parse_tap(forged), None, "{forged}");
        }
    }

    #[test]
    fn button_data_fits_telegram() {
        let data = "d:999999999999999999:r";
        assert!(data.len() <= 64);
        assert!(parse_tap(data).is_some());
    }
}

#[cfg(test)]
mod properties {
    use super::parse_tap;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Forged callback data never panics, and what is accepted is
        /// exactly the shape the bot writes: kind, a number, an action.
        #[test]
        fn only_well_formed_taps_are_read(data in "\\PC{0,80}") {
            if let Some((id, _)) = parse_tap(&data) {
                let parts: Vec<&str> = data.split(':').collect();
                prop_assert_eq!(parts.len(), 3);
                prop_assert!(["d", "q", "r"].contains(&parts[0]));
                prop_assert_eq!(parts[1].parse::<i64>().ok(), Some(id.0));
                prop_assert!(data.len() <= 64);
            }
        }

        /// Near misses of real data are read only when exactly right.
        #[test]
        fn near_misses_are_refused(
            kind in "[a-z]", id in "[0-9-]{0,20}", action in "[a-z]{0,2}", extra in "(:[a-z0-9]{0,3})?",
        ) {
            let data = format!("{kind}:{id}:{action}{extra}");
            let ok = ["d", "q", "r"].contains(&kind.as_str())
                && !id.is_empty()
                && id.len() <= 18
                && id.bytes().all(|b| b.is_ascii_digit())
                && extra.is_empty()
                && matches!(
                    (kind.as_str(), action.as_str()),
                    ("d", "a" | "c" | "r") | ("q", "v" | "i") | ("r", "y" | "n")
                );
            prop_assert_eq!(parse_tap(&data).is_some(), ok, "{}", data);
        }
    }
}
