//! Approvals that lapsed: which recorded approvals still count is the
//! config's call as it is now (`domain::counting_approvals`); when ones
//! given earlier no longer do and leave a request short, its prompt says
//! whose and how many more are needed, its buttons kept.

use crate::alerts::format::escape;
use crate::domain::EditStep;
use crate::domain::{EnvPolicy, OperationId, Role, UserId, counting_approvals};
use crate::service::App;
use crate::service::taps::{Button, TapAnswer};
use crate::store::{NewAlert, OperationRow};

/// What the prompt's edit opens with: its title and requester (HTML), and
/// who approved now.
pub(super) struct Shown<'a> {
    pub head: &'a str,
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
        let text = lapsed_text(
            shown,
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

/// "Bob's approval no longer counts", "Bob's and Erin's approvals no
/// longer count" (plain text).
pub(super) fn no_longer_counts(names: &[String]) -> String {
    let whose: Vec<String> = names.iter().map(|n| format!("{n}'s")).collect();
    match whose.as_slice() {
        [one] => format!("{one} approval no longer counts"),
        many => format!("{} approvals no longer count", many.join(" and ")),
    }
}

/// The prompt, once an approval left it short because approvals given
/// earlier no longer count (`head` is HTML, the names are not).
fn lapsed_text(
    shown: &Shown<'_>,
    lapsed: &[String],
    counting: i64,
    needed: i64,
    approvers: &[Role],
    expires: Option<&str>,
) -> String {
    let roles: Vec<&str> = approvers.iter().map(Role::as_str).collect();
    let expires = expires
        .map(|at| format!("\nExpires {at}"))
        .unwrap_or_default();
    format!(
        "⏳ {}\nApproved by {}. {} (no longer an approver here).\n\
         {counting} of {needed} approvals; {} more needed from: {}.{expires}",
        shown.head,
        escape(shown.decider),
        escape(&no_longer_counts(lapsed)),
        needed - counting,
        escape(&roles.join(", "))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lapsed_approval_is_told_on_the_prompt() {
        let shown = Shown {
            head: "<b>Deploy 1.3.0 → prod</b> · #2\nAsked by Alice",
            decider: "Dave",
        };
        let text = lapsed_text(
            &shown,
            &["Bob".to_owned()],
            1,
            2,
            &[Role::new("senior")],
            Some("2026-11-30 03:10 UTC"),
        );
        insta::assert_snapshot!(text);
        assert_eq!(
            no_longer_counts(&["Bob".to_owned(), "Erin".to_owned()]),
            "Bob's and Erin's approvals no longer count"
        );
    }
}
