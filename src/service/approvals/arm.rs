//! The fat-finger guard (`approval.confirm_tap`): a first Approve only
//! arms the approval and offers the button that confirms it; the second
//! tap counts within `approval.confirm_window` only.

use crate::config::EnvironmentConfig;
use crate::domain::{AlertKey, AlertKind, Callback, ChatId, Env, OpStep, OperationId, Vote};
use crate::messages::approvals as msg;
use crate::service::App;
use crate::service::taps::{Button, Tap, TapAnswer};
use crate::store::{NewAlert, OperationRow};

impl App {
    /// The fat-finger guard's first tap: arms this person's approval and
    /// offers the button that confirms it.
    pub(super) async fn arm(
        &self,
        tap: &Tap,
        op: &OperationRow,
        cfg: &EnvironmentConfig,
    ) -> TapAnswer {
        let id = OperationId(op.id);
        let env = op.env_name().unwrap_or("?");
        let label = msg::confirm_label(op);
        let window = crate::alerts::format::span(cfg.approval.confirm_window.as_secs() as i64);
        let buttons = vec![vec![Button {
            text: label.clone(),
            data: Callback::Decide {
                op: id,
                vote: Vote::ConfirmApprove,
            }
            .encode(),
        }]];
        let text = msg::arm_prompt(&self.name_of(tap.user.0), &label, &window);
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
                ChatId(tap.chat.unwrap_or(op.chat_id)),
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
                    text: msg::arm_answer(&label, &window),
                    alert: false,
                }
            }
            Err(e) => TapAnswer {
                text: self.internal_failure("arm: store", &e),
                alert: true,
            },
        }
    }

    /// The fat-finger guard's second tap counts only within the window
    /// after the Confirm button of this person's first reached the chat.
    pub(super) async fn armed_in_time(
        &self,
        tap: &Tap,
        id: OperationId,
        cfg: &EnvironmentConfig,
        verb: &str,
    ) -> Result<(), TapAnswer> {
        let window = cfg.approval.confirm_window.as_millis() as i64;
        match self.store.confirm_window_start(id, tap.user).await {
            Ok(Some(at)) if crate::store::now_ms() - at <= window => Ok(()),
            Ok(_) => Err(self
                .refuse_tap(tap, verb, "not_armed", Some(id), msg::not_armed())
                .await),
            Err(e) => Err(TapAnswer {
                text: self.internal_failure("confirm: store", &e),
                alert: true,
            }),
        }
    }
}
