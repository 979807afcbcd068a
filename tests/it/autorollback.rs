//! Automatic rollback (`environments.<env>.rollback.auto`): a prod deploy
//! that ends unhealthy makes the bot ask for the rollback to the last
//! version confirmed healthy there, loudly; dispatched at once only with
//! `auto_approve`; never for a rollback; and the incident report tells
//! how long prod was down.

use std::time::Duration;

use aletheia_bot::domain::{Env, OperationKind, OperationState, UserId};

use crate::support::*;

const AUTO: &str = "auto = true\n";
const AUTO_APPROVED: &str = "auto = true\nauto_approve = true\n";

/// Prod runs 1.2.2, confirmed healthy there; 1.3.0 passed staging and QA.
/// Operations #1 (staging) and #2 (prod) are that history.
async fn prod_on_1_2_2(rollback_toml: &'static str) -> World {
    prod_on_1_2_2_in(World::new().await, rollback_toml).await
}

/// As [`prod_on_1_2_2`], in `world` as a test set it.
async fn prod_on_1_2_2_in(mut world: World, rollback_toml: &'static str) -> World {
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.confirm_within = "2s";
    world.prod_rollback_toml = rollback_toml;
    world.start_bot().await;
    world.verified_on_staging("1.3.0").await;
    let prod = Env::parse("prod").unwrap();
    let store = world.store().await;
    store
        .record_succeeded_deploy(&prod, "1.2.2", UserId(ALICE.id))
        .await
        .unwrap();
    world
}

/// Alice deploys 1.3.0 to prod (#3), Dave approves; ECS rolls it out but
/// its health URL answers 503, so it ends deployed but unhealthy.
async fn unhealthy_deploy_of_1_3_0(world: &World) {
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy prod 1.3.0").await;
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:3:a");
    world.tg.tap_answer(&tap).await;
    world.health.answer("prod", 503);
    world.roll_out("prod", "1.3.0").await;
    world.finish_run(9001, "success", "w-1").await;
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text
                .starts_with("⚠️ <b>prod</b> · <b>1.3.0</b> deployed but unhealthy (#3)")
        })
        .await;
}

/// Waits until a message to `chat` starts with `prefix`; returns it
/// (read or not: the scenario reads its chats at the end).
async fn sent_starting(world: &World, chat: i64, prefix: &str) -> telegram::Sent {
    let found = || {
        world
            .tg
            .sent_to(chat)
            .into_iter()
            .find(|s| s.text.starts_with(prefix))
    };
    eventually(Duration::from_secs(30), prefix, || async {
        found().is_some()
    })
    .await;
    found().unwrap()
}

fn rollback_dispatches(world: &World) -> Vec<serde_json::Value> {
    world
        .gh
        .dispatches()
        .into_iter()
        .filter(|(file, _)| file == "rollback.yml")
        .map(|(_, body)| body)
        .collect()
}

const LOUD: &str = "🚨🤖 <b>Automatic rollback of prod</b>\n\
    Deploy #3 of 1.3.0 was deployed but is unhealthy: the bot asks to roll prod back to <b>1.2.2</b>, \
    the last version confirmed healthy there.\n";

#[tokio::test]
async fn an_unhealthy_prod_deploy_is_rolled_back_once_and_never_its_rollback() {
    let world = prod_on_1_2_2(AUTO_APPROVED).await;
    unhealthy_deploy_of_1_3_0(&world).await;

    // Said loudly where failures go, and dispatched at once.
    let loud = format!(
        "{LOUD}It needs no approval here (<code>rollback.auto_approve</code>): it is dispatched now."
    );
    for chat in [TEAM_CHAT, ONCALL_CHAT] {
        assert_eq!(sent_starting(&world, chat, "🚨🤖").await.text, loud);
        let answer = sent_starting(&world, chat, "⏪ #4 Rollback prod → 1.2.2").await;
        assert!(
            answer
                .text
                .contains("Asked by the bot (automatic rollback)")
                && answer.text.ends_with("The workflow is dispatched."),
            "{}",
            answer.text
        );
    }
    let dispatched = rollback_dispatches(&world);
    assert_eq!(dispatched.len(), 1);
    assert_eq!(dispatched[0]["inputs"]["environment"], "prod");
    assert_eq!(dispatched[0]["inputs"]["version"], "1.2.2");

    // The automatic rollback fails in turn, after ECS changed: no
    // rollback of it, nor a word about one.
    world.roll_out("prod", "1.2.2").await;
    world.finish_run(9002, "failure", "w-2").await;
    sent_starting(
        &world,
        ONCALL_CHAT,
        "❌ <b>prod</b> · rollback to <b>1.2.2</b> failed",
    )
    .await;
    world
        .until_outbox_sent("the failure's alerts", Duration::from_secs(30))
        .await;
    let store = world.store().await;
    let ops = store.all_operations().await.unwrap();
    assert_eq!(ops.len(), 4, "{ops:?}");
    assert_eq!(ops[3].kind, OperationKind::Rollback);
    assert_eq!(ops[3].state, OperationState::Failed);
    assert_eq!(rollback_dispatches(&world).len(), 1);
    for chat in [TEAM_CHAT, ONCALL_CHAT] {
        let automatic = |s: &&telegram::Sent| {
            s.text.starts_with("🚨🤖") || s.text.starts_with("⚠️ <b>No automatic rollback")
        };
        assert_eq!(world.tg.sent_to(chat).iter().filter(automatic).count(), 1);
        world.tg.read_all(chat);
    }
}

#[tokio::test]
async fn without_auto_approve_the_rollback_waits_for_its_approvals() {
    let world = prod_on_1_2_2(AUTO).await;
    unhealthy_deploy_of_1_3_0(&world).await;

    let loud = format!("{LOUD}It waits for 1 approval(s) in the approval chats, as any rollback.");
    for chat in [TEAM_CHAT, ONCALL_CHAT] {
        assert_eq!(sent_starting(&world, chat, "🚨🤖").await.text, loud);
    }
    let prompt = sent_starting(&world, TEAM_CHAT, "⏪ <b>Rollback prod → 1.2.2</b>").await;
    assert!(
        prompt
            .text
            .contains("Asked by the bot (automatic rollback)"),
        "{}",
        prompt.text
    );
    world
        .until_outbox_sent("the rollback's prompt", Duration::from_secs(30))
        .await;
    assert!(rollback_dispatches(&world).is_empty());
    let store = world.store().await;
    let ops = store.all_operations().await.unwrap();
    assert_eq!(ops[3].state, OperationState::AwaitingApproval);

    // Dave approves it as any rollback.
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:4:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Approved. Dispatching the Rollback workflow.".to_owned(),
            false
        )
    );
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text
                .starts_with("⏪ <b>prod</b> · rollback to <b>1.2.2</b> started (#4)")
        })
        .await;
    assert_eq!(rollback_dispatches(&world).len(), 1);
    world
        .until_outbox_sent("the rollback's start", Duration::from_secs(30))
        .await;
    world.tg.read_all(TEAM_CHAT);
    world.tg.read_all(ONCALL_CHAT);
}

#[tokio::test]
async fn without_auto_nothing_is_rolled_back() {
    let world = prod_on_1_2_2("").await;
    unhealthy_deploy_of_1_3_0(&world).await;
    sent_starting(
        &world,
        ONCALL_CHAT,
        "⚠️ <b>prod</b> · <b>1.3.0</b> deployed but unhealthy (#3)",
    )
    .await;
    world
        .until_outbox_sent("the unhealthy alerts", Duration::from_secs(30))
        .await;
    let store = world.store().await;
    assert_eq!(store.all_operations().await.unwrap().len(), 3);
    assert!(rollback_dispatches(&world).is_empty());
    for chat in [TEAM_CHAT, ONCALL_CHAT] {
        let read = world.tg.read_all(chat);
        assert!(read.iter().all(|s| !s.text.starts_with("🚨🤖")));
    }
}

#[tokio::test]
async fn the_incident_report_tells_the_time_to_recovery_and_the_automatic_rollback() {
    let world = prod_on_1_2_2(AUTO_APPROVED).await;
    unhealthy_deploy_of_1_3_0(&world).await;
    sent_starting(&world, TEAM_CHAT, "⏪ #4 Rollback prod → 1.2.2").await;

    // The rollback runs and holds: prod has recovered.
    world.health.answer("prod", 200);
    world.roll_out("prod", "1.2.2").await;
    world.finish_run(9002, "success", "w-2").await;
    let done = world
        .tg
        .edited(TEAM_CHAT, None, |s| {
            s.text.starts_with("✅ <b>prod</b> · rolled back to")
        })
        .await;
    let tap = world.tg.user_taps(&done, BOB.id, BOB.name, "i:4:o");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Opened issue #101.".to_owned(), false)
    );
    let issues = world.gh.issues();
    let body = issues[0]["body"].as_str().unwrap();
    assert!(
        body.starts_with(
            "**prod** was rolled back from **1.3.0** to **1.2.2** (operation #4), \
             asked by the bot (automatic rollback).\n\n\
             The bot asked for this rollback itself after deploy #3 went wrong \
             (automatic rollback, `environments.prod.rollback.auto`).\n\n\
             **Time to recovery: "
        ),
        "{body}"
    );
    assert!(
        body.contains("from the first failure alert (`")
            && body.contains("to #4 confirmed healthy"),
        "{body}"
    );
    sent_starting(&world, TEAM_CHAT, "📝 Incident report").await;
    world
        .until_outbox_sent("the report's alert", Duration::from_secs(30))
        .await;
    world.tg.read_all(TEAM_CHAT);
    world.tg.read_all(ONCALL_CHAT);
}

#[tokio::test]
async fn a_failed_run_is_rolled_back_only_once_ecs_changed() {
    let world = prod_on_1_2_2(AUTO_APPROVED).await;
    // #3 fails before touching ECS: prod still runs 1.2.2, nothing to undo.
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy prod 1.3.0").await;
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:3:a");
    world.tg.tap_answer(&tap).await;
    world.finish_run(9001, "failure", "w-1").await;
    sent_starting(
        &world,
        ONCALL_CHAT,
        "❌ <b>prod</b> · deploy of <b>1.3.0</b> failed (#3)",
    )
    .await;
    world
        .until_outbox_sent("the first failure's alerts", Duration::from_secs(30))
        .await;
    let store = world.store().await;
    assert_eq!(store.all_operations().await.unwrap().len(), 3);
    assert!(rollback_dispatches(&world).is_empty());

    // #4 fails after ECS rolled 1.3.0 out: the bot rolls it back.
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy prod 1.3.0").await;
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:4:a");
    world.tg.tap_answer(&tap).await;
    world.roll_out("prod", "1.3.0").await;
    world.finish_run(9002, "failure", "w-2").await;
    let loud = sent_starting(&world, ONCALL_CHAT, "🚨🤖").await;
    assert!(
        loud.text
            .contains("Deploy #4 of 1.3.0 failed after ECS changed: the bot asks to roll prod back to <b>1.2.2</b>"),
        "{}",
        loud.text
    );
    sent_starting(&world, ONCALL_CHAT, "⏪ #5 Rollback prod → 1.2.2").await;
    let dispatched = rollback_dispatches(&world);
    assert_eq!(dispatched.len(), 1);
    assert_eq!(dispatched[0]["inputs"]["version"], "1.2.2");
    world
        .until_outbox_sent("the rollback's start", Duration::from_secs(30))
        .await;
    world.tg.read_all(TEAM_CHAT);
    world.tg.read_all(ONCALL_CHAT);
}

#[tokio::test]
async fn a_deploy_whose_instance_died_before_deciding_is_rolled_back_by_the_leader() {
    let mut world = World::new().await;
    world.monitor_interval = "100ms";
    let world = prod_on_1_2_2_in(world, AUTO_APPROVED).await;
    let prod = Env::parse("prod").unwrap();
    let store = world.store().await;
    // 1.3.0 was rolled out; an instance confirmed deploy #3 unhealthy,
    // then died before it decided the automatic rollback: only the
    // operation's state is left.
    world.roll_out("prod", "1.3.0").await;
    let died = aletheia_bot::store::NewOperation {
        kind: OperationKind::Deploy,
        env: Some(prod),
        version: "1.3.0".into(),
        release_type: None,
        state: OperationState::Unhealthy,
        requested_by: UserId(ALICE.id),
        chat_id: TEAM_CHAT,
        request_id: uuid::Uuid::new_v4().to_string(),
        expires_in_ms: None,
        detail: None,
        run: None,
        direct_ecs: false,
        freeze_override: None,
    };
    let audit = aletheia_bot::store::AuditEntry {
        actor: None,
        chat: None,
        action: "confirm:deploy".into(),
        outcome: "unhealthy".into(),
        operation: None,
        detail: String::new(),
    };
    store.create_operation(&died, &audit, &[]).await.unwrap();

    // The leader decides it: said loudly, dispatched once.
    let loud = format!(
        "{LOUD}It needs no approval here (<code>rollback.auto_approve</code>): it is dispatched now."
    );
    for chat in [TEAM_CHAT, ONCALL_CHAT] {
        assert_eq!(sent_starting(&world, chat, "🚨🤖").await.text, loud);
        sent_starting(&world, chat, "⏪ #4 Rollback prod → 1.2.2").await;
    }
    world
        .until_outbox_sent("the rollback's alerts", Duration::from_secs(30))
        .await;
    let dispatched = rollback_dispatches(&world);
    assert_eq!(dispatched.len(), 1);
    assert_eq!(dispatched[0]["inputs"]["version"], "1.2.2");
    for chat in [TEAM_CHAT, ONCALL_CHAT] {
        world.tg.read_all(chat);
    }
}
