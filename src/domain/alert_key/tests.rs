use crate::domain::freeze::FreezeScope;
use proptest::prelude::*;

use super::*;

fn env(name: &str) -> Env {
    Env::parse(name).unwrap()
}

fn op(id: i64, step: OpStep) -> AlertKey {
    AlertKey::op(OperationId(id), step)
}

/// Keys as the bot has always written them (they are in databases).
#[test]
fn stored_keys_read_and_write_back_the_same() {
    let chat = ChatId(-1001000000001);
    let table: Vec<(&str, AlertKey)> = vec![
        ("op:12:prompt@5", op(12, OpStep::Prompt).in_chat(ChatId(5))),
        (
            "op:12:confirm@-100",
            op(12, OpStep::Confirm).in_chat(ChatId(-100)),
        ),
        ("op:12:qa@-100", op(12, OpStep::Qa).in_chat(ChatId(-100))),
        (
            "op:1:dispatched@-1001000000001",
            op(1, OpStep::Dispatched).in_chat(chat),
        ),
        (
            "op:1:dispatched@-1001000000001:confirming",
            op(1, OpStep::Dispatched)
                .in_chat(chat)
                .edited(EditStep::Confirming),
        ),
        (
            "op:12:dispatched@-100:jobs-1of3",
            op(12, OpStep::Dispatched)
                .in_chat(ChatId(-100))
                .edited(EditStep::Jobs { done: 1, total: 3 }),
        ),
        ("op:7:remind@5", op(7, OpStep::Remind).in_chat(ChatId(5))),
        (
            "op:7:prompt@5:counted:42",
            op(7, OpStep::Prompt)
                .in_chat(ChatId(5))
                .edited(EditStep::Counted { by: UserId(42) }),
        ),
        (
            "op:7:prompt@5:lapsed:42",
            op(7, OpStep::Prompt)
                .in_chat(ChatId(5))
                .edited(EditStep::Lapsed { by: UserId(42) }),
        ),
        (
            "op:7:qa@5:found_issues:42",
            op(7, OpStep::Qa)
                .in_chat(ChatId(5))
                .edited(EditStep::FoundIssues { by: UserId(42) }),
        ),
        (
            "op:7:confirm@5:release_anyway",
            op(7, OpStep::Confirm)
                .in_chat(ChatId(5))
                .edited(EditStep::ReleaseAnyway),
        ),
        ("op:3:no-run", op(3, OpStep::NoRun)),
        (
            "op:3:dispatch-unknown@-1",
            op(3, OpStep::DispatchUnknown).in_chat(ChatId(-1)),
        ),
        ("op:3:dispatch-failed", op(3, OpStep::DispatchFailed)),
        ("op:3:direct-failed", op(3, OpStep::DirectFailed)),
        ("op:3:break-glass", op(3, OpStep::BreakGlass)),
        (
            "op:3:auto-rollback@-1",
            op(3, OpStep::AutoRollback).in_chat(ChatId(-1)),
        ),
        (
            "op:3:auto-rollback-answer",
            op(3, OpStep::AutoRollbackAnswer),
        ),
        ("op:3:report@-1", op(3, OpStep::Report).in_chat(ChatId(-1))),
        ("op:3:unhealthy", op(3, OpStep::Unhealthy)),
        (
            "op:3:escalated-2@-1",
            op(3, OpStep::Escalated(2)).in_chat(ChatId(-1)),
        ),
        (
            "op:3:escalated-1@-1:taken",
            op(3, OpStep::Escalated(1))
                .in_chat(ChatId(-1))
                .edited(EditStep::Taken),
        ),
        (
            "op:1:issues:42@-1",
            op(1, OpStep::Issues { by: UserId(42) }).in_chat(ChatId(-1)),
        ),
        (
            "op:1:failed:ring@-1",
            op(1, OpStep::Ring(EditStep::Failed)).in_chat(ChatId(-1)),
        ),
        (
            "op:1:arm:42:0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            op(
                1,
                OpStep::Arm {
                    by: UserId(42),
                    nonce: "0f1e2d3c4b5a69788796a5b4c3d2e1f0".into(),
                },
            ),
        ),
        (
            "release:42@-1001000000001",
            AlertKey::release(42).in_chat(chat),
        ),
        (
            "health:prod:1:0@-100",
            AlertKey::health(env("prod"), 1, 0).in_chat(ChatId(-100)),
        ),
        (
            "health:prod:1:escalated-2@-100:taken",
            AlertKey::health_escalated(env("prod"), 1, 2)
                .in_chat(ChatId(-100))
                .edited(EditStep::Taken),
        ),
        (
            "lock:prod:1700000000000:locked@-100",
            AlertKey::lock(env("prod"), 1_700_000_000_000, LockEvent::Locked).in_chat(ChatId(-100)),
        ),
        (
            "lock:dev:5:reminder:9@-1",
            AlertKey::lock(env("dev"), 5, LockEvent::Reminder { at_ms: 9 }).in_chat(ChatId(-1)),
        ),
        (
            "lock:dev:5:lifted",
            AlertKey::lock(env("dev"), 5, LockEvent::Lifted),
        ),
        (
            "lock:dev:5:unlocked",
            AlertKey::lock(env("dev"), 5, LockEvent::Unlocked),
        ),
        (
            "secrets:2026-W49@-1001000000001",
            AlertKey::rotation(crate::domain::rotation::IsoWeek {
                year: 2026,
                week: 49,
            })
            .in_chat(chat),
        ),
        (
            "freeze:all:5:frozen@-1",
            AlertKey::freeze(FreezeScope::All, 5, false).in_chat(ChatId(-1)),
        ),
        (
            "freeze:prod:5:unfrozen",
            AlertKey::freeze(FreezeScope::Env(env("prod")), 5, true),
        ),
        ("op:3:freeze-override", op(3, OpStep::FreezeOverride)),
    ];
    for (text, key) in table {
        assert_eq!(AlertKey::parse(text), Some(key.clone()), "{text}");
        assert_eq!(key.to_string(), text);
    }
}

#[test]
fn keys_the_bot_never_writes_are_not_read() {
    for key in [
        "",
        "op:12",
        "op::x",
        "op:{op}:prompt@5",
        "op:12:done",
        "op:012:prompt",
        "op:12:prompt@",
        "op:12:prompt@+5",
        "op:12:prompt@5:bogus",
        "op:12:dispatched@5:jobs-1of",
        "op:1:arm:42:XYZ",
        "op:1:issues:x",
        "release:x",
        "health:prod:1",
        "health:PROD:1:0",
        "health:prod:1:escalated-",
        "health:prod:1:escalated-x",
        "lock:prod:1:gone",
        "lock:prod:1:reminder:",
        "secrets:2026-W7",
        "secrets:2026-W49:x",
        "secrets:",
    ] {
        assert_eq!(AlertKey::parse(key), None, "{key}");
    }
}

#[test]
fn a_new_operation_is_written_for_the_store_to_fill_in() {
    let key = AlertKey::op(crate::domain::NewOp, OpStep::Prompt).in_chat(ChatId(5));
    assert_eq!(key.to_string(), "op:{op}:prompt@5");
    assert_eq!(key.operation(), None);
}

#[test]
fn an_alert_names_its_operation_by_its_keys_prefix() {
    for (key, op) in [
        ("op:12:dispatched@-100", Some(12)),
        ("op:12:dispatched@-100:jobs-1of3", Some(12)),
        ("op:7:prompt@5", Some(7)),
        ("op:8:done", Some(8)),
        ("op:{op}:prompt@5", None),
        ("op::x", None),
        ("op:12", None),
        ("release:12@-100", None),
        ("lock:prod:1700000000000:locked@-100", None),
        ("health:prod:1:0@-100", None),
    ] {
        assert_eq!(AlertKey::operation_in(key), op.map(OperationId), "{key}");
    }
}

#[test]
fn progress_is_only_ever_an_edit() {
    let started = op(1, OpStep::Dispatched).in_chat(ChatId(-1));
    let progress = started.edited(EditStep::Jobs { done: 2, total: 5 });
    assert!(!progress.stands_alone());
    assert_eq!(progress.jobs_done(), Some(2));
    assert_eq!(progress.original(), Some(started.clone()));
    assert!(started.edited(EditStep::Failed).stands_alone());
    assert_eq!(started.original(), None);
}

fn any_edit() -> impl Strategy<Value = EditStep> {
    let by = any::<i64>().prop_map(UserId);
    prop_oneof![
        prop::sample::select(vec![
            EditStep::Started,
            EditStep::Confirming,
            EditStep::Failed,
            EditStep::Succeeded,
            EditStep::Unhealthy,
            EditStep::Direct,
            EditStep::DirectFailed,
            EditStep::Approve,
            EditStep::ConfirmApprove,
            EditStep::Reject,
            EditStep::ReleaseAnyway,
            EditStep::CancelRelease,
            EditStep::Checked,
            EditStep::Stale,
            EditStep::Withdrawn,
            EditStep::Diagnosis,
            EditStep::Cancelled,
            EditStep::Expired,
        ]),
        (any::<usize>(), any::<usize>()).prop_map(|(done, total)| EditStep::Jobs { done, total }),
        any::<usize>().prop_map(|item| EditStep::Tick { item }),
        by.clone().prop_map(|by| EditStep::Lapsed { by }),
        by.clone().prop_map(|by| EditStep::Counted { by }),
        by.clone().prop_map(|by| EditStep::Verify { by }),
        by.prop_map(|by| EditStep::FoundIssues { by }),
    ]
}

fn any_op_step() -> impl Strategy<Value = OpStep> {
    prop_oneof![
        prop::sample::select(vec![
            OpStep::Prompt,
            OpStep::Confirm,
            OpStep::Qa,
            OpStep::Dispatched,
            OpStep::DispatchUnknown,
            OpStep::DispatchFailed,
            OpStep::NoRun,
            OpStep::Failed,
            OpStep::Succeeded,
            OpStep::Unhealthy,
            OpStep::Direct,
            OpStep::DirectFailed,
            OpStep::BreakGlass,
            OpStep::FreezeOverride,
            OpStep::Report,
            OpStep::AutoRollback,
            OpStep::AutoRollbackAnswer,
            OpStep::Remind,
        ]),
        any::<i64>().prop_map(|by| OpStep::Issues { by: UserId(by) }),
        any::<u64>().prop_map(OpStep::Gate),
        (any::<i64>(), "[0-9a-f]{32}").prop_map(|(by, nonce)| OpStep::Arm {
            by: UserId(by),
            nonce
        }),
        any_edit().prop_map(OpStep::Ring),
    ]
}

fn any_key() -> impl Strategy<Value = AlertKey> {
    let env = "[a-z][a-z0-9-]{0,31}".prop_map(|e| Env::parse(&e).unwrap());
    let lock_event = prop_oneof![
        Just(LockEvent::Locked),
        Just(LockEvent::Unlocked),
        Just(LockEvent::Lifted),
        any::<i64>().prop_map(|at_ms| LockEvent::Reminder { at_ms }),
    ];
    let subject = prop_oneof![
        ((0..i64::MAX).prop_map(OperationId), any_op_step()).prop_map(|(op, step)| Subject::Op {
            op: OpSlot::Id(op),
            step
        }),
        any::<u64>().prop_map(|id| Subject::Release { id }),
        (env.clone(), any::<i64>(), any::<usize>())
            .prop_map(|(env, at_ms, index)| { Subject::Health { env, at_ms, index } }),
        (env.clone(), any::<i64>(), any::<u32>())
            .prop_map(|(env, at_ms, step)| { Subject::HealthEscalated { env, at_ms, step } }),
        (env.clone(), any::<i64>(), lock_event).prop_map(|(env, locked_at, event)| {
            Subject::Lock {
                env,
                locked_at,
                event,
            }
        }),
        (0..10_000i32, 1..=53u32).prop_map(|(year, week)| Subject::Rotation {
            week: crate::domain::rotation::IsoWeek { year, week }
        }),
        (
            prop_oneof![
                Just(FreezeScope::All),
                env.prop_filter("all names every environment", |e| e.as_str() != "all")
                    .prop_map(FreezeScope::Env)
            ],
            any::<i64>(),
            any::<bool>()
        )
            .prop_map(|(scope, frozen_at, lifted)| Subject::Freeze {
                scope,
                frozen_at,
                lifted
            }),
    ];
    // Only a chat's copy is ever edited.
    let copy = prop_oneof![
        Just((None, None)),
        (any::<i64>(), proptest::option::of(any_edit()))
            .prop_map(|(chat, edit)| (Some(ChatId(chat)), edit)),
    ];
    (subject, copy).prop_map(|(subject, (chat, edit))| AlertKey {
        subject,
        chat,
        edit,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Every key the bot writes reads back as itself, and names its
    /// operation for retention the same way the typed key does.
    #[test]
    fn every_key_round_trips(key in any_key()) {
        let text = key.to_string();
        prop_assert_eq!(AlertKey::parse(&text), Some(key.clone()), "{}", text);
        prop_assert_eq!(AlertKey::operation_in(&text), key.operation());
    }

    /// Any stored text is read without panic.
    #[test]
    fn any_text_is_read_without_panic(text in "\\PC{0,80}") {
        if let Some(key) = AlertKey::parse(&text) {
            prop_assert_eq!(key.to_string(), text);
        }
    }
}
