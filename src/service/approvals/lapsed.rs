//! Approvals that lapsed: which recorded approvals still count is the
//! config's call as it is now (`domain::counting_approvals`); when ones
//! given earlier no longer do and leave a request short, its prompt says
//! whose and how many more are needed, its buttons kept. With approval
//! groups, an approval counted while the request still waits shows the
//! groups' progress on the prompt the same way.

use crate::domain::EditStep;
use crate::domain::{EnvPolicy, OperationId, UserId, counting_approvals, group_progress, tally};
use crate::service::App;
use crate::service::taps::{Button, TapAnswer};
use crate::store::{NewAlert, OperationRow};

/// The prompt's edits written if the approval leaves the request waiting:
/// when earlier approvals lapsed, and (approval groups) when none did.
pub(super) struct Waiting {
    pub lapsed: Vec<NewAlert>,
    pub counted: Vec<NewAlert>,
}

/// Who the prompt's edit names: who asked, and who approved now.
pub(super) struct Shown<'a> {
    pub requester: &'a str,
    pub decider: &'a str,
}

impl App {
    /// The prompt's edits for when `decider`'s approval is recorded and
    /// the request still waits: approvals given earlier no longer count,
    /// or (groups) the groups' progress (written by the store only if
    /// that is how it turns out).
    pub(super) async fn waiting_edits(
        &self,
        op: &OperationRow,
        decider: UserId,
        policy: &EnvPolicy,
        needed: i64,
        shown: &Shown<'_>,
    ) -> Result<Waiting, TapAnswer> {
        let recorded = self
            .store
            .approvers_of(OperationId(op.id))
            .await
            .map_err(|e| TapAnswer {
                text: self.internal_failure("tap: approvals", &e),
                alert: true,
            })?;
        let mut recorded: Vec<UserId> = recorded.into_iter().map(UserId).collect();
        recorded.push(decider);
        let roles_of = |u: UserId| self.config.user(u).map(|u| u.roles.as_slice());
        let (counting, lapsed) =
            counting_approvals(&recorded, UserId(op.requested_by), policy, roles_of);
        let lapsed: Vec<String> = lapsed.iter().map(|u| self.name_of(u.0)).collect();
        let expires = op
            .expires_at
            .map(|at| crate::alerts::format::utc(crate::alerts::format::from_ms(at)));
        let text = crate::messages::approvals::lapsed(
            op,
            shown.requester,
            shown.decider,
            &lapsed,
            tally(&counting, &policy.groups, roles_of),
            needed,
            &policy.approvers,
            expires.as_deref(),
        );
        let lapsed = self
            .prompt_edits(op, EditStep::Lapsed { by: decider }, text)
            .await;
        let counted = if policy.groups.is_empty() {
            Vec::new()
        } else {
            let progress = group_progress(&counting, &policy.groups, roles_of);
            let text = crate::messages::approvals::counted(
                op,
                shown.requester,
                shown.decider,
                &progress,
                expires.as_deref(),
            );
            self.prompt_edits(op, EditStep::Counted { by: decider }, text)
                .await
        };
        Ok(Waiting { lapsed, counted })
    }

    /// Every copy of the prompt edited to `text`, its buttons kept.
    async fn prompt_edits(&self, op: &OperationRow, step: EditStep, text: String) -> Vec<NewAlert> {
        let buttons =
            serde_json::to_string(&approval_buttons_of(op.id)).expect("buttons serialise");
        self.edit_prompts(op, step, text)
            .await
            .into_iter()
            .map(|edit| NewAlert {
                buttons: Some(buttons.clone()),
                ..edit
            })
            .collect()
    }
}

/// Approve / Reject of one operation (the prompt's own buttons, again
/// under an edit of it).
fn approval_buttons_of(op: i64) -> Vec<Vec<Button>> {
    super::approval_buttons(crate::domain::OperationId(op))
}
