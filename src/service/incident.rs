//! The incident tools: `/lock` and `/unlock` with the lock keeper
//! ([`locks`]), `/mute` and `/unmute` ([`mutes`]), `/history`
//! ([`history`]), and here who may use them and `/cancel <id>`.

mod history;
mod locks;
mod mutes;

use super::{App, Incoming, Reply};
use crate::domain::{EditStep, OperationId, OperationState, UserId};
use crate::messages::incident as text;
use crate::store::Transition;

/// States in which a request may still be withdrawn: nothing dispatched.
const WITHDRAWABLE: [OperationState; 3] = [
    OperationState::Requested,
    OperationState::AwaitingApproval,
    OperationState::Approved,
];

impl App {
    pub(super) fn holds_incident_role(&self, msg: &Incoming) -> bool {
        self.config.user(msg.user).is_some_and(|u| {
            crate::domain::may_act_in_incident(&u.roles, &self.config.incident.roles).is_ok()
        })
    }

    /// The roles the incident tools are for, by name.
    fn incident_roles(&self) -> Vec<&str> {
        self.config
            .incident
            .roles
            .iter()
            .map(|r| r.as_str())
            .collect()
    }

    pub(super) fn incident_refusal(&self, what: &str) -> (String, Option<Reply>) {
        (
            "refused:not_allowed".into(),
            Some(Reply::new(text::not_your_role(
                what,
                &self.incident_roles(),
            ))),
        )
    }

    /// `/cancel <id>`: the requester, or someone holding an incident role,
    /// withdraws a request nothing was dispatched for yet.
    pub(super) async fn cancel_request(
        &self,
        msg: &Incoming,
        id: OperationId,
    ) -> (String, Option<Reply>) {
        let op = match self.store.operation(id).await {
            Ok(Some(op)) => op,
            Ok(None) => {
                return (
                    "refused:unknown".into(),
                    Some(Reply::new(text::no_such_request(id.0))),
                );
            }
            Err(e) => return self.internal_error("cancel: store", &e),
        };
        let requester = self.name_of(op.requested_by);
        let roles = self
            .config
            .user(msg.user)
            .map(|u| u.roles.as_slice())
            .unwrap_or(&[]);
        let incident_roles = &self.config.incident.roles;
        if !crate::domain::may_withdraw(msg.user, UserId(op.requested_by), roles, incident_roles) {
            return (
                "refused:not_yours".into(),
                Some(Reply::new(text::not_yours_to_withdraw(
                    op.id,
                    &requester,
                    &self.incident_roles(),
                ))),
            );
        }
        if !WITHDRAWABLE.contains(&op.state) {
            let why = text::too_late_to_withdraw(&op);
            return ("refused:too_late".into(), Some(Reply::new(why)));
        }
        let who = self.name_of(msg.user.0);
        let edit = text::withdrawn(&op, &requester, &who);
        let edits = self.edit_prompts(&op, EditStep::Cancelled, edit).await;
        let audit = self.audit(
            Some(msg.user),
            Some(msg.chat.0),
            "operation:cancel",
            "cancelled",
            Some(id),
            String::new(),
        );
        match self
            .transition(
                id,
                Transition::new(&WITHDRAWABLE, OperationState::Cancelled)
                    .detail(&format!("withdrawn by {who}")),
                &audit,
                &edits,
            )
            .await
        {
            Ok(true) => (
                "cancelled".into(),
                Some(Reply::new(text::withdrawn_reply(op.id))),
            ),
            Ok(false) => (
                "refused:too_late".into(),
                Some(Reply::new(text::moved_on(op.id))),
            ),
            Err(e) => self.internal_error("cancel: store", &e),
        }
    }
}
