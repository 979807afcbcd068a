//! Runs started outside the bot (the Release workflow's staging deploy, the
//! GitHub UI) found by polling alone, no webhook reaching the bot: told and
//! followed like the bot's own, once, however often it restarts.

use std::time::Duration;

use crate::support::*;

const RUN_9001: &str =
    "<a href=\"https://github.com/mindburn-labs/aletheia/actions/runs/9001\">Workflow run</a>";

async fn polling_world() -> World {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.poll_interval = "300ms";
    world
}

/// How many times the bot has listed a workflow's runs.
fn listings(world: &World, file: &str) -> usize {
    let route = format!("/repos/mindburn-labs/aletheia/actions/workflows/{file}/runs?");
    world
        .gh
        .requests()
        .iter()
        .filter(|r| r.starts_with(&route))
        .count()
}

#[tokio::test]
async fn a_staging_deploy_started_outside_the_bot_and_never_webhooked_gets_qa_asked() {
    let mut world = polling_world().await;
    world.start_bot().await;

    // The Release workflow starts the staging deploy itself; GitHub posts
    // no webhook to the bot, ever.
    world
        .gh
        .start_run("deploy.yml", "Deploy 1.3.0 to staging ()");
    let started = world.tg.next_message(TEAM_CHAT).await;
    assert_eq!(
        started.text,
        format!(
            "🚀 <b>staging</b> · deploy of <b>1.3.0</b> started (#1) outside the bot\n{RUN_9001}"
        )
    );

    // It rolls 1.3.0 out and ends: confirmed on ECS, then QA is asked.
    world.roll_out("staging", "1.3.0").await;
    world.gh.set_run(9001, "completed", Some("success"));
    let done = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("✅ <b>staging</b>"))
        .await;
    assert!(
        done.text
            .starts_with("✅ <b>staging</b> · <b>1.3.0</b> deployed (#1)"),
        "{}",
        done.text
    );
    assert_eq!(done.message_id, started.message_id);
    let qa = world.tg.next_message(TEAM_CHAT).await;
    assert_eq!(
        qa.text,
        "🧪 <b>Staging runs 1.3.0</b> (#1) — QA: is it good?"
    );
    assert_eq!(
        qa.buttons.concat(),
        [
            ("✅ Verified".to_owned(), "q:1:v".to_owned()),
            ("🐞 Found issues".to_owned(), "q:1:i".to_owned())
        ]
    );
    let tap = world.tg.user_taps(&qa, CAROL.id, CAROL.name, "q:1:v");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Recorded: 1.3.0 verified.".to_owned(), false)
    );
    world
        .tg
        .edited(TEAM_CHAT, Some(qa.message_id), |_| true)
        .await;

    // Each listing is one request per workflow, for the runs created
    // since the last one (not the whole history, not only dispatches).
    let lists: Vec<String> = world
        .gh
        .requests()
        .into_iter()
        .filter(|r| r.contains("/actions/workflows/"))
        .collect();
    for file in ["deploy.yml", "rollback.yml", "release.yml"] {
        assert!(listings(&world, file) >= 1, "{file} listed: {lists:?}");
    }
    assert!(
        lists
            .iter()
            .all(|r| r.contains("/runs?per_page=100&created=%3E%3D")),
        "{lists:?}"
    );

    // Restarted, the bot lists the same runs again and tells nothing twice.
    world.restart_bot().await;
    let before = listings(&world, "deploy.yml");
    eventually(
        Duration::from_secs(20),
        "two listings after restart",
        || {
            let n = listings(&world, "deploy.yml");
            async move { n >= before + 2 }
        },
    )
    .await;
    world
        .until_outbox_sent("after the restart", Duration::from_secs(10))
        .await;
    let ops = world.store().await.all_operations().await.unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(
        (ops[0].state.as_str(), ops[0].run_id),
        ("succeeded", Some(9001))
    );
}

#[tokio::test]
async fn a_release_run_from_the_github_ui_is_found_and_announced() {
    let mut world = polling_world().await;
    world.start_bot().await;

    world.gh.start_run("release.yml", "Release 1.4.0 (manual)");
    let started = world.tg.next_message(TEAM_CHAT).await;
    assert_eq!(
        started.text,
        format!("📦 <b>Release 1.4.0</b> started (#1) outside the bot\n{RUN_9001}")
    );
    world.gh.add_release("v1.4.0");
    world.gh.set_run(9001, "completed", Some("success"));
    let created = world.tg.next_message(TEAM_CHAT).await;
    assert!(
        created.text.starts_with("📦 <b>Release v1.4.0</b> created"),
        "{}",
        created.text
    );
}

#[tokio::test]
async fn a_staging_deploy_started_outside_the_bot_while_another_is_open_is_still_told() {
    let mut world = polling_world().await;
    world.start_bot().await;

    // Alice's staging deploy waits for QA's approval...
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    assert!(
        prompt
            .text
            .starts_with("🚀 <b>Deploy 1.3.0 → staging</b> · #1"),
        "{}",
        prompt.text
    );
    // ... when the Release workflow deploys to staging by itself.
    world
        .gh
        .start_run("deploy.yml", "Deploy 1.3.0 to staging ()");
    let started = world.tg.next_message(TEAM_CHAT).await;
    assert_eq!(
        started.text,
        format!(
            "🚀 <b>staging</b> · deploy of <b>1.3.0</b> started (#2) outside the bot\n\
             ⚠️ #1 (<b>staging</b> · deploy of <b>1.3.0</b>, awaiting approval) is still open there\n\
             {RUN_9001}"
        )
    );

    // It is followed to its end like any deploy.
    world.roll_out("staging", "1.3.0").await;
    world.gh.set_run(9001, "completed", Some("success"));
    let done = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("✅ <b>staging</b>"))
        .await;
    assert!(
        done.text
            .starts_with("✅ <b>staging</b> · <b>1.3.0</b> deployed (#2)"),
        "{}",
        done.text
    );
    let qa = world.tg.next_message(TEAM_CHAT).await;
    assert_eq!(
        qa.text,
        "🧪 <b>Staging runs 1.3.0</b> (#2) — QA: is it good?"
    );
    let ops = world.store().await.all_operations().await.unwrap();
    let states: Vec<(&str, Option<i64>)> =
        ops.iter().map(|o| (o.state.as_str(), o.run_id)).collect();
    assert_eq!(
        states,
        [("awaiting_approval", None), ("succeeded", Some(9001))]
    );
}

#[tokio::test]
async fn a_run_from_before_the_bot_first_started_is_history() {
    let mut world = polling_world().await;
    // A deploy ran before the bot was ever started.
    world.gh.start_run("deploy.yml", "Deploy 1.2.3 to dev ()");
    world.start_bot().await;

    // One started since is found; the older one never is.
    world.gh.start_run("deploy.yml", "Deploy 1.3.0 to dev ()");
    let started = world.tg.next_message(TEAM_CHAT).await;
    assert!(
        started
            .text
            .starts_with("🚀 <b>dev</b> · deploy of <b>1.3.0</b> started (#1) outside the bot"),
        "{}",
        started.text
    );
    let before = listings(&world, "deploy.yml");
    eventually(Duration::from_secs(20), "two more listings", || {
        let n = listings(&world, "deploy.yml");
        async move { n >= before + 2 }
    })
    .await;
    let ops = world.store().await.all_operations().await.unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].run_id, Some(9002));
}

#[tokio::test]
async fn a_push_deploy_to_dev_naming_no_release_is_followed_where_dev_deploys_itself() {
    let mut world = polling_world().await;
    world.dev_auto_deploy = true;
    world.monitor_interval = "100ms";
    world.start_bot().await;

    // A push to main deploys dev; its run names the image tag, no release.
    world
        .gh
        .start_run("deploy.yml", "Deploy main-1a2b3c4 to dev");
    let started = world.tg.next_message(TEAM_CHAT).await;
    assert_eq!(
        started.text,
        format!(
            "🚀 <b>dev</b> · deploy of <b>main-1a2b3c4</b> started (#1) outside the bot\n{RUN_9001}"
        )
    );
    world.roll_out("dev", "main-1a2b3c4").await;
    world.gh.set_run(9001, "completed", Some("success"));
    let done = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("✅ <b>dev</b>"))
        .await;
    assert!(
        done.text
            .starts_with("✅ <b>dev</b> · <b>main-1a2b3c4</b> deployed (#1)"),
        "{}",
        done.text
    );
    // The monitor saw the new task definition: the run explains it, so
    // nothing else is said of it.
    let looks = world.health.hits("dev");
    eventually(Duration::from_secs(30), "more looks", || async {
        world.health.hits("dev") >= looks + 5
    })
    .await;
}

#[tokio::test]
async fn a_deploy_run_naming_no_release_is_not_followed_elsewhere() {
    let mut world = polling_world().await;
    world.start_bot().await;

    // Staging does not deploy itself: a run naming a bare tag there is
    // not the bot's to follow; a release's run after it is.
    world
        .gh
        .start_run("deploy.yml", "Deploy main-1a2b3c4 to staging");
    world.gh.start_run("deploy.yml", "Deploy 1.3.0 to dev ()");
    let started = world.tg.next_message(TEAM_CHAT).await;
    assert!(
        started
            .text
            .starts_with("🚀 <b>dev</b> · deploy of <b>1.3.0</b> started (#1) outside the bot"),
        "{}",
        started.text
    );
    let ops = world.store().await.all_operations().await.unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].run_id, Some(9002));
}

#[tokio::test]
async fn a_run_started_while_the_bot_was_down_or_github_failing_is_found_after() {
    let mut world = polling_world().await;
    world.start_bot().await;
    let listed = listings(&world, "rollback.yml");
    eventually(Duration::from_secs(20), "a first listing", || {
        let n = listings(&world, "rollback.yml");
        async move { n > listed }
    })
    .await;

    // The bot is down while someone rolls prod back in the GitHub UI.
    world.kill_bot().await;
    world
        .gh
        .start_run("rollback.yml", "Rollback 1.2.2 to prod ()");
    // Back up, GitHub fails its listings for a while.
    let route = "/repos/mindburn-labs/aletheia/actions/workflows/rollback.yml/runs";
    world.gh.fail(route, 503);
    world.start_bot().await;
    let failed = listings(&world, "rollback.yml");
    eventually(Duration::from_secs(20), "failed listings", || {
        let n = listings(&world, "rollback.yml");
        async move { n >= failed + 3 }
    })
    .await;
    assert!(
        world.tg.sent_to(TEAM_CHAT).is_empty(),
        "nothing to tell yet"
    );

    // GitHub answers again: the run is told once, as it is.
    world.gh.heal(route);
    let started = world.tg.next_message(TEAM_CHAT).await;
    assert_eq!(
        started.text,
        format!(
            "⏪ <b>prod</b> · rollback to <b>1.2.2</b> started (#1) outside the bot\n{RUN_9001}"
        )
    );
}
