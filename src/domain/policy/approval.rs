//! Deploy policy and approval decisions: who may ask for a deploy, what
//! must hold first, and who may approve. Plain functions over plain data.

use crate::domain::{Env, OperationKind, OperationState, Role, UserId, Version};

/// An environment's rules, as the config states them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvPolicy {
    pub requesters: Vec<Role>,
    pub approvers: Vec<Role>,
    pub approvals: u32,
    pub four_eyes: bool,
    pub requires_verified_in: Option<Env>,
    /// `approval.groups`: each group must be filled (then `approvers` are
    /// the groups' roles and `approvals` their counts' sum). Empty: any
    /// `approvals` of `approvers` settle a request.
    pub groups: Vec<super::ApprovalGroup>,
}

impl EnvPolicy {
    /// A policy settled by filling each of `groups` (nobody may ask and
    /// four eyes hold until the caller says otherwise): its approvers are
    /// the groups' roles, its approvals the sum of their counts.
    pub fn of_groups(groups: Vec<super::ApprovalGroup>) -> Self {
        Self {
            requesters: Vec::new(),
            approvers: super::group_roles(&groups),
            approvals: groups.iter().map(|g| g.count).sum(),
            four_eyes: true,
            requires_verified_in: None,
            groups,
        }
    }
}

/// What is known when someone asks to deploy.
#[derive(Debug, Clone)]
pub struct DeployFacts<'a> {
    pub env: &'a Env,
    pub version: &'a Version,
    pub requester_roles: &'a [Role],
    pub policy: &'a EnvPolicy,
    /// The version is a published release.
    pub released: bool,
    /// Succeeded and QA-verified in `policy.requires_verified_in`.
    pub verified_before: bool,
    /// Who holds a lock on the environment, and why.
    pub lock: Option<(String, String)>,
    /// An operation already in flight there: its id, kind, version, state.
    pub in_flight: Option<(i64, OperationKind, String, OperationState)>,
}

/// Why a deploy request is refused; each says what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployRefusal {
    NotARequester {
        env: Env,
        roles: Vec<Role>,
    },
    NotReleased {
        version: Version,
    },
    NotVerified {
        version: Version,
        prior: Env,
    },
    Locked {
        env: Env,
        by: String,
        reason: String,
    },
    Busy {
        env: Env,
        id: i64,
        kind: OperationKind,
        version: String,
        state: OperationState,
    },
}

impl DeployRefusal {
    pub fn message(&self) -> String {
        match self {
            Self::NotARequester { env, roles } => format!(
                "⛔ Deploys to {env} are asked for by: {}. You hold none of these roles.",
                join(roles)
            ),
            Self::NotReleased { version } => format!(
                "⛔ {version} is not a released version. Release it first (/release), or pick a published release."
            ),
            Self::NotVerified { version, prior } => format!(
                "⛔ {version} has not been deployed to {prior} successfully and verified by QA there. Promote it through {prior} first."
            ),
            Self::Locked { env, by, reason } => {
                format!("🔒 {env} is locked by {by}: {reason}. Deploys wait until it is unlocked.")
            }
            Self::Busy {
                env,
                id,
                kind,
                version,
                state,
            } => format!(
                "⏳ {env} already has #{id} ({kind} {version}) {state}. One operation at a time per environment."
            ),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::NotARequester { .. } => "not_a_requester",
            Self::NotReleased { .. } => "not_released",
            Self::NotVerified { .. } => "not_verified",
            Self::Locked { .. } => "locked",
            Self::Busy { .. } => "busy",
        }
    }
}

fn join(roles: &[Role]) -> String {
    let names: Vec<&str> = roles.iter().map(Role::as_str).collect();
    if names.is_empty() {
        "nobody".to_owned()
    } else {
        names.join(", ")
    }
}

pub(super) fn holds_any(held: &[Role], wanted: &[Role]) -> bool {
    held.iter().any(|r| wanted.contains(r))
}

/// What a deploy request comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployVerdict {
    /// Dispatch without asking anyone.
    Proceed,
    /// Ask for this many approvals first.
    NeedsApprovals(u32),
    Refused(DeployRefusal),
}

/// Judges a deploy request. The order of the checks is the order a person
/// would want to hear them: who you are, what you ask for, then whether
/// the environment is free.
pub fn judge_deploy(f: &DeployFacts<'_>) -> DeployVerdict {
    use DeployVerdict::Refused;
    if !holds_any(f.requester_roles, &f.policy.requesters) {
        return Refused(DeployRefusal::NotARequester {
            env: f.env.clone(),
            roles: f.policy.requesters.clone(),
        });
    }
    if !f.released {
        return Refused(DeployRefusal::NotReleased {
            version: f.version.clone(),
        });
    }
    // A lock first: it says why nothing goes there now, whatever else.
    if let Some((by, reason)) = &f.lock {
        return Refused(DeployRefusal::Locked {
            env: f.env.clone(),
            by: by.clone(),
            reason: reason.clone(),
        });
    }
    if let Some(prior) = &f.policy.requires_verified_in
        && !f.verified_before
    {
        return Refused(DeployRefusal::NotVerified {
            version: f.version.clone(),
            prior: prior.clone(),
        });
    }
    if let Some((id, kind, version, state)) = &f.in_flight {
        return Refused(DeployRefusal::Busy {
            env: f.env.clone(),
            id: *id,
            kind: *kind,
            version: version.clone(),
            state: *state,
        });
    }
    match f.policy.approvals {
        0 => DeployVerdict::Proceed,
        n => DeployVerdict::NeedsApprovals(n),
    }
}

/// Why a tap on Approve or Reject is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionRefusal {
    NotAnApprover { roles: Vec<Role> },
    OwnRequest,
    AlreadyDecided { state: OperationState },
    Expired,
    AlreadyVoted,
}

impl DecisionRefusal {
    /// Short enough for an `answerCallbackQuery` alert (200 characters).
    pub fn message(&self) -> String {
        match self {
            Self::NotAnApprover { roles } => {
                format!("Only {} may decide this.", join(roles))
            }
            Self::OwnRequest => {
                "You asked for this one: someone else must approve it (four eyes).".into()
            }
            Self::AlreadyDecided { state } => format!("Too late: this request is already {state}."),
            Self::Expired => "This request has expired. Ask again if it is still wanted.".into(),
            Self::AlreadyVoted => "You have already decided on this request.".into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAnApprover { .. } => "not_an_approver",
            Self::OwnRequest => "own_request",
            Self::AlreadyDecided { .. } => "already_decided",
            Self::Expired => "expired",
            Self::AlreadyVoted => "already_voted",
        }
    }
}

/// What is known when someone taps Approve or Reject.
#[derive(Debug, Clone)]
pub struct DecisionFacts<'a> {
    pub requester: UserId,
    pub state: OperationState,
    pub expired: bool,
    pub decider: UserId,
    /// `None` when the decider is not a configured user.
    pub decider_roles: Option<&'a [Role]>,
    pub already_voted: bool,
    /// Approve (true) or reject (false).
    pub approve: bool,
    pub policy: &'a EnvPolicy,
}

/// May this person decide on this request now? Four eyes bind approvals
/// only: the requester may reject (withdraw) their own request.
pub fn may_decide(f: &DecisionFacts<'_>) -> Result<(), DecisionRefusal> {
    let roles = f.decider_roles.unwrap_or(&[]);
    // The requester may always withdraw their own request by rejecting it.
    let withdrawing = !f.approve && f.decider == f.requester;
    if !withdrawing && !holds_any(roles, &f.policy.approvers) {
        return Err(DecisionRefusal::NotAnApprover {
            roles: f.policy.approvers.clone(),
        });
    }
    if f.state != OperationState::AwaitingApproval {
        return Err(DecisionRefusal::AlreadyDecided { state: f.state });
    }
    if f.expired {
        return Err(DecisionRefusal::Expired);
    }
    if f.approve && f.policy.four_eyes && f.decider == f.requester {
        return Err(DecisionRefusal::OwnRequest);
    }
    if f.already_voted {
        return Err(DecisionRefusal::AlreadyVoted);
    }
    Ok(())
}

/// Which recorded approvals still count, under the config as it is now:
/// an approval vouches for a request only while its giver still holds an
/// approver role (someone removed from `[[users]]`, or who lost the role
/// since, no longer does), and never the requester's own under four eyes.
/// Returns the approvals that count and those that lapsed, in the order
/// given.
pub fn counting_approvals<'a>(
    recorded: &[UserId],
    requester: UserId,
    policy: &EnvPolicy,
    roles_of: impl Fn(UserId) -> Option<&'a [Role]>,
) -> (Vec<UserId>, Vec<UserId>) {
    recorded.iter().partition(|&&user| {
        let approver = roles_of(user).is_some_and(|roles| holds_any(roles, &policy.approvers));
        approver && !(policy.four_eyes && user == requester)
    })
}

/// An environment's `rollback` section as the config states it: each key
/// unset falls back to the deploy's.
#[derive(Debug, Clone, Copy, Default)]
pub struct RollbackRules<'a> {
    pub requesters: Option<&'a [Role]>,
    pub approvers: Option<&'a [Role]>,
    pub approvals: Option<u32>,
    /// `rollback.groups`; unset, the deploy's groups apply unless
    /// `approvers` or `approvals` is set here.
    pub groups: Option<&'a [super::ApprovalGroup]>,
}

/// The rules a request of `kind` is decided under in an environment whose
/// deploy rules are `deploy`: a deploy's are those; a rollback's are its
/// `rollback` section's, each unset key the deploy's, four eyes as for
/// deploys, and never waiting on QA's verdict.
pub fn policy_for(
    kind: OperationKind,
    deploy: &EnvPolicy,
    rollback: &RollbackRules<'_>,
) -> EnvPolicy {
    if kind != OperationKind::Rollback {
        return deploy.clone();
    }
    let plain = rollback.approvers.is_some() || rollback.approvals.is_some();
    let groups = match rollback.groups {
        Some(groups) => groups.to_vec(),
        None if plain => Vec::new(),
        None => deploy.groups.clone(),
    };
    if !groups.is_empty() {
        return EnvPolicy {
            requesters: rollback.requesters.unwrap_or(&deploy.requesters).to_vec(),
            four_eyes: deploy.four_eyes,
            requires_verified_in: None,
            ..EnvPolicy::of_groups(groups)
        };
    }
    EnvPolicy {
        requesters: rollback.requesters.unwrap_or(&deploy.requesters).to_vec(),
        approvers: rollback.approvers.unwrap_or(&deploy.approvers).to_vec(),
        approvals: rollback.approvals.unwrap_or(deploy.approvals),
        four_eyes: deploy.four_eyes,
        requires_verified_in: None,
        groups: Vec::new(),
    }
}

#[cfg(test)]
mod tests;
