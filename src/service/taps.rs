//! Button taps: QA's verdicts, the answer to "Release anyway?", and what
//! every tap shares (the operation a button names, its refusal).
//! Approvals and rejections are `approvals`'. Callback data carries an
//! operation id and an action only; everything else is read from the store
//! and checked.

use serde::{Deserialize, Serialize};

use super::App;
use crate::config::EnvironmentConfig;
use crate::domain::{OperationId, OperationKind, QaVerdict, UserId};
use crate::store::OperationRow;

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
    pub(super) async fn prompted(
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
                let text = crate::messages::common::not_my_button();
                Err(self.refuse_tap(tap, "unknown", "forged", None, text).await)
            }
            Err(e) => Err(TapAnswer {
                text: self.internal_failure("tap: store", &e),
                alert: true,
            }),
        }
    }

    /// The environment an operation runs in, as configured now.
    pub(super) fn env_config(&self, op: &OperationRow) -> Result<&EnvironmentConfig, TapAnswer> {
        op.env
            .as_ref()
            .and_then(|e| self.config.environments.get(e))
            .ok_or_else(|| TapAnswer {
                text: crate::messages::common::env_gone(),
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
