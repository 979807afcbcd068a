//! Approvals that lapsed: which recorded approvals still count is the
//! config's call as it is now (`domain::counting_approvals`); when ones
//! given earlier no longer do and leave a request short, its prompt says
//! whose and how many more are needed, its buttons kept.

use crate::domain::EditStep;
use crate::domain::{EnvPolicy, OperationId, UserId, counting_approvals};
use crate::service::App;
use crate::service::taps::{Button, TapAnswer};
use crate::store::{NewAlert, OperationRow};

/// Who the prompt's edit names: who asked, and who approved now.
pub(super) struct Shown<'a> {
    pub requester: &'a str,
    pub decider: &'a str,
}

impl App {
    /// The prompt's edits for when `decider`'s approval is recorded but
    /// approvals given earlier no longer count (written by the store only
    /// if that is how it turns out).
    pub(super) async fn lapsed_edits(
        &self,
        op: &OperationRow,
        decider: UserId,
        policy: &EnvPolicy,
        needed: i64,
        shown: &Shown<'_>,
    ) -> Result<Vec<NewAlert>, TapAnswer> {
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
            counting.len() as i64,
            needed,
            &policy.approvers,
            expires.as_deref(),
        );
        let buttons =
            serde_json::to_string(&approval_buttons_of(op.id)).expect("buttons serialise");
        Ok(self
            .edit_prompts(op, EditStep::Lapsed { by: decider }, text)
            .await
            .into_iter()
            .map(|edit| NewAlert {
                buttons: Some(buttons.clone()),
                ..edit
            })
            .collect())
    }
}

/// Approve / Reject of one operation (the prompt's own buttons, again
/// under an edit of it).
fn approval_buttons_of(op: i64) -> Vec<Vec<Button>> {
    super::approval_buttons(crate::domain::OperationId(op))
}
