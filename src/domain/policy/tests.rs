use super::*;

#[test]
fn strangers_are_counted_per_unknown_group_and_per_unknown_sender() {
    let (group, team, mallory) = (ChatId(-5), ChatId(-1), UserId(666));
    // A group nobody configured: one count for all who write there.
    assert_eq!(
        stranger_key(group, ChatKind::Unknown, mallory, false),
        Some((-5, 0))
    );
    assert_eq!(
        stranger_key(group, ChatKind::Unknown, UserId(1), true),
        Some((-5, 0))
    );
    // An unknown sender in a team chat or in private: on their own.
    assert_eq!(
        stranger_key(team, ChatKind::Configured, mallory, false),
        Some((-1, 666))
    );
    assert_eq!(
        stranger_key(ChatId(666), ChatKind::Private, mallory, false),
        Some((666, 666))
    );
    // Members are no strangers.
    assert_eq!(
        stranger_key(team, ChatKind::Configured, UserId(1), true),
        None
    );
    assert_eq!(
        stranger_key(ChatId(1), ChatKind::Private, UserId(1), true),
        None
    );
    assert!(leaves(ChatKind::Unknown));
    assert!(!leaves(ChatKind::Private) && !leaves(ChatKind::Configured));
}

#[test]
fn a_delivery_id_outlives_its_payload_and_githubs_redelivery_window() {
    const DAY: i64 = 86_400_000;
    let day = std::time::Duration::from_secs(86_400);
    let now = 100 * DAY;
    assert_eq!(
        retention_cutoffs(now, 14 * day, 30 * day),
        RetentionCutoffs {
            payloads: 86 * DAY,
            delivery_ids: 70 * DAY,
            alerts: 70 * DAY,
        }
    );
    // Payloads kept an hour: the id is still kept 30 days.
    let c = retention_cutoffs(now, std::time::Duration::from_secs(3600), day);
    assert_eq!(c.payloads, now - 3_600_000);
    assert_eq!(c.delivery_ids, 70 * DAY);
    assert_eq!(c.alerts, 99 * DAY);
}

#[test]
fn failures_anywhere_and_the_last_environments_health_ring_the_on_call() {
    let prod = Env::parse("prod").unwrap();
    let staging = Env::parse("staging").unwrap();
    let last = Some(&prod);
    for (kinds, env, rings) in [
        (&[AlertKind::Failure][..], Some(&staging), true),
        (&[AlertKind::Failure], None, true),
        (
            &[AlertKind::Rollback, AlertKind::Failure],
            Some(&prod),
            true,
        ),
        (&[AlertKind::Health], Some(&prod), true),
        (&[AlertKind::Health], Some(&staging), false),
        (&[AlertKind::Health], None, false),
        (&[AlertKind::Rollback], Some(&prod), false),
        (&[AlertKind::Deployment], Some(&prod), false),
        (&[AlertKind::Release], None, false),
        (&[AlertKind::Approval], Some(&prod), false),
    ] {
        assert_eq!(rings_on_call(kinds, env, last), rings, "{kinds:?} {env:?}");
    }
    assert!(!rings_on_call(&[AlertKind::Health], Some(&prod), None));
}

const CHAT: ChatId = ChatId(-100);
const USER: UserId = UserId(7);

fn status() -> Command {
    Command::Status { env: None }
}

#[test]
fn help_and_whoami_answer_anyone_anywhere() {
    for kind in [ChatKind::Configured, ChatKind::Private, ChatKind::Unknown] {
        for cmd in [Command::Help, Command::WhoAmI] {
            assert_eq!(access(Some(&cmd), CHAT, kind, USER, None), Access::Allowed);
        }
    }
}

#[test]
fn unknown_chat_is_refused_even_for_known_users() {
    let roles = [Role::new("senior")];
    assert_eq!(
        access(Some(&status()), CHAT, ChatKind::Unknown, USER, Some(&roles)),
        Access::Refused(Refusal::ChatNotAllowed { chat: CHAT })
    );
}

#[test]
fn unknown_user_is_refused_in_a_configured_chat_and_in_private() {
    for kind in [ChatKind::Configured, ChatKind::Private] {
        assert_eq!(
            access(Some(&status()), CHAT, kind, USER, None),
            Access::Refused(Refusal::UnknownUser { user: USER })
        );
    }
}

#[test]
fn usage_errors_are_for_members_only() {
    assert_eq!(
        access(None, CHAT, ChatKind::Unknown, USER, None),
        Access::Refused(Refusal::ChatNotAllowed { chat: CHAT })
    );
    assert_eq!(
        access(None, CHAT, ChatKind::Configured, USER, None),
        Access::Refused(Refusal::UnknownUser { user: USER })
    );
    assert_eq!(
        access(None, CHAT, ChatKind::Configured, USER, Some(&[])),
        Access::Allowed
    );
}

#[test]
fn known_user_may_ask_status_in_configured_and_private_chats() {
    let roles: [Role; 0] = [];
    for kind in [ChatKind::Configured, ChatKind::Private] {
        let cmd = Command::Status {
            env: Some(Env::parse("prod").unwrap()),
        };
        assert_eq!(
            access(Some(&cmd), CHAT, kind, USER, Some(&roles)),
            Access::Allowed
        );
    }
}

fn prod_policy() -> EnvPolicy {
    EnvPolicy {
        requesters: vec![Role::new("developer")],
        approvers: vec![Role::new("senior")],
        approvals: 1,
        four_eyes: true,
        requires_verified_in: None,
        groups: vec![],
    }
}

#[test]
fn a_prompt_reaches_an_approver_in_a_group_or_an_approvers_private_chat() {
    let senior = [Role::new("senior")];
    let dev = [Role::new("developer")];
    let (alice, bob) = (UserId(1), UserId(2));
    let roles_of = |u: UserId| match u.0 {
        1 => Some(&dev[..]),
        2 => Some(&senior[..]),
        _ => None,
    };
    let policy = prod_policy();
    let reaches = |chats: &[(i64, ChatKind)], requester| {
        let chats: Vec<(ChatId, ChatKind)> = chats.iter().map(|(c, k)| (ChatId(*c), *k)).collect();
        prompt_reaches_approver(&chats, requester, &policy, roles_of)
    };
    use ChatKind::{Configured, Private, Unknown};
    // Alice's private chat alone: she may not approve.
    assert!(!reaches(&[(1, Private)], alice));
    // Bob's own request in his private chat: four eyes.
    assert!(!reaches(&[(2, Private)], bob));
    // A private chat of an approver does.
    assert!(reaches(&[(2, Private)], alice));
    // A configured chat does, whatever its id.
    assert!(reaches(&[(1, Private), (-100, Configured)], alice));
    assert!(reaches(&[(501, Configured)], alice));
    // A chat nobody configured does not; nor does no chat.
    assert!(!reaches(&[(-100, Unknown)], alice));
    assert!(!reaches(&[], alice));
    let no_four_eyes = EnvPolicy {
        four_eyes: false,
        ..prod_policy()
    };
    assert!(prompt_reaches_approver(
        &[(ChatId(2), Private)],
        bob,
        &no_four_eyes,
        roles_of
    ));
}

#[test]
fn a_run_names_a_release_anywhere_and_any_tag_where_the_env_deploys_itself() {
    use super::run_version;
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(run_version("v1.3.0", false), some("1.3.0"));
    assert_eq!(run_version("1.3.0", true), some("1.3.0"));
    assert_eq!(run_version("main-1a2b3c4", false), None);
    assert_eq!(run_version("main-1a2b3c4", true), some("main-1a2b3c4"));
    assert_eq!(
        run_version("1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b", true),
        some("1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b")
    );
    for bad in ["", "-x", ".x", "a b", "a/b", "a:b", "<b>", &"x".repeat(129)] {
        assert_eq!(run_version(bad, true), None, "{bad:?}");
    }
}

fn rollback_policy() -> EnvPolicy {
    EnvPolicy {
        requesters: vec![Role::new("senior")],
        approvers: vec![Role::new("senior")],
        approvals: 1,
        four_eyes: true,
        requires_verified_in: None,
        groups: vec![],
    }
}

#[test]
fn a_rollback_follows_its_own_rules_else_the_deploys() {
    let deploy = EnvPolicy {
        requires_verified_in: Some(Env::parse("staging").unwrap()),
        ..prod_policy()
    };
    use OperationKind::{Deploy, Release, Rollback};
    let unset = RollbackRules::default();
    assert_eq!(policy_for(Deploy, &deploy, &unset), deploy);
    assert_eq!(policy_for(Release, &deploy, &unset), deploy);
    let inherited = policy_for(Rollback, &deploy, &unset);
    assert_eq!(
        inherited,
        EnvPolicy {
            requires_verified_in: None,
            ..deploy.clone()
        }
    );
    let seniors = [Role::new("senior")];
    let own = policy_for(
        Rollback,
        &deploy,
        &RollbackRules {
            requesters: Some(&seniors),
            approvers: Some(&[]),
            approvals: Some(2),
            groups: None,
        },
    );
    assert_eq!(own.requesters, seniors);
    assert!(own.approvers.is_empty());
    assert_eq!((own.approvals, own.four_eyes), (2, true));
}

#[test]
fn a_rollback_keeps_the_deploys_groups_unless_it_names_its_own_approvals() {
    let group = |role: &str, count| crate::domain::ApprovalGroup {
        role: Role::new(role),
        count,
    };
    let deploy = EnvPolicy {
        requesters: vec![Role::new("developer")],
        four_eyes: false,
        ..EnvPolicy::of_groups(vec![group("qa", 1), group("senior", 2)])
    };
    assert_eq!(deploy.approvers, [Role::new("qa"), Role::new("senior")]);
    assert_eq!(deploy.approvals, 3);
    let inherited = policy_for(OperationKind::Rollback, &deploy, &RollbackRules::default());
    assert_eq!(inherited, deploy);
    let seniors = [Role::new("senior")];
    let plain = RollbackRules {
        approvers: Some(&seniors),
        ..RollbackRules::default()
    };
    let plain = policy_for(OperationKind::Rollback, &deploy, &plain);
    assert!(plain.groups.is_empty());
    assert_eq!((plain.approvals, plain.four_eyes), (3, false));
    let own_groups = [group("senior", 1)];
    let own = RollbackRules {
        groups: Some(&own_groups),
        ..RollbackRules::default()
    };
    let own = policy_for(OperationKind::Rollback, &deploy, &own);
    assert_eq!((own.groups.as_slice(), own.approvals), (&own_groups[..], 1));
    assert_eq!(own.requesters, deploy.requesters);
}

#[test]
fn the_last_environment_is_prod() {
    let envs = ["staging", "prod"].map(|e| Env::parse(e).unwrap());
    assert_eq!(last_env(&envs).map(Env::as_str), Some("prod"));
    assert_eq!(last_env(&[] as &[Env]), None);
}

#[test]
fn only_rollback_requesters_ask_for_a_rollback() {
    let prod = Env::parse("prod").unwrap();
    let policy = rollback_policy();
    assert_eq!(
        may_request_rollback(&prod, &[Role::new("senior")], &policy),
        Ok(())
    );
    let refused = may_request_rollback(&prod, &[Role::new("developer")], &policy).unwrap_err();
    assert_eq!(refused.code(), "not_a_requester");
    assert_eq!(
        refused.message(),
        "⛔ Rollbacks of prod are asked for by: senior. You hold none of these roles."
    );
}

#[test]
fn only_an_approver_breaks_the_glass_and_only_where_it_is_on() {
    let prod = Env::parse("prod").unwrap();
    let policy = rollback_policy();
    let senior = [Role::new("senior")];
    assert_eq!(may_break_glass(&prod, true, &senior, &policy), Ok(()));
    let off = may_break_glass(&prod, false, &senior, &policy).unwrap_err();
    assert_eq!(off.code(), "break_glass_off");
    let dev = may_break_glass(&prod, true, &[Role::new("developer")], &policy).unwrap_err();
    assert_eq!(dev.code(), "not_an_approver");
    assert_eq!(dev.message(), "⛔ Only senior may break the glass on prod.");
}

#[test]
fn role_questions_name_who_may() {
    let senior = [Role::new("senior")];
    let qa = [Role::new("qa")];
    let dev = [Role::new("developer")];
    assert_eq!(may_act_in_incident(&senior, &senior), Ok(()));
    let refused = may_act_in_incident(&dev, &senior).unwrap_err();
    assert_eq!(
        (refused.code(), refused.message()),
        ("not_allowed", "senior".into())
    );
    assert_eq!(may_verify(&qa, &qa), Ok(()));
    assert_eq!(may_verify(&dev, &qa).unwrap_err().code(), "not_a_verifier");
    let policy = rollback_policy();
    assert_eq!(may_roll_back_directly(&senior, &policy), Ok(()));
    assert_eq!(
        may_roll_back_directly(&dev, &policy).unwrap_err().code(),
        "not_an_approver"
    );
    assert!(may_open_report(&senior, &senior, None));
    assert!(may_open_report(&senior, &[], Some(&policy)));
    assert!(!may_open_report(&dev, &senior, Some(&policy)));
    assert!(!may_open_report(&senior, &[], None));
    assert_eq!(may_diagnose(&senior, &senior, None), Ok(()));
    assert_eq!(may_diagnose(&dev, &senior, Some(&dev)), Ok(()));
    assert_eq!(
        may_diagnose(&qa, &senior, Some(&dev)).unwrap_err().code(),
        "not_allowed"
    );
    assert_eq!(may_release(&dev, &dev), Ok(()));
    let refused = may_release(&qa, &dev).unwrap_err();
    assert_eq!(
        (refused.code(), refused.message()),
        ("not_a_requester", "developer".into())
    );
    assert!(may_answer_release_question(USER, USER));
    assert!(may_ask(
        &dev,
        &[Role::new("developer"), Role::new("senior")]
    ));
    assert!(!may_ask(&qa, &dev));
    assert!(may_withdraw(USER, USER, &[], &senior));
    assert!(may_withdraw(UserId(8), USER, &senior, &senior));
    assert!(!may_withdraw(UserId(8), USER, &dev, &senior));
    assert!(!may_answer_release_question(UserId(8), USER));
    assert!(may_tick_checklist(USER, USER));
    assert!(!may_tick_checklist(UserId(8), USER));
}

#[test]
fn a_deploy_rests_on_qa_and_no_lock_a_rollback_on_its_requester_only() {
    let verified_policy = EnvPolicy {
        requires_verified_in: Some(Env::parse("staging").unwrap()),
        ..prod_policy()
    };
    let dev = [Role::new("developer")];
    let facts = |kind, roles: &'static [Role], verified, lock: Option<(&str, &str)>| {
        let policy = Box::leak(Box::new(verified_policy.clone()));
        RecheckFacts {
            kind,
            env: "prod",
            version: "1.3.0",
            requester: "Alice",
            requester_roles: roles,
            policy,
            verified_before: verified,
            lock: lock.map(|(a, b)| (a.to_owned(), b.to_owned())),
            automatic_still_on: false,
            frozen: None,
            freeze_overridden: false,
        }
    };
    let dev: &'static [Role] = Box::leak(Box::new(dev));
    use OperationKind::{Deploy, Rollback};
    assert_eq!(recheck(&facts(Deploy, dev, true, None)), Ok(()));
    assert_eq!(
        recheck(&facts(Deploy, &[], true, None)),
        Err(Stale("Alice may no longer ask for deploys of prod".into()))
    );
    assert_eq!(
        recheck(&facts(Deploy, dev, false, Some(("Bob", "incident")))),
        Err(Stale("1.3.0 is no longer verified in staging".into()))
    );
    let locked = recheck(&facts(Deploy, dev, true, Some(("Bob", "incident")))).unwrap_err();
    assert_eq!(locked.message(), "prod was locked by Bob: incident");
    assert_eq!(locked.code(), "stale");
    // A rollback rests on neither QA's word nor an unlocked environment.
    assert_eq!(
        recheck(&facts(Rollback, dev, false, Some(("Bob", "incident")))),
        Ok(())
    );
    // A freeze in force stops a deploy asked without an override, not one
    // that overrode it, nor a rollback.
    let frozen = |kind, overridden| RecheckFacts {
        frozen: Some("prod is frozen".into()),
        freeze_overridden: overridden,
        ..facts(kind, dev, true, None)
    };
    assert_eq!(
        recheck(&frozen(Deploy, false)),
        Err(Stale("prod is frozen".into()))
    );
    assert_eq!(recheck(&frozen(Deploy, true)), Ok(()));
    assert_eq!(recheck(&frozen(Rollback, false)), Ok(()));
    // The bot's automatic rollback holds no role: it stands while the
    // environment still wants automatic rollbacks.
    let automatic = |on| RecheckFacts {
        automatic_still_on: on,
        ..facts(Rollback, &[], true, None)
    };
    assert_eq!(recheck(&automatic(true)), Ok(()));
    assert_eq!(
        recheck(&automatic(false)),
        Err(Stale(
            "Alice may no longer ask for rollbacks of prod".into()
        ))
    );
}
