//! How an operation is told on GitHub as a Deployment: which statuses a
//! move of a deploy or rollback records, in order, and how long a step
//! that GitHub did not take waits before it is tried again.

use std::time::Duration;

use super::OperationState;

/// A deployment status the bot posts (GitHub's `state` of a status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeploymentStatus {
    /// Dispatched (or adopted): the deployment is created with it.
    Queued,
    /// The run runs, or ECS and the health URL are being checked.
    InProgress,
    /// Confirmed on ECS and healthy.
    Success,
    /// The run failed, or the environment never confirmed it.
    Failure,
    /// Another deploy or rollback of the environment succeeded after it.
    Inactive,
}

impl DeploymentStatus {
    pub const ALL: [DeploymentStatus; 5] = [
        Self::Queued,
        Self::InProgress,
        Self::Success,
        Self::Failure,
        Self::Inactive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::InProgress => "in_progress",
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Inactive => "inactive",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The statuses a deploy's or rollback's move to `to` records, in order.
/// A status already recorded is not recorded again (the store keeps one of
/// each per operation), so a move straight from dispatched to succeeded
/// still tells `in_progress` before `success`. Only an operation whose
/// deployment was queued records more (one that never went out records
/// nothing); the one it replaces becomes `inactive` when it succeeds.
pub fn deployment_statuses(to: OperationState) -> &'static [DeploymentStatus] {
    use DeploymentStatus::*;
    match to {
        OperationState::Dispatched => &[Queued],
        OperationState::Running | OperationState::Confirming => &[InProgress],
        OperationState::Succeeded => &[InProgress, Success],
        OperationState::Failed | OperationState::Unhealthy => &[Failure],
        OperationState::Requested
        | OperationState::AwaitingApproval
        | OperationState::Approved
        | OperationState::Rejected
        | OperationState::Expired
        | OperationState::Cancelled => &[],
    }
}

/// The wait after a step's `attempt`-th failed attempt (1-based): `first`,
/// doubling, at most `most`.
pub fn deployment_retry_after(first: Duration, most: Duration, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
    first.saturating_mul(factor).min(most)
}

#[cfg(test)]
mod tests {
    use super::DeploymentStatus::*;
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in DeploymentStatus::ALL {
            assert_eq!(DeploymentStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(DeploymentStatus::parse("pending"), None);
    }

    #[test]
    fn what_each_move_records() {
        let table = [
            (OperationState::Requested, &[][..]),
            (OperationState::AwaitingApproval, &[]),
            (OperationState::Approved, &[]),
            (OperationState::Dispatched, &[Queued]),
            (OperationState::Running, &[InProgress]),
            (OperationState::Confirming, &[InProgress]),
            (OperationState::Succeeded, &[InProgress, Success]),
            (OperationState::Unhealthy, &[Failure]),
            (OperationState::Failed, &[Failure]),
            (OperationState::Rejected, &[]),
            (OperationState::Expired, &[]),
            (OperationState::Cancelled, &[]),
        ];
        assert_eq!(table.len(), OperationState::ALL.len());
        for (state, statuses) in table {
            assert_eq!(deployment_statuses(state), statuses, "{state:?}");
        }
    }

    #[test]
    fn only_a_dispatch_opens_a_deployment() {
        for state in OperationState::ALL {
            assert_eq!(
                deployment_statuses(state).contains(&Queued),
                state == OperationState::Dispatched,
                "{state:?}"
            );
        }
    }

    #[test]
    fn retries_back_off_up_to_a_ceiling() {
        let (first, most) = (Duration::from_secs(2), Duration::from_secs(300));
        let waits: Vec<u64> = (1..=10)
            .map(|n| deployment_retry_after(first, most, n).as_secs())
            .collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(deployment_retry_after(first, most, u32::MAX), most);
    }
}
