//! The requester's answer to "Release anyway?": the release checks run
//! again on confirmation, and the answer moves the release once.

use super::App;
use super::taps::{Tap, TapAnswer};
use crate::alerts::format::escape;
use crate::domain::EditStep;
use crate::domain::{OperationId, OperationState, ReleaseType, ReleaseVerdict, Version};
use crate::store::Transition;

impl App {
    /// The requester's answer to "Release anyway?".
    pub(super) async fn confirm_release(
        &self,
        tap: &Tap,
        op: &crate::store::OperationRow,
        go: bool,
    ) -> TapAnswer {
        let id = OperationId(op.id);
        let verb = if go { "release_anyway" } else { "cancel" };
        let refusal = if tap.user.0 != op.requested_by {
            Some((
                "not_the_requester",
                format!("Only {} can answer this.", self.name_of(op.requested_by)),
            ))
        } else if op.state != OperationState::AwaitingApproval {
            Some((
                "already_decided",
                format!("Too late: this request is already {}.", op.state),
            ))
        } else if op.expires_at.is_some_and(|t| t <= crate::store::now_ms()) {
            Some((
                "expired",
                "This question has expired. Ask again if it is still wanted.".to_owned(),
            ))
        } else {
            None
        };
        if let Some((code, text)) = refusal {
            return self.refuse_tap(tap, verb, code, Some(id), text).await;
        }
        let head = format!(
            "<b>Release {} ({})</b> · #{}",
            escape(&op.version),
            escape(op.release_type.map_or("?", ReleaseType::as_str)),
            op.id
        );
        let who = escape(&self.name_of(tap.user.0));
        // The checks are run again: ten minutes may have turned CI red or
        // seen the version released by someone else.
        let recheck = if go {
            let kind = op.release_type;
            let version = Version::parse(&op.version, true).ok();
            match (version, kind) {
                (Some(version), Some(kind)) => {
                    match self.run_release_checks(&version, kind).await {
                        Ok((checks, ReleaseVerdict::Refuse)) => Some(checks),
                        Ok(_) => None,
                        Err(e) => Some(format!("the checks could not run ({})", escape(&e))),
                    }
                }
                _ => Some("the stored request is unreadable".into()),
            }
        } else {
            None
        };
        let (to, text) = match (go, &recheck) {
            (true, None) => (
                OperationState::Approved,
                format!(
                    "⚠️ {head}\nConfirmed by {who} despite the bump; dispatching the Release workflow."
                ),
            ),
            (true, Some(why)) => (
                OperationState::Cancelled,
                format!("⛔ {head}\nConfirmed by {who}, but the checks no longer pass:\n{why}"),
            ),
            (false, _) => (
                OperationState::Cancelled,
                format!("✖️ {head}\nCancelled by {who}."),
            ),
        };
        let step = if go {
            EditStep::ReleaseAnyway
        } else {
            EditStep::CancelRelease
        };
        let edits = self.edit_prompts(op, step, text).await;
        let audit = self.audit(
            Some(tap.user),
            tap.chat,
            &format!("tap:{verb}"),
            to.as_str(),
            Some(id),
            String::new(),
        );
        match self
            .transition(
                id,
                Transition::new(&[OperationState::AwaitingApproval], to),
                &audit,
                &edits,
            )
            .await
        {
            Ok(true) => {
                if recheck.is_some() {
                    TapAnswer {
                        text: "Not released: the checks no longer pass.".into(),
                        alert: true,
                    }
                } else if go {
                    if let Ok(Some(claim)) = self.store.claim_dispatch(id).await {
                        let _ = self.dispatch(claim).await;
                    }
                    TapAnswer {
                        text: "Confirmed. Dispatching the Release workflow.".into(),
                        alert: false,
                    }
                } else {
                    TapAnswer {
                        text: "Cancelled.".into(),
                        alert: false,
                    }
                }
            }
            Ok(false) => TapAnswer {
                text: "Too late: this request was already answered.".into(),
                alert: true,
            },
            Err(e) => TapAnswer {
                text: self.internal_failure("release confirm: store", &e),
                alert: true,
            },
        }
    }
}
