//! `/release`: the checks by name, the confirmation when only the bump is
//! off, the dispatch, and the "Release created" alert, once.

use crate::support::github::{post_signed_webhook, release_published, workflow_run_event};
use crate::support::*;
use aletheia_bot::domain::OperationState;

async fn world() -> World {
    let mut world = World::new().await;
    world.seed().await; // latest release v1.2.3, main green
    world.start_bot().await;
    world
}

#[tokio::test]
async fn a_fitting_release_is_dispatched_and_announced_once() {
    let world = world().await;
    let texts = world
        .say_and_read(TEAM_CHAT, &ALICE, "/release v1.3.0 minor", 2)
        .await;
    assert_eq!(
        texts,
        [
            "🚀 <b>Release 1.3.0 (minor)</b> · #1\n✅ CI: main is green\n✅ New version: 1.3.0 is newer than 1.2.3\n\
             ✅ Fits the bump: 1.2.3 + minor = 1.3.0\nThe workflow is dispatched.",
            "🚀 <b>Release 1.3.0</b> (minor) started (#1)\nAsked by Alice\n\
             <a href=\"https://github.com/mindburn-labs/aletheia/actions/runs/9001\">Workflow run</a>",
        ]
    );
    let dispatches = world.gh.dispatches();
    assert_eq!(dispatches.len(), 1);
    assert_eq!(dispatches[0].0, "release.yml");
    assert_eq!(dispatches[0].1["inputs"]["version"], "1.3.0");
    assert_eq!(dispatches[0].1["inputs"]["release_type"], "minor");

    // The workflow publishes the release; GitHub sends both events.
    world.gh.add_release("v1.3.0");
    let release_id = 3; // the fake numbers releases in order
    let run = world.gh.set_run(9001, "completed", Some("success"));
    let sent = post_signed_webhook(
        &world.bot_url(),
        "workflow_run",
        "w-1",
        &workflow_run_event("completed", &run),
    )
    .await;
    assert!(sent.status().is_success());
    let sent = post_signed_webhook(
        &world.bot_url(),
        "release",
        "r-1",
        &release_published(release_id, "v1.3.0"),
    )
    .await;
    assert!(sent.status().is_success());
    let alert = world.tg.next_message(TEAM_CHAT).await;
    assert!(
        alert.text.starts_with("📦 <b>Release v1.3.0</b> created"),
        "{}",
        alert.text
    );
    let store = world.store().await;
    assert_eq!(
        store.all_operations().await.unwrap()[0].state,
        OperationState::Succeeded
    );
    let keys: Vec<String> = store
        .all_alerts()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.dedup_key)
        .collect();
    assert_eq!(
        keys.iter().filter(|k| k.starts_with("release:")).count(),
        1,
        "{keys:?}"
    );
}

#[tokio::test]
async fn red_ci_or_an_old_version_is_refused_with_the_checks() {
    let world = World::new().await;
    world.seed().await;
    world.gh.add_check_run("e2e", "completed", Some("failure"));
    let mut world = world;
    world.start_bot().await;
    let text = world
        .say(TEAM_CHAT, &ALICE, "/release 1.3.0 minor")
        .await
        .text;
    assert_eq!(
        text,
        "⛔ <b>Release 1.3.0 (minor)</b> refused:\n❌ CI: main is not green: failing: e2e\n\
         ✅ New version: 1.3.0 is newer than 1.2.3\n✅ Fits the bump: 1.2.3 + minor = 1.3.0"
    );
    let text = world
        .say(TEAM_CHAT, &ALICE, "/release 1.2.3 patch")
        .await
        .text;
    assert!(
        text.contains("❌ New version: 1.2.3 is not newer than the latest release 1.2.3"),
        "{text}"
    );
    // QA does not cut releases.
    let text = world
        .say(TEAM_CHAT, &CAROL, "/release 1.3.0 minor")
        .await
        .text;
    assert_eq!(
        text,
        "⛔ Releases are cut by: developer, senior. You hold none of these roles."
    );
    assert!(world.gh.dispatches().is_empty());
}

#[tokio::test]
async fn a_bump_that_does_not_fit_asks_first() {
    let world = world().await;
    let question = world.say(TEAM_CHAT, &ALICE, "/release 1.4.0 minor").await;
    assert_eq!(
        question.text,
        "⚠️ <b>Release 1.4.0 (minor)</b> · #1\n✅ CI: main is green\n✅ New version: 1.4.0 is newer than 1.2.3\n\
         ❌ Fits the bump: 1.2.3 + minor = 1.3.0, not 1.4.0\nRelease anyway?"
    );
    assert_eq!(
        question.buttons.concat(),
        [
            ("⚠️ Release anyway".to_owned(), "r:1:y".to_owned()),
            ("Cancel".to_owned(), "r:1:n".to_owned())
        ]
    );
    // Only Alice answers her question.
    let tap = world.tg.user_taps(&question, BOB.id, BOB.name, "r:1:y");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Only Alice can answer this.".to_owned(), true)
    );
    assert!(world.gh.dispatches().is_empty());
    // A release button cannot be replayed against a deploy, or the reverse.
    let tap = world.tg.user_taps(&question, ALICE.id, ALICE.name, "d:1:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("This button is not one of mine.".to_owned(), true)
    );

    let tap = world.tg.user_taps(&question, ALICE.id, ALICE.name, "r:1:y");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Confirmed. Dispatching the Release workflow.".to_owned(),
            false
        )
    );
    assert_eq!(world.gh.dispatches().len(), 1);
    // The question becomes the release's message: answered, then started.
    let started = world
        .tg
        .edited(TEAM_CHAT, Some(question.message_id), |s| {
            s.text.starts_with("🚀 <b>Release 1.4.0</b>")
        })
        .await;
    assert_eq!(
        started.edits[1..],
        [
            "⚠️ <b>Release 1.4.0 (minor)</b> · #1\nConfirmed by Alice despite the bump; dispatching the Release workflow."
        ]
    );
    assert!(
        started
            .text
            .starts_with("🚀 <b>Release 1.4.0</b> (minor) started (#1)"),
        "{}",
        started.text
    );

    // One release at a time: the next waits for this one's run.
    let busy = world
        .say(TEAM_CHAT, &ALICE, "/release 2.1.0 major")
        .await
        .text;
    assert_eq!(
        busy,
        "⏳ A release is already in flight (#1 1.4.0, dispatched). One release at a time."
    );
    let run = world.gh.set_run(9001, "completed", Some("failure"));
    let sent = post_signed_webhook(
        &world.bot_url(),
        "workflow_run",
        "w-9",
        &workflow_run_event("completed", &run),
    )
    .await;
    assert!(sent.status().is_success());
    let failed = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("❌"))
        .await;
    assert!(
        failed
            .text
            .starts_with("❌ <b>Release 1.4.0</b> (minor) failed (#1): failure"),
        "{}",
        failed.text
    );
    assert_eq!(
        world.tg.next_message(TEAM_CHAT).await.text,
        "❌ <b>Release 1.4.0</b> (minor) failed (#1) ↑"
    );
    // A release concerns every environment: the on-call chat hears of its failure.
    assert_eq!(world.tg.next_message(ONCALL_CHAT).await.text, failed.text);

    // Asked again and cancelled: nothing more is dispatched.
    let question = world.say(TEAM_CHAT, &ALICE, "/release 2.1.0 major").await;
    let cancel = question.buttons.concat()[1].1.clone();
    let tap = world.tg.user_taps(&question, ALICE.id, ALICE.name, &cancel);
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Cancelled.".to_owned(), false)
    );
    world
        .tg
        .edited(TEAM_CHAT, Some(question.message_id), |_| true)
        .await;
    assert_eq!(world.gh.dispatches().len(), 1);
}

#[tokio::test]
async fn from_release_through_staging_and_qa_to_prod() {
    let world = world().await;
    world
        .say_and_read(TEAM_CHAT, &ALICE, "/release 1.3.0 minor", 2)
        .await;
    world.gh.add_release("v1.3.0");
    world.finish_run(9001, "success", "w-1").await;
    let created = world.tg.next_message(TEAM_CHAT).await;
    assert!(
        created.text.starts_with("📦 <b>Release v1.3.0</b> created"),
        "{}",
        created.text
    );

    // The Release workflow starts the staging deploy itself.
    let deploy = world
        .gh
        .start_run("deploy.yml", "Deploy 1.3.0 to staging ()");
    post_signed_webhook(
        &world.bot_url(),
        "workflow_run",
        "w-2",
        &workflow_run_event("in_progress", &deploy),
    )
    .await;
    let started = world.tg.next_message(TEAM_CHAT).await;
    assert_eq!(
        started.text,
        "🚀 <b>staging</b> · deploy of <b>1.3.0</b> started (#2) outside the bot\n\
         <a href=\"https://github.com/mindburn-labs/aletheia/actions/runs/9002\">Workflow run</a>"
    );
    world.roll_out("staging", "1.3.0").await;
    world.finish_run(9002, "success", "w-3").await;
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
    let tap = world.tg.user_taps(&qa, CAROL.id, CAROL.name, "q:2:v");
    world.tg.tap_answer(&tap).await;
    world
        .tg
        .edited(TEAM_CHAT, Some(qa.message_id), |_| true)
        .await;

    // /status tells what QA said and who deployed what last.
    let status = world.say(TEAM_CHAT, &BOB, "/status staging").await.text;
    assert!(
        status.contains("\n   Last deploy: 1.3.0 by GitHub Actions · "),
        "{status}"
    );
    assert!(
        status.contains("\n   QA: 1.3.0 ✅ verified by Carol · "),
        "{status}"
    );

    // Now prod may be asked for. Carol is no senior, Bob asked himself:
    // both are refused; Dave approves and the Deploy workflow runs once.
    let prompt = world.say(TEAM_CHAT, &BOB, "/deploy prod 1.3.0").await;
    assert!(
        prompt.text.starts_with(
            "🚀 <b>Deploy 1.3.0 → prod</b> · #3\nAsked by Bob\nRunning there now: <b>1.2.2</b>"
        ),
        "{}",
        prompt.text
    );
    for (who, why) in [
        (&CAROL, "Only senior may decide this."),
        (
            &BOB,
            "You asked for this one: someone else must approve it (four eyes).",
        ),
    ] {
        let tap = world.tg.user_taps(&prompt, who.id, who.name, "d:3:a");
        assert_eq!(world.tg.tap_answer(&tap).await, (why.to_owned(), true));
    }
    assert_eq!(world.gh.dispatches().len(), 1, "only the release so far");
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:3:a");
    world.tg.tap_answer(&tap).await;
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("🚀 <b>prod</b> · deploy of")
        })
        .await;
    let dispatches = world.gh.dispatches();
    assert_eq!(dispatches.len(), 2);
    assert_eq!(dispatches[1].0, "deploy.yml");
    assert_eq!(dispatches[1].1["inputs"]["environment"], "prod");
    assert_eq!(dispatches[1].1["inputs"]["version"], "1.3.0");

    // The workflow rolls 1.3.0 out on ECS and succeeds; the bot sees the
    // new task definition running before it says "deployed".
    let run_id = world.gh.runs().last().unwrap()["id"].as_u64().unwrap();
    world.roll_out("prod", "1.3.0").await;
    let run = world.gh.set_run(run_id, "completed", Some("success"));
    post_signed_webhook(
        &world.bot_url(),
        "workflow_run",
        "w-4",
        &workflow_run_event("completed", &run),
    )
    .await;
    let done = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("✅ <b>prod</b>"))
        .await;
    assert!(
        done.text
            .starts_with("✅ <b>prod</b> · <b>1.3.0</b> deployed (#3) in "),
        "{}",
        done.text
    );
    assert!(
        done.text.contains(&format!(
            "\nECS: 2/2 tasks on {}-prod-api:3 · health 200\n",
            world.prefix
        )),
        "{}",
        done.text
    );
    assert_eq!(world.gh.dispatches().len(), 2, "dispatched exactly once");
    // (Asked in private: the team chat is at Telegram's 20 a minute.)
    let status = world.say(ALICE.id, &ALICE, "/status prod").await.text;
    assert!(
        status.contains("\n   Last deploy: 1.3.0 by Bob · "),
        "{status}"
    );
}

#[tokio::test]
async fn a_moved_latest_flag_does_not_change_the_release_checks() {
    let mut world = World::new().await;
    world.seed().await; // v1.2.2, v1.2.3 published, main green
    world.gh.add_release("v1.3.0");
    // Not on the release line: a GitHub pre-release, a draft, a tag that
    // is no version.
    world.gh.add_prerelease("v1.4.0-rc.1");
    world.gh.add_draft_release("v9.9.9");
    world.gh.add_release("nightly");
    // Old tags backfilled as releases: created last, they fill the first
    // page of the list (v1.3.0 is on the second), and GitHub's "latest"
    // follows creation dates.
    for patch in 0..120 {
        world.gh.add_release(&format!("v0.1.{patch}"));
    }
    // Then someone marks v1.2.2 as the latest by hand.
    world.gh.make_latest("v1.2.2");
    world.start_bot().await;

    // `/status` names the highest published version.
    let status = world.say(TEAM_CHAT, &ALICE, "/status").await.text;
    assert!(
        status.contains(
            "📦 Latest release: <a href=\"https://github.com/mindburn-labs/aletheia/releases/tag/v1.3.0\">v1.3.0</a>"
        ),
        "{status}"
    );

    // 1.3.0 is not newer than the latest release, whatever the flag says.
    let refused = world
        .say(TEAM_CHAT, &ALICE, "/release 1.3.0 minor")
        .await
        .text;
    assert_eq!(
        refused,
        "⛔ <b>Release 1.3.0 (minor)</b> refused:\n✅ CI: main is green\n\
         ❌ New version: 1.3.0 is not newer than the latest release 1.3.0\n\
         ❌ Fits the bump: 1.3.0 + minor = 1.4.0, not 1.3.0"
    );
    assert!(world.gh.dispatches().is_empty());

    // 1.4.0 is the next minor: every check passes, the run starts.
    let texts = world
        .say_and_read(TEAM_CHAT, &ALICE, "/release 1.4.0 minor", 2)
        .await;
    assert_eq!(
        texts[0],
        "🚀 <b>Release 1.4.0 (minor)</b> · #1\n✅ CI: main is green\n✅ New version: 1.4.0 is newer than 1.3.0\n\
         ✅ Fits the bump: 1.3.0 + minor = 1.4.0\nThe workflow is dispatched."
    );
    assert!(
        texts[1].starts_with("🚀 <b>Release 1.4.0</b> (minor) started (#1)"),
        "{}",
        texts[1]
    );
    let dispatches = world.gh.dispatches();
    assert_eq!(dispatches.len(), 1);
    assert_eq!(dispatches[0].1["inputs"]["version"], "1.4.0");

    // The guided /release offers the versions after 1.3.0.
    let offer = world.say(TEAM_CHAT, &BOB, "/release").await;
    assert_eq!(
        offer.text,
        "📦 <b>New release</b> · the latest is <b>v1.3.0</b>\nWhich version?"
    );
    let offered: Vec<&str> = offer.buttons[0].iter().map(|b| b.0.as_str()).collect();
    assert_eq!(offered, ["1.3.1 · patch", "1.4.0 · minor", "2.0.0 · major"]);
}
