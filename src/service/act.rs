//! Acting from a failure alert: its buttons Roll back (to the last version
//! confirmed healthy there before), Lock and "I'm on it". Roll back and
//! Lock are the commands they stand for, given by whoever tapped in the
//! chat tapped in: the same access rules, the same checks and approvals
//! (the rollback flow itself), the same answers and audit, so a button
//! can never do what the command would refuse.

use super::guide::TapOutcome;
use super::taps::{Button, Tap, TapAnswer};
use super::{App, Incoming, Reply};
use crate::domain::{
    self, Access, AlertAct, Callback, ChatId, Command, OperationId, OperationKind, OperationState,
    Version,
};
use crate::messages;
use crate::messages::act as say;
use crate::store::{NewAlert, OperationRow};

impl App {
    /// Puts a failure alert's buttons under every alert about `op` (a
    /// deploy or rollback that failed or ended unhealthy in an
    /// environment); Roll back only when there is a version to go to.
    pub(super) async fn with_alert_buttons(&self, op: &OperationRow, alerts: &mut [NewAlert]) {
        let Some(env) = op.env.as_ref() else {
            return;
        };
        if op.kind == OperationKind::Release || alerts.is_empty() {
            return;
        }
        let id = OperationId(op.id);
        let button = |text: String, act: AlertAct| Button {
            text,
            data: Callback::Alert { op: id, act }.encode(),
        };
        let mut row = Vec::with_capacity(3);
        if let Some(version) = self.last_healthy_before(env, op).await {
            row.push(button(say::roll_back_button(&version), AlertAct::RollBack));
        }
        row.push(button(say::lock_button(), AlertAct::Lock));
        row.push(button(say::ack_button(), AlertAct::Acknowledge));
        let buttons = serde_json::to_string(&vec![row]).expect("buttons serialise");
        for alert in alerts {
            alert.buttons = Some(buttons.clone());
        }
    }

    /// A tap on one of a failure alert's buttons (`b:{op}:r|l|a`).
    pub(super) async fn alert_tap(&self, tap: &Tap, id: OperationId, act: AlertAct) -> TapOutcome {
        let op = match self.store.operation(id).await {
            Ok(Some(op))
                if op.env.is_some()
                    && op.kind != OperationKind::Release
                    && matches!(op.state, OperationState::Failed | OperationState::Unhealthy) =>
            {
                op
            }
            Ok(_) => {
                let text = messages::approvals::not_one_of_mine();
                return self
                    .refuse_tap(tap, "alert", "forged", None, text)
                    .await
                    .into();
            }
            Err(e) => {
                let text = self.internal_failure("alert tap: store", &e);
                return TapAnswer { text, alert: true }.into();
            }
        };
        let env = op.env.clone().expect("checked above");
        match act {
            AlertAct::RollBack => {
                let target = self.last_healthy_before(&env, &op).await;
                let Some(version) = target.and_then(|v| Version::parse(&v, true).ok()) else {
                    let text = say::no_healthy_version(env.as_str());
                    return TapAnswer { text, alert: true }.into();
                };
                let text = format!("/rollback {env} {version}");
                let command = Command::Rollback {
                    env,
                    version,
                    break_glass: None,
                };
                self.as_command(tap, &op, command, text).await
            }
            AlertAct::Lock => {
                let reason = say::lock_reason(&op);
                let text = format!("/lock {env} {reason}");
                let command = Command::Lock {
                    env,
                    reason,
                    duration: None,
                };
                self.as_command(tap, &op, command, text).await
            }
            AlertAct::Acknowledge => self.acknowledge(tap, &op).await.into(),
        }
    }

    /// Gives `command` as the tapper would have typed it (`text`) in the
    /// chat tapped in: refused as the command would be (the refusal shown
    /// on the tap), else its answer posted in the chat.
    async fn as_command(
        &self,
        tap: &Tap,
        op: &OperationRow,
        command: Command,
        text: String,
    ) -> TapOutcome {
        let Some(chat) = tap.chat else {
            let text = messages::approvals::not_one_of_mine();
            return self
                .refuse_tap(tap, "alert", "forged", None, text)
                .await
                .into();
        };
        let msg = Incoming {
            chat: ChatId(chat),
            private: false,
            user: tap.user,
            user_display: self.name_of(tap.user.0),
            text,
            bot_username: None,
            sent_at: chrono::Utc::now(),
        };
        let roles = self.config.user(tap.user).map(|u| u.roles.as_slice());
        let kind = self.chat_kind(&msg);
        let (outcome, reply) = match domain::access(Some(&command), msg.chat, kind, tap.user, roles)
        {
            Access::Refused(refusal) => (
                format!("refused:{}", refusal.code()),
                Some(Reply::new(messages::common::refused(&refusal.message()))),
            ),
            Access::Allowed => self.run(&command, &msg).await,
        };
        self.audit_quietly(self.audit(
            Some(tap.user),
            Some(chat),
            &format!("tap:{}", command.name()),
            &outcome,
            Some(OperationId(op.id)),
            crate::alerts::format::clip(&msg.text, 200),
        ))
        .await;
        if outcome.starts_with("refused") || outcome.starts_with("error") {
            let text = reply.as_ref().map(|r| r.html.as_str()).unwrap_or_default();
            return TapAnswer {
                text: say::refusal(text),
                alert: true,
            }
            .into();
        }
        TapOutcome {
            answer: TapAnswer {
                text: say::done(command.name()),
                alert: false,
            },
            edit: None,
            reply,
        }
    }

    /// "I'm on it": audited against the failed operation.
    async fn acknowledge(&self, tap: &Tap, op: &OperationRow) -> TapAnswer {
        let who = self.name_of(tap.user.0);
        self.audit_quietly(self.audit(
            Some(tap.user),
            tap.chat,
            "tap:ack",
            "acknowledged",
            Some(OperationId(op.id)),
            say::lock_reason(op),
        ))
        .await;
        TapAnswer {
            text: say::acknowledged(&who),
            alert: false,
        }
    }
}
