//! Freezes and deploys: a deploy inside a freeze is refused; one of the
//! environment's approvers may override it with a reason (announced and
//! audited like break-glass). Rollbacks never wait on a freeze: they are
//! the way out of an incident.

use super::approval::holds_any;
use crate::domain::freeze::Frozen;
use crate::domain::{Env, EnvPolicy, OperationKind, Role};

/// Why a deploy is refused for a freeze.
#[derive(Debug, Clone, PartialEq)]
pub enum FreezeRefusal {
    /// The environment is frozen and nobody overrode it.
    Frozen { env: Env, freeze: Frozen },
    /// `--override-freeze` from someone who may not approve deploys there.
    NotAnOverrider { env: Env, roles: Vec<Role> },
}

impl FreezeRefusal {
    /// A short code for the audit log.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Frozen { .. } => "frozen",
            Self::NotAnOverrider { .. } => "not_an_approver",
        }
    }
}

/// Whether a freeze stops a deploy of `env` asked by someone holding
/// `roles`, under the deploy policy `policy`. `Ok(Some(freeze))`: the
/// freeze is overridden (to be announced); `Ok(None)`: nothing holds it.
/// Only the environment's approvers may override, with a reason
/// (`overriding`); anyone else's override is refused, frozen or not.
pub fn judge_freeze(
    env: &Env,
    frozen: Option<Frozen>,
    overriding: Option<&str>,
    roles: &[Role],
    policy: &EnvPolicy,
) -> Result<Option<Frozen>, FreezeRefusal> {
    if overriding.is_some() && !holds_any(roles, &policy.approvers) {
        return Err(FreezeRefusal::NotAnOverrider {
            env: env.clone(),
            roles: policy.approvers.clone(),
        });
    }
    match (frozen, overriding) {
        (None, _) => Ok(None),
        (Some(freeze), Some(_)) => Ok(Some(freeze)),
        (Some(freeze), None) => Err(FreezeRefusal::Frozen {
            env: env.clone(),
            freeze,
        }),
    }
}

/// Whether a request of `kind` waits on freezes: deploys do, rollbacks
/// (and releases, which change no environment) do not.
pub fn held_by_freezes(kind: OperationKind) -> bool {
    kind == OperationKind::Deploy
}

/// Whether a freeze in force at dispatch stops an approved request: a
/// deploy asked without an override, yes; one whose requester overrode
/// a freeze, no (the override stands for the freezes of its time).
pub fn freeze_holds_at_dispatch(kind: OperationKind, frozen: bool, overridden: bool) -> bool {
    held_by_freezes(kind) && frozen && !overridden
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::domain::freeze::FreezeSource;

    fn policy() -> EnvPolicy {
        EnvPolicy {
            requesters: vec![Role::new("developer")],
            approvers: vec![Role::new("senior")],
            approvals: 1,
            four_eyes: true,
            requires_verified_in: None,
            groups: vec![],
        }
    }

    fn frozen() -> Frozen {
        Frozen {
            reason: "Weekend".into(),
            source: FreezeSource::AdHoc { by: "Bob".into() },
            until: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        }
    }

    #[test]
    fn a_freeze_stops_deploys_unless_an_approver_overrides_it() {
        let prod = Env::parse("prod").unwrap();
        let dev = [Role::new("developer")];
        let senior = [Role::new("senior")];
        let p = policy();
        assert_eq!(judge_freeze(&prod, None, None, &dev, &p), Ok(None));
        let refused = judge_freeze(&prod, Some(frozen()), None, &senior, &p).unwrap_err();
        assert_eq!(refused.code(), "frozen");
        assert_eq!(
            judge_freeze(&prod, Some(frozen()), Some("hotfix"), &senior, &p),
            Ok(Some(frozen()))
        );
        // A developer's override is refused, frozen or not.
        for f in [Some(frozen()), None] {
            let refused = judge_freeze(&prod, f, Some("hotfix"), &dev, &p).unwrap_err();
            assert_eq!(
                refused,
                FreezeRefusal::NotAnOverrider {
                    env: prod.clone(),
                    roles: senior.to_vec()
                }
            );
        }
    }

    #[test]
    fn at_dispatch_a_freeze_holds_deploys_not_overridden_only() {
        use OperationKind::*;
        assert!(freeze_holds_at_dispatch(Deploy, true, false));
        assert!(!freeze_holds_at_dispatch(Deploy, true, true));
        assert!(!freeze_holds_at_dispatch(Deploy, false, false));
        assert!(!freeze_holds_at_dispatch(Rollback, true, false));
        assert!(!freeze_holds_at_dispatch(Release, true, false));
    }
}
