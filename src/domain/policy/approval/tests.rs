use super::*;

fn role(r: &str) -> Role {
    Role::new(r)
}

fn env(e: &str) -> Env {
    Env::parse(e).unwrap()
}

fn prod_policy() -> EnvPolicy {
    EnvPolicy {
        requesters: vec![role("developer"), role("senior")],
        approvers: vec![role("senior")],
        approvals: 1,
        four_eyes: true,
        requires_verified_in: Some(env("staging")),
        groups: vec![],
    }
}

fn v() -> Version {
    Version::parse("1.3.0", false).unwrap()
}

struct Case {
    roles: Vec<Role>,
    released: bool,
    verified: bool,
    lock: Option<(String, String)>,
    in_flight: Option<(i64, OperationKind, String, OperationState)>,
}

impl Default for Case {
    fn default() -> Self {
        Self {
            roles: vec![role("developer")],
            released: true,
            verified: true,
            lock: None,
            in_flight: None,
        }
    }
}

fn judge(case: Case, policy: &EnvPolicy) -> DeployVerdict {
    let prod = env("prod");
    let version = v();
    judge_deploy(&DeployFacts {
        env: &prod,
        version: &version,
        requester_roles: &case.roles,
        policy,
        released: case.released,
        verified_before: case.verified,
        lock: case.lock,
        in_flight: case.in_flight,
    })
}

#[test]
fn a_developer_may_ask_for_a_verified_release_and_needs_a_senior() {
    assert_eq!(
        judge(Case::default(), &prod_policy()),
        DeployVerdict::NeedsApprovals(1)
    );
}

#[test]
fn no_approvals_means_proceed() {
    let policy = EnvPolicy {
        approvers: vec![],
        approvals: 0,
        requires_verified_in: None,
        ..prod_policy()
    };
    assert_eq!(judge(Case::default(), &policy), DeployVerdict::Proceed);
}

#[test]
fn refusals_in_the_order_a_person_wants_them() {
    let qa_only = Case {
        roles: vec![role("qa")],
        released: false,
        verified: false,
        lock: Some(("Bob".into(), "incident".into())),
        ..Case::default()
    };
    let DeployVerdict::Refused(r) = judge(qa_only, &prod_policy()) else {
        panic!()
    };
    assert_eq!(r.code(), "not_a_requester");
    assert_eq!(
        r.message(),
        "⛔ Deploys to prod are asked for by: developer, senior. You hold none of these roles."
    );

    let unreleased = Case {
        released: false,
        verified: false,
        ..Case::default()
    };
    let DeployVerdict::Refused(r) = judge(unreleased, &prod_policy()) else {
        panic!()
    };
    assert_eq!(r.code(), "not_released");

    let unverified = Case {
        verified: false,
        ..Case::default()
    };
    let DeployVerdict::Refused(r) = judge(unverified, &prod_policy()) else {
        panic!()
    };
    assert_eq!(
        r.message(),
        "⛔ 1.3.0 has not been deployed to staging successfully and verified by QA there. Promote it through staging first."
    );

    let locked = Case {
        lock: Some(("Bob".into(), "incident 42".into())),
        ..Case::default()
    };
    let DeployVerdict::Refused(r) = judge(locked, &prod_policy()) else {
        panic!()
    };
    assert_eq!(
        r.message(),
        "🔒 prod is locked by Bob: incident 42. Deploys wait until it is unlocked."
    );

    let busy = Case {
        in_flight: Some((
            7,
            OperationKind::Deploy,
            "1.2.9".into(),
            OperationState::AwaitingApproval,
        )),
        ..Case::default()
    };
    let DeployVerdict::Refused(r) = judge(busy, &prod_policy()) else {
        panic!()
    };
    assert_eq!(
        r.message(),
        "⏳ prod already has #7 (deploy 1.2.9) awaiting approval. One operation at a time per environment."
    );
}

#[test]
fn verification_is_only_asked_where_policy_requires_it() {
    let staging = EnvPolicy {
        requires_verified_in: None,
        ..prod_policy()
    };
    let unverified = Case {
        verified: false,
        ..Case::default()
    };
    assert_eq!(
        judge(unverified, &staging),
        DeployVerdict::NeedsApprovals(1)
    );
}

fn decide(
    decider: i64,
    roles: Option<&[Role]>,
    state: OperationState,
    expired: bool,
    voted: bool,
    policy: &EnvPolicy,
) -> Result<(), DecisionRefusal> {
    vote(decider, roles, state, expired, voted, true, policy)
}

fn vote(
    decider: i64,
    roles: Option<&[Role]>,
    state: OperationState,
    expired: bool,
    voted: bool,
    approve: bool,
    policy: &EnvPolicy,
) -> Result<(), DecisionRefusal> {
    may_decide(&DecisionFacts {
        approve,
        requester: UserId(1),
        state,
        expired,
        decider: UserId(decider),
        decider_roles: roles,
        already_voted: voted,
        policy,
    })
}

#[test]
fn who_may_decide() {
    let p = prod_policy();
    let senior = [role("senior")];
    let developer = [role("developer")];
    let waiting = OperationState::AwaitingApproval;
    assert_eq!(decide(2, Some(&senior), waiting, false, false, &p), Ok(()));
    assert_eq!(
        decide(2, Some(&developer), waiting, false, false, &p),
        Err(DecisionRefusal::NotAnApprover {
            roles: vec![role("senior")]
        })
    );
    assert_eq!(
        decide(2, None, waiting, false, false, &p),
        Err(DecisionRefusal::NotAnApprover {
            roles: vec![role("senior")]
        }),
        "a stranger's tap"
    );
    assert_eq!(
        decide(1, Some(&senior), waiting, false, false, &p),
        Err(DecisionRefusal::OwnRequest)
    );
    let relaxed = EnvPolicy {
        four_eyes: false,
        ..prod_policy()
    };
    assert_eq!(
        decide(1, Some(&senior), waiting, false, false, &relaxed),
        Ok(())
    );
    assert_eq!(
        decide(2, Some(&senior), waiting, true, false, &p),
        Err(DecisionRefusal::Expired)
    );
    assert_eq!(
        decide(2, Some(&senior), waiting, false, true, &p),
        Err(DecisionRefusal::AlreadyVoted)
    );
    for state in OperationState::ALL.into_iter().filter(|s| *s != waiting) {
        assert_eq!(
            decide(2, Some(&senior), state, false, false, &p),
            Err(DecisionRefusal::AlreadyDecided { state }),
            "{state:?}"
        );
    }
}

#[test]
fn the_requester_may_withdraw_but_not_approve() {
    let p = prod_policy();
    let developer = [role("developer")];
    let waiting = OperationState::AwaitingApproval;
    // Requester 1 is a developer, not an approver: may still reject their own.
    assert_eq!(
        vote(1, Some(&developer), waiting, false, false, false, &p),
        Ok(())
    );
    assert_eq!(
        vote(1, Some(&developer), waiting, false, false, true, &p),
        Err(DecisionRefusal::NotAnApprover {
            roles: vec![role("senior")]
        })
    );
    // Someone else's rejection still needs the approver role.
    assert_eq!(
        vote(2, Some(&developer), waiting, false, false, false, &p),
        Err(DecisionRefusal::NotAnApprover {
            roles: vec![role("senior")]
        })
    );
}

#[test]
fn refusal_texts_fit_a_callback_alert() {
    let long_roles = DecisionRefusal::NotAnApprover {
        roles: vec![role("senior"), role("devops")],
    };
    for r in [
        long_roles,
        DecisionRefusal::OwnRequest,
        DecisionRefusal::Expired,
        DecisionRefusal::AlreadyVoted,
        DecisionRefusal::AlreadyDecided {
            state: OperationState::Rejected,
        },
    ] {
        assert!(r.message().chars().count() <= 200, "{}", r.message());
    }
}

#[test]
fn only_approvals_of_current_approvers_count() {
    let policy = prod_policy();
    let (bob, dave, erin, alice) = (UserId(2), UserId(4), UserId(5), UserId(1));
    let senior = [role("senior")];
    let developer = [role("developer")];
    // Bob was removed from `[[users]]`, Erin lost her senior role, Dave
    // is still a senior; Alice (the requester) is a senior now too.
    let roles_of = |u: UserId| match u.0 {
        4 | 1 => Some(&senior[..]),
        5 => Some(&developer[..]),
        _ => None,
    };
    let (counting, lapsed) =
        counting_approvals(&[bob, dave, erin, alice], alice, &policy, roles_of);
    assert_eq!(counting, vec![dave]);
    assert_eq!(lapsed, vec![bob, erin, alice]);
    // Without four eyes the requester's own approval counts.
    let lenient = EnvPolicy {
        four_eyes: false,
        ..policy.clone()
    };
    let (counting, lapsed) = counting_approvals(&[alice, dave], alice, &lenient, roles_of);
    assert_eq!((counting, lapsed), (vec![alice, dave], vec![]));
    assert_eq!(
        counting_approvals(&[], alice, &policy, roles_of),
        (vec![], vec![])
    );
}

#[test]
fn with_groups_any_groups_role_may_decide_and_every_place_is_asked_for() {
    let group = |role: &str| super::super::ApprovalGroup {
        role: Role::new(role),
        count: 1,
    };
    let policy = EnvPolicy {
        requesters: vec![role("developer")],
        requires_verified_in: None,
        ..EnvPolicy::of_groups(vec![group("qa"), group("senior")])
    };
    let base = Case::default();
    let facts = DeployFacts {
        env: &env("prod"),
        version: &v(),
        requester_roles: &base.roles,
        policy: &policy,
        released: true,
        verified_before: true,
        lock: None,
        in_flight: None,
    };
    assert_eq!(judge_deploy(&facts), DeployVerdict::NeedsApprovals(2));
    let qa = [role("qa")];
    let decision = |roles: &[Role], decider: i64| {
        may_decide(&DecisionFacts {
            requester: UserId(1),
            state: OperationState::AwaitingApproval,
            expired: false,
            decider: UserId(decider),
            decider_roles: Some(roles),
            already_voted: false,
            approve: true,
            policy: &policy,
        })
    };
    assert_eq!(decision(&qa, 2), Ok(()));
    // Four eyes still: the requester never approves, whatever group.
    assert_eq!(decision(&qa, 1), Err(DecisionRefusal::OwnRequest));
    assert_eq!(
        decision(&[role("developer")], 2),
        Err(DecisionRefusal::NotAnApprover {
            roles: vec![role("qa"), role("senior")]
        })
    );
}
