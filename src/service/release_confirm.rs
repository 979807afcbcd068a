//! The requester's answer to "Release anyway?": the release checks run
//! again on confirmation, and the answer moves the release once.

use super::App;
use super::taps::{Tap, TapAnswer};
use crate::domain::{EditStep, UserId, may_answer_release_question};
use crate::domain::{OperationId, OperationState, ReleaseVerdict, Version};
use crate::messages::{approvals, releases};
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
        let refusal = if !may_answer_release_question(tap.user, UserId(op.requested_by)) {
            Some((
                "not_the_requester",
                releases::only_the_requester(&self.name_of(op.requested_by)),
            ))
        } else if op.state != OperationState::AwaitingApproval {
            Some(("already_decided", approvals::too_late(op.state)))
        } else if op.expires_at.is_some_and(|t| t <= crate::store::now_ms()) {
            Some(("expired", releases::question_expired()))
        } else {
            None
        };
        if let Some((code, text)) = refusal {
            return self.refuse_tap(tap, verb, code, Some(id), text).await;
        }
        // A release with a checklist is released anyway only once ticked.
        if go && let Some(refusal) = self.unticked_refusal(tap, id).await {
            return refusal;
        }
        let who = self.name_of(tap.user.0);
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
                        Err(e) => Some(releases::checks_could_not_run(&e)),
                    }
                }
                _ => Some(releases::request_unreadable()),
            }
        } else {
            None
        };
        let (to, text) = match (go, &recheck) {
            (true, None) => (
                OperationState::Approved,
                releases::confirmed(&op.version, op.release_type, op.id, &who),
            ),
            (true, Some(why)) => (
                OperationState::Cancelled,
                releases::confirmed_but_refused(&op.version, op.release_type, op.id, &who, why),
            ),
            (false, _) => (
                OperationState::Cancelled,
                releases::cancelled(&op.version, op.release_type, op.id, &who),
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
                        text: releases::not_released_answer(),
                        alert: true,
                    }
                } else if go {
                    if let Ok(Some(claim)) = self.store.claim_dispatch(id).await {
                        let _ = self.dispatch(claim).await;
                    }
                    TapAnswer {
                        text: releases::confirmed_answer(),
                        alert: false,
                    }
                } else {
                    TapAnswer {
                        text: releases::cancelled_answer(),
                        alert: false,
                    }
                }
            }
            Ok(false) => TapAnswer {
                text: releases::already_answered(),
                alert: true,
            },
            Err(e) => TapAnswer {
                text: self.internal_failure("release confirm: store", &e),
                alert: true,
            },
        }
    }
}
