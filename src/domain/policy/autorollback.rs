//! Automatic rollback (`environments.<env>.rollback.auto`): which
//! failures call for one, and whether it may skip the approvals.

use crate::domain::{OperationKind, OperationState, UserId};

/// The requester of an automatic rollback: the bot itself (Telegram's
/// user ids are positive, 0 is a run the bot adopted from GitHub).
pub const AUTOMATIC: UserId = UserId(-1);

/// What the bot knows of an operation that just ended badly, to decide
/// whether it rolls the environment back by itself.
#[derive(Debug, Clone, Copy)]
pub struct AutoRollbackFacts<'a> {
    /// `rollback.auto` in the operation's environment.
    pub enabled: bool,
    pub kind: OperationKind,
    /// The state it ended in.
    pub ended: OperationState,
    /// The image tag the service ran before the operation (if noted).
    pub ran_before: Option<&'a str>,
    /// The image tag it runs now (`None`: unknown, or not read).
    pub runs_now: Option<&'a str>,
    /// Whether `runs_now` is the operation's own version.
    pub now_is_its_version: bool,
}

/// Does the end of an operation call for an automatic rollback? Only a
/// deploy (never a rollback, automatic or not: rolling back a rollback
/// is a person's decision), only where `rollback.auto` is on, and only
/// when something changed on ECS: an unhealthy deploy did, and a failed
/// run did when the service no longer runs what it ran before (or runs
/// the deploy's version). A run that failed before touching ECS leaves
/// nothing to roll back.
pub fn calls_for_auto_rollback(f: &AutoRollbackFacts<'_>) -> bool {
    if !may_call_for_auto_rollback(f.enabled, f.kind, f.ended) {
        return false;
    }
    match f.ended {
        OperationState::Unhealthy => true,
        OperationState::Failed => match (f.ran_before, f.runs_now) {
            (_, None) => false,
            (Some(before), Some(now)) => before != now || f.now_is_its_version,
            (None, Some(_)) => f.now_is_its_version,
        },
        _ => false,
    }
}

/// Whether an operation's end may call for an automatic rollback at all,
/// before ECS is asked what it runs: a deploy that failed or ended
/// unhealthy where `rollback.auto` (`enabled`) is on.
pub fn may_call_for_auto_rollback(
    enabled: bool,
    kind: OperationKind,
    ended: OperationState,
) -> bool {
    enabled
        && kind == OperationKind::Deploy
        && matches!(ended, OperationState::Failed | OperationState::Unhealthy)
}

/// May an automatic rollback skip the rollback's approvals here? Only
/// where `rollback.auto_approve` says so; otherwise it waits for the same
/// approvals as a person's request.
pub fn auto_rollback_skips_approvals(auto_approve: bool) -> bool {
    auto_approve
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(ended: OperationState) -> AutoRollbackFacts<'static> {
        AutoRollbackFacts {
            enabled: true,
            kind: OperationKind::Deploy,
            ended,
            ran_before: Some("v1.0.0"),
            runs_now: Some("v1.0.0"),
            now_is_its_version: false,
        }
    }

    #[test]
    fn an_unhealthy_deploy_calls_for_one() {
        assert!(calls_for_auto_rollback(&facts(OperationState::Unhealthy)));
    }

    #[test]
    fn never_where_off_nor_for_a_rollback() {
        let off = AutoRollbackFacts {
            enabled: false,
            ..facts(OperationState::Unhealthy)
        };
        assert!(!calls_for_auto_rollback(&off));
        let rollback = AutoRollbackFacts {
            kind: OperationKind::Rollback,
            ..facts(OperationState::Unhealthy)
        };
        assert!(!calls_for_auto_rollback(&rollback));
        assert!(!calls_for_auto_rollback(&facts(OperationState::Succeeded)));
        assert!(!may_call_for_auto_rollback(
            true,
            OperationKind::Rollback,
            OperationState::Failed
        ));
    }

    #[test]
    fn a_failed_run_only_once_ecs_changed() {
        assert!(!calls_for_auto_rollback(&facts(OperationState::Failed)));
        let moved = AutoRollbackFacts {
            runs_now: Some("v1.1.0"),
            ..facts(OperationState::Failed)
        };
        assert!(calls_for_auto_rollback(&moved));
        let unknown = AutoRollbackFacts {
            runs_now: None,
            ..facts(OperationState::Failed)
        };
        assert!(!calls_for_auto_rollback(&unknown));
        let its_own = AutoRollbackFacts {
            ran_before: None,
            runs_now: Some("v1.1.0"),
            now_is_its_version: true,
            ..facts(OperationState::Failed)
        };
        assert!(calls_for_auto_rollback(&its_own));
    }

    #[test]
    fn approvals_skipped_only_when_configured() {
        assert!(!auto_rollback_skips_approvals(false));
        assert!(auto_rollback_skips_approvals(true));
    }
}
