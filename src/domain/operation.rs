//! The operation state machine: requested → awaiting approval → approved →
//! dispatched → running → (deploys and rollbacks: confirming on ECS →)
//! succeeded | unhealthy | failed | rejected | expired | cancelled.

use std::fmt;

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperationKind {
    Release,
    Deploy,
    Rollback,
}

impl OperationKind {
    pub const ALL: [OperationKind; 3] = [Self::Release, Self::Deploy, Self::Rollback];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Release => "release",
            Self::Deploy => "deploy",
            Self::Rollback => "rollback",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where an operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperationState {
    Requested,
    AwaitingApproval,
    Approved,
    Dispatched,
    Running,
    /// The run succeeded; ECS and the health URL are being checked.
    Confirming,
    Succeeded,
    /// The run succeeded but ECS or the health URL never confirmed it.
    Unhealthy,
    Failed,
    Rejected,
    Expired,
    Cancelled,
}

impl OperationState {
    pub const ALL: [OperationState; 12] = [
        Self::Requested,
        Self::AwaitingApproval,
        Self::Approved,
        Self::Dispatched,
        Self::Running,
        Self::Confirming,
        Self::Succeeded,
        Self::Unhealthy,
        Self::Failed,
        Self::Rejected,
        Self::Expired,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::AwaitingApproval => "awaiting_approval",
            Self::Approved => "approved",
            Self::Dispatched => "dispatched",
            Self::Running => "running",
            Self::Confirming => "confirming",
            Self::Succeeded => "succeeded",
            Self::Unhealthy => "unhealthy",
            Self::Failed => "failed",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// An operation that is over: nothing moves it any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Succeeded
                | Self::Unhealthy
                | Self::Failed
                | Self::Rejected
                | Self::Expired
                | Self::Cancelled
        )
    }

    /// An end the operation reached by running (or failing to start):
    /// what delivery figures count, unlike a request refused, let expire
    /// or cancelled before anything ran.
    pub fn ran(self) -> bool {
        matches!(self, Self::Succeeded | Self::Unhealthy | Self::Failed)
    }

    /// Whether the machine allows going from `self` to `next`.
    pub fn can_become(self, next: OperationState) -> bool {
        use OperationState::*;
        matches!(
            (self, next),
            (
                Requested,
                AwaitingApproval | Approved | Rejected | Cancelled
            ) | (
                AwaitingApproval,
                Approved | Dispatched | Rejected | Expired | Cancelled
            ) | (Approved, Dispatched | Failed | Cancelled)
                | (Dispatched, Running | Confirming | Succeeded | Failed)
                | (Running, Confirming | Succeeded | Failed)
                | (Confirming, Succeeded | Unhealthy)
        )
    }
}

impl fmt::Display for OperationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for OperationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str().replace('_', " "))
    }
}

#[cfg(test)]
mod tests {
    use super::OperationState::{self, *};

    #[test]
    fn names_round_trip() {
        for s in OperationState::ALL {
            assert_eq!(OperationState::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn final_states_go_nowhere() {
        for from in OperationState::ALL.into_iter().filter(|s| s.is_final()) {
            for to in OperationState::ALL {
                assert!(!from.can_become(to), "{from:?} -> {to:?}");
            }
        }
    }

    /// The last approval approves and claims in one write, so a request
    /// awaiting approval may go straight to dispatched.
    #[test]
    fn only_approved_operations_dispatch() {
        for from in OperationState::ALL {
            assert_eq!(
                from.can_become(Dispatched),
                matches!(from, Approved | AwaitingApproval),
                "{from:?}"
            );
        }
    }

    #[test]
    fn every_live_state_can_end() {
        for from in OperationState::ALL.into_iter().filter(|s| !s.is_final()) {
            assert!(
                OperationState::ALL
                    .into_iter()
                    .any(|to| to.is_final() && from.can_become(to)),
                "{from:?} can never end"
            );
        }
    }
}
