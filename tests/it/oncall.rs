//! On-call hears every loud thing: failures, break-glass rollbacks and
//! prod's health mention the chat's `mention_on_failure` users; QA's
//! "found issues" is an alert like a failure.

use crate::support::*;

/// The on-call chat takes rollbacks too, and rings Dave.
const CHATS: &str = r#"
[[chats]]
id = -1001000000001
name = "team"
alerts = ["release", "deployment", "rollback", "failure", "health", "approval"]

[[chats]]
id = -1001000000002
name = "oncall"
alerts = ["rollback", "failure", "health"]
envs = ["prod"]
mention_on_failure = [100000004]
"#;

const RINGS_DAVE: &str = "\n🔔 <a href=\"tg://user?id=100000004\">Dave</a>";

#[tokio::test]
async fn qa_finds_issues_after_a_staging_deploy_and_the_team_hears_it() {
    let world = world_with_release().await;

    // Alice deploys 1.3.0 to staging; Carol (QA) approves; it runs and
    // succeeds; QA is asked for its verdict.
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    let tap = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:1:a");
    world.tg.tap_answer(&tap).await;
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("🚀 <b>staging</b> · deploy of")
        })
        .await;
    world.roll_out("staging", "1.3.0").await;
    world.finish_run(9001, "success", "w-1").await;
    world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("✅ <b>staging</b>"))
        .await;
    let qa = world.tg.next_message(TEAM_CHAT).await;
    assert_eq!(
        qa.text,
        "🧪 <b>Staging runs 1.3.0</b> (#1) — QA: is it good?"
    );

    // Carol taps "Found issues": her verdict is recorded, the prompt says
    // so, and the team gets an alert naming the version, the environment,
    // Carol, and what it blocks.
    let tap = world.tg.user_taps(&qa, CAROL.id, CAROL.name, "q:1:i");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Recorded: issues found in 1.3.0.".to_owned(), false)
    );
    let alert = world.tg.next_message(TEAM_CHAT).await;
    assert_eq!(
        alert.text,
        "🐞 <b>staging 1.3.0</b> (#1): Carol found issues.\n\
         Deploys of 1.3.0 to prod are blocked until QA verifies it."
    );
    let edited = world
        .tg
        .edited(TEAM_CHAT, Some(qa.message_id), |_| true)
        .await;
    assert_eq!(
        edited.text,
        "🐞 <b>staging 1.3.0</b> (#1): Carol found issues"
    );
    // The alert was written with the verdict, as a failure.
    let alerts = world.store().await.all_alerts().await.unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a.kind == "failure" && a.dedup_key.starts_with("op:1:issues:")),
        "{alerts:?}"
    );

    // And prod refuses it indeed.
    let text = world.say(TEAM_CHAT, &BOB, "/deploy prod 1.3.0").await.text;
    assert!(
        text.starts_with(
            "⛔ 1.3.0 has not been deployed to staging successfully and verified by QA"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn a_break_glass_rollback_rings_the_on_call_in_a_chat_that_takes_rollbacks() {
    let mut world = World::new().await;
    world.prod_break_glass = true;
    world.chats_toml = Some(CHATS);
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.roll_out("prod", "1.3.0").await;
    world.start_bot().await;

    let texts = world
        .say_and_read(
            TEAM_CHAT,
            &BOB,
            "/rollback prod 1.2.2 --break-glass checkout returns 500s",
            3,
        )
        .await;
    let loud = "🚨 <b>BREAK-GLASS</b>: Bob rolls <b>prod</b> back from 1.3.0 to <b>1.2.2</b> without a second approval (#1).\n\
                Reason: checkout returns 500s";
    // The team chat lists nobody to ring; the on-call chat rings Dave.
    assert_eq!(texts[2], loud);
    assert_eq!(
        world.tg.next_message(ONCALL_CHAT).await.text,
        format!("{loud}{RINGS_DAVE}")
    );
    // That it started is news, not an alarm: it rings nobody.
    let started = world.tg.next_message(ONCALL_CHAT).await.text;
    assert!(
        started.starts_with("⏪ <b>prod</b> · rollback to <b>1.2.2</b> started (#1)"),
        "{started}"
    );
    assert!(!started.contains("tg://"), "{started}");
}

#[tokio::test]
async fn prods_failing_health_rings_the_on_call() {
    let mut world = World::new().await;
    world.chats_toml = Some(CHATS);
    world.seed().await;
    world.monitor_interval = "100ms";
    world.health.answer("prod", 503);
    world.start_bot().await;

    let down = format!(
        "🔴 <b>prod</b> · health check failing 2 times in a row: {} answered 503",
        world.health.url_of("prod")
    );
    assert_eq!(
        world.tg.next_message(ONCALL_CHAT).await.text,
        format!("{down}{RINGS_DAVE}")
    );
    assert_eq!(world.tg.next_message(TEAM_CHAT).await.text, down);
}
