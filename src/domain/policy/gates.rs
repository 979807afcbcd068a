//! Who may review a run held by a GitHub environment's required
//! reviewers from Telegram: the bot reviews as its own GitHub identity,
//! so its own rules come first.

use super::EnvPolicy;
use super::approval::holds_any;
use crate::domain::{Role, UserId};

/// Why a tap on a gate's Approve or Reject is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateRefusal {
    /// The tapper holds none of the environment's approver roles.
    NotAnApprover { roles: Vec<Role> },
    /// The tapper asked for the operation the run belongs to (four eyes).
    OwnRequest,
}

impl GateRefusal {
    /// A short code for the audit log.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAnApprover { .. } => "not_an_approver",
            Self::OwnRequest => "own_request",
        }
    }
}

/// May `reviewer`, holding `roles`, review the gate of a run that
/// `requester` asked for, under the environment's `policy`? Its
/// approvers may, never the requester when four eyes hold (rejecting
/// one's own run is refused too: the bot's GitHub identity reviews for
/// the team, not for the one who asked).
pub fn may_review_gate(
    reviewer: UserId,
    roles: &[Role],
    requester: UserId,
    policy: &EnvPolicy,
) -> Result<(), GateRefusal> {
    if !holds_any(roles, &policy.approvers) {
        return Err(GateRefusal::NotAnApprover {
            roles: policy.approvers.clone(),
        });
    }
    if policy.four_eyes && reviewer == requester {
        return Err(GateRefusal::OwnRequest);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(four_eyes: bool) -> EnvPolicy {
        EnvPolicy {
            requesters: vec![Role::new("developer")],
            approvers: vec![Role::new("senior")],
            approvals: 1,
            four_eyes,
            requires_verified_in: None,
            groups: vec![],
        }
    }

    #[test]
    fn approvers_review_others_runs_only() {
        let senior = [Role::new("senior")];
        let dev = [Role::new("developer")];
        let (alice, bob) = (UserId(1), UserId(2));
        assert_eq!(may_review_gate(bob, &senior, alice, &policy(true)), Ok(()));
        assert_eq!(
            may_review_gate(alice, &senior, alice, &policy(true)),
            Err(GateRefusal::OwnRequest)
        );
        assert_eq!(
            may_review_gate(alice, &senior, alice, &policy(false)),
            Ok(())
        );
        assert_eq!(
            may_review_gate(bob, &dev, alice, &policy(true)),
            Err(GateRefusal::NotAnApprover {
                roles: vec![Role::new("senior")]
            })
        );
    }
}
