//! Following runs to their end: webhooks first, polling when none come;
//! QA's verdict on staging; the whole promotion story to prod.

use aletheia_bot::domain::OperationState;
use std::time::Duration;

use crate::support::github::{post_signed_webhook, workflow_run_event};
use crate::support::*;

/// GitHub says (signed, delivery `delivery`) that the run is at `action`.
pub(crate) async fn run_event(
    world: &World,
    delivery: &str,
    action: &str,
    run: &serde_json::Value,
) {
    let response = post_signed_webhook(
        &world.bot_url(),
        "workflow_run",
        delivery,
        &workflow_run_event(action, run),
    )
    .await;
    assert!(response.status().is_success(), "{}", response.status());
}

/// The state of the `op`-th operation (0 first) in the store.
pub(crate) async fn state_of(world: &World, op: usize) -> String {
    world.store().await.all_operations().await.unwrap()[op]
        .state
        .as_str()
        .to_owned()
}

#[tokio::test]
async fn from_staging_through_qa_to_a_failed_prod_deploy() {
    let world = world_with_release().await;

    // Alice asks for staging; Carol (QA) approves; the Deploy run starts.
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    let tap = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:1:a");
    world.tg.tap_answer(&tap).await;
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("🚀 <b>staging</b> · deploy of")
        })
        .await;
    let run = world.gh.set_run(9001, "in_progress", None);
    run_event(&world, "w-1", "in_progress", &run).await;
    assert_eq!(state_of(&world, 0).await, "running");

    // It succeeds: the team hears it, and QA is asked for its verdict.
    world.roll_out("staging", "1.3.0").await;
    let run = world.gh.set_run(9001, "completed", Some("success"));
    run_event(&world, "w-2", "completed", &run).await;
    let done = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("✅ <b>staging</b>"))
        .await;
    assert!(
        done.text
            .starts_with("✅ <b>staging</b> · <b>1.3.0</b> deployed (#1) in "),
        "{}",
        done.text
    );
    assert!(done.text.ends_with(
        "<a href=\"https://github.com/mindburn-labs/aletheia/actions/runs/9001\">Deploy run</a>"
    ));
    // One message told the whole story: asked, approved, started, the run
    // done and ECS being checked, deployed.
    assert_eq!(done.message_id, prompt.message_id);
    // How long the run took depends on when the test got to end it.
    let heads: Vec<String> = done
        .edits
        .iter()
        .map(|t| {
            let head = t.lines().next().unwrap();
            match head.split_once(" succeeded in ") {
                Some((a, b)) => format!(
                    "{a} succeeded in …{}",
                    b.trim_start_matches(|c: char| c.is_ascii_digit() || c == 's')
                ),
                None => head.to_owned(),
            }
        })
        .collect();
    assert_eq!(
        heads,
        [
            "🚀 <b>Deploy 1.3.0 → staging</b> · #1",
            "✅ <b>Deploy 1.3.0 → staging</b> · #1",
            "🚀 <b>staging</b> · deploy of <b>1.3.0</b> started (#1)",
            "🔎 <b>staging</b> · deploy of <b>1.3.0</b>: the run succeeded in …; confirming on ECS (#1)",
        ]
    );
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
    assert_eq!(state_of(&world, 0).await, "succeeded");

    // Prod is refused until QA says so; only QA may say so.
    let text = world.say(TEAM_CHAT, &BOB, "/deploy prod 1.3.0").await.text;
    assert!(
        text.starts_with(
            "⛔ 1.3.0 has not been deployed to staging successfully and verified by QA"
        ),
        "{text}"
    );
    let tap = world.tg.user_taps(&qa, ALICE.id, ALICE.name, "q:1:v");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Only qa may give QA's verdict.".to_owned(), true)
    );
    let tap = world.tg.user_taps(&qa, CAROL.id, CAROL.name, "q:1:v");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Recorded: 1.3.0 verified.".to_owned(), false)
    );
    let edited = world
        .tg
        .edited(TEAM_CHAT, Some(qa.message_id), |_| true)
        .await;
    assert_eq!(
        edited.text,
        "✅ <b>staging 1.3.0</b> (#1) verified by Carol"
    );

    // Now prod: Bob asks, Dave approves, the run fails in two jobs.
    let prompt = world.say(TEAM_CHAT, &BOB, "/deploy prod 1.3.0").await;
    assert!(
        prompt
            .text
            .starts_with("🚀 <b>Deploy 1.3.0 → prod</b> · #2"),
        "{}",
        prompt.text
    );
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:2:a");
    world.tg.tap_answer(&tap).await;
    // The prompt is the deploy's one message from here on: it shows the
    // run's jobs as they go.
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text
                .starts_with("🚀 <b>prod</b> · deploy of <b>1.3.0</b> started")
        })
        .await;
    world.gh.set_jobs(
        9002,
        &[
            ("build", "success"),
            ("migrate", "in_progress"),
            ("deploy", "queued"),
        ],
    );
    let run = world.gh.set_run(9002, "in_progress", None);
    run_event(&world, "w-2b", "in_progress", &run).await;
    let running = world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text
                .starts_with("🚀 <b>prod</b> · deploy of <b>1.3.0</b> running")
        })
        .await;
    assert_eq!(
        running.text,
        "🚀 <b>prod</b> · deploy of <b>1.3.0</b> running (1/3 jobs) (#2)\nAsked by Bob · approved by Dave\n\
         <a href=\"https://github.com/mindburn-labs/aletheia/actions/runs/9002\">Workflow run</a>"
    );
    world.gh.set_jobs(
        9002,
        &[
            ("build", "success"),
            ("migrate", "failure"),
            ("deploy", "queued"),
        ],
    );
    // A job finished: GitHub's `workflow_job` event says so at once.
    let job = serde_json::json!({
        "action": "completed",
        "workflow_job": {"id": 900201, "run_id": 9002, "name": "migrate", "status": "completed", "conclusion": "failure"},
        "repository": {"full_name": "mindburn-labs/aletheia"}
    });
    let response = post_signed_webhook(&world.bot_url(), "workflow_job", "j-1", &job).await;
    assert!(response.status().is_success(), "{}", response.status());
    let running = world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text
                .starts_with("🚀 <b>prod</b> · deploy of <b>1.3.0</b> running (2/3")
        })
        .await;
    assert!(
        running.text.contains("\n⚠️ Failed so far: migrate\n"),
        "{}",
        running.text
    );
    world.gh.set_jobs(
        9002,
        &[
            ("build", "success"),
            ("migrate", "failure"),
            ("deploy", "cancelled"),
        ],
    );
    let run = world.gh.set_run(9002, "completed", Some("failure"));
    run_event(&world, "w-3", "completed", &run).await;
    // The alert waits on no GitHub call: the failed jobs come with its
    // diagnosis, an edit within seconds.
    let expected = "❌ <b>prod</b> · deploy of <b>1.3.0</b> failed (#2): failure\n\
                    <a href=\"https://github.com/mindburn-labs/aletheia/actions/runs/9002\">Logs</a>";
    // The team chat's "started" message becomes the failure, and a short
    // new message makes phones ring; on-call (which got no "started")
    // gets the whole failure as a new message.
    assert_eq!(
        undiagnosed(
            &world
                .tg
                .edited(TEAM_CHAT, None, |s| s.text.starts_with("❌"))
                .await
                .text
        ),
        expected
    );
    assert_eq!(
        world.tg.next_message(TEAM_CHAT).await.text,
        "❌ <b>prod</b> · deploy of <b>1.3.0</b> failed (#2) ↑"
    );
    let oncall = world.tg.next_message(ONCALL_CHAT).await;
    assert_eq!(undiagnosed(&oncall.text), expected);
    let diagnosed = world
        .tg
        .edited(ONCALL_CHAT, Some(oncall.message_id), |s| {
            s.text.contains("🔎 <b>Diagnosis</b>")
        })
        .await;
    assert!(
        diagnosed
            .text
            .contains("\nFailed: job <b>migrate</b>\nFailed: job <b>deploy</b>\n"),
        "{}",
        diagnosed.text
    );
    assert_eq!(state_of(&world, 1).await, "failed");
}

#[tokio::test]
async fn late_duplicate_and_out_of_order_webhooks_change_nothing() {
    let world = world_with_release().await;
    world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;

    let in_progress = world.gh.set_run(9001, "in_progress", None);
    world.roll_out("dev", "1.3.0").await;
    let completed = world.gh.set_run(9001, "completed", Some("success"));
    run_event(&world, "w-1", "completed", &completed).await;
    let done = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("✅ <b>dev</b>"))
        .await;
    assert!(
        done.text
            .starts_with("✅ <b>dev</b> · <b>1.3.0</b> deployed (#1)"),
        "{}",
        done.text
    );
    // The in_progress event arrives late, the completed one again (a
    // redelivery under a new id): the operation stays succeeded, no alert.
    run_event(&world, "w-0", "in_progress", &in_progress).await;
    run_event(&world, "w-2", "completed", &completed).await;
    assert_eq!(state_of(&world, 0).await, "succeeded");
    // dev promotes nothing further, so QA is not asked about it.
    let store = world.store().await;
    assert_eq!(
        store
            .all_alerts()
            .await
            .unwrap()
            .iter()
            .filter(|a| a.state != "sent")
            .count(),
        0
    );
}

#[tokio::test]
async fn without_webhooks_the_run_is_found_by_its_request_id_and_polled() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.gh.reject_run_details(); // an older GHES: no run id at dispatch
    world.poll_interval = "200ms";
    world.start_bot().await;
    world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;

    let runs = world.gh.runs();
    assert_eq!(runs.len(), 1);
    let request_id = world.store().await.all_operations().await.unwrap()[0]
        .request_id
        .clone();
    assert!(
        runs[0]["display_title"]
            .as_str()
            .unwrap()
            .contains(&request_id)
    );

    world.roll_out("dev", "1.3.0").await;
    world.gh.set_run(9001, "completed", Some("success"));
    let done = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("✅ <b>dev</b>"))
        .await;
    assert!(
        done.text
            .starts_with("✅ <b>dev</b> · <b>1.3.0</b> deployed (#1)"),
        "{}",
        done.text
    );
    let op = &world.store().await.all_operations().await.unwrap()[0];
    assert_eq!((op.state.as_str(), op.run_id), ("succeeded", Some(9001)));
    // Polling stops for a finished operation: nothing is left to post twice.
    let store = world.store().await;
    assert!(store.followed_operations().await.unwrap().is_empty());
    let keys: Vec<String> = store
        .all_alerts()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.dedup_key)
        .collect();
    assert_eq!(
        keys,
        [
            "op:1:dispatched@-1001000000001",
            "op:1:dispatched@-1001000000001:confirming",
            "op:1:dispatched@-1001000000001:succeeded"
        ]
    );
}

#[tokio::test]
async fn an_unclear_dispatch_is_never_repeated_and_its_run_is_found() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    // GitHub starts the run, but the answer that reaches the bot is a 502.
    world.gh.answer_dispatches_with(502);
    world.poll_interval = "200ms";
    world.start_bot().await;

    let texts = world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    assert!(texts[0].starts_with("⚠️ <b>dev</b> · deploy of <b>1.3.0</b> (#1): GitHub did not answer clearly (GitHub answered 502: Bad Gateway). The run may have started; looking for it by its request id <code>"), "{texts:?}");
    assert!(texts[1].starts_with("🚀 #1 Deploy 1.3.0 → dev: no approval needed.\n❌ Could not dispatch the workflow: GitHub did not answer clearly"), "{texts:?}");

    // The poller finds the run by its request id and follows it.
    world.roll_out("dev", "1.3.0").await;
    world.gh.set_run(9001, "completed", Some("success"));
    let done = world.tg.next_message(TEAM_CHAT).await;
    assert!(
        done.text
            .starts_with("✅ <b>dev</b> · <b>1.3.0</b> deployed (#1)"),
        "{}",
        done.text
    );
    assert_eq!(world.gh.dispatches().len(), 1, "never dispatched twice");
}

#[tokio::test]
async fn a_dispatch_whose_run_never_appears_fails_loudly_in_the_end() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.gh.fail(
        "/repos/mindburn-labs/aletheia/actions/workflows/deploy.yml/dispatches",
        504,
    );
    world.poll_interval = "200ms";
    world.find_run_within = "1s";
    world.start_bot().await;

    let texts = world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    assert!(
        texts[0].contains("GitHub did not answer clearly (GitHub answered 504"),
        "{texts:?}"
    );
    let op = world
        .store()
        .await
        .all_operations()
        .await
        .unwrap()
        .remove(0);
    // (Unknown is not failed: the first alert says the bot is looking;
    // asserting the state here would race the deadline under load.)
    let gave_up = world.tg.next_message(TEAM_CHAT).await;
    assert_eq!(
        gave_up.text,
        format!(
            "❌ #1 (deploy 1.3.0 → dev): no workflow run with request id <code>{}</code> appeared within 1s. \
             Check GitHub Actions before trying again.",
            op.request_id
        )
    );
    assert_eq!(
        world.store().await.all_operations().await.unwrap()[0].state,
        OperationState::Failed
    );
    assert!(world.gh.dispatches().is_empty());
}

#[tokio::test]
async fn a_run_whose_name_lacks_the_request_id_is_matched_by_time() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.gh.reject_run_details();
    world.gh.plain_run_names();
    world.poll_interval = "200ms";
    world.start_bot().await;
    world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    assert_eq!(world.gh.runs()[0]["display_title"], "Deploy");

    world.roll_out("dev", "1.3.0").await;
    world.gh.set_run(9001, "completed", Some("success"));
    let done = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("✅ <b>dev</b>"))
        .await;
    assert!(
        done.text
            .starts_with("✅ <b>dev</b> · <b>1.3.0</b> deployed (#1)"),
        "{}",
        done.text
    );
    assert_eq!(
        world.store().await.all_operations().await.unwrap()[0].run_id,
        Some(9001)
    );
}

#[tokio::test]
async fn run_look_ups_failing_for_a_while_change_nothing_and_the_outcome_comes_after() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.poll_interval = "200ms";
    world.start_bot().await;
    world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;

    // The run fails while GitHub answers 503 to every look-up of it, and
    // no webhook comes: only the poller can learn it.
    let route = "/repos/mindburn-labs/aletheia/actions/runs/9001";
    world.gh.fail(route, 503);
    world.gh.set_run(9001, "completed", Some("failure"));
    let looked = |world: &World| {
        world
            .gh
            .requests()
            .iter()
            .filter(|p| p.starts_with(route))
            .count()
    };
    let before = looked(&world);
    eventually(Duration::from_secs(10), "failed look-ups", || async {
        looked(&world) >= before + 3
    })
    .await;
    // Nothing moved and nobody was told anything.
    let state = state_of(&world, 0).await;
    assert!(state == "dispatched" || state == "running", "{state}");
    assert_eq!(world.tg.sent_to(TEAM_CHAT).len(), 2);

    // GitHub answers again: the failure is told once.
    world.gh.heal(route);
    let failed = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("❌"))
        .await;
    assert!(
        failed
            .text
            .starts_with("❌ <b>dev</b> · deploy of <b>1.3.0</b> failed (#1): failure"),
        "{}",
        failed.text
    );
    assert_eq!(
        world.tg.next_message(TEAM_CHAT).await.text,
        "❌ <b>dev</b> · deploy of <b>1.3.0</b> failed (#1) ↑"
    );
    assert_eq!(state_of(&world, 0).await, "failed");
    assert_eq!(world.gh.dispatches().len(), 1);
}

#[tokio::test]
async fn a_burst_of_webhooks_at_once_is_stored_once_each_and_a_run_in_it_still_applies() {
    let world = world_with_release().await;
    world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    let store = world.store().await;
    let before = store.delivery_count().await.unwrap();

    // 200 deliveries at once: CI runs (not the bot's), 20 of them
    // redelivered at the same moment, and the deploy's own run among them.
    let mut posts = tokio::task::JoinSet::new();
    for k in 0..200u64 {
        let url = world.bot_url();
        let (delivery, payload) = if k == 100 {
            let run = world.gh.set_run(9001, "completed", Some("failure"));
            ("ours".to_owned(), workflow_run_event("completed", &run))
        } else {
            let n = k % 180;
            let run = serde_json::json!({
                "id": 70_000_000 + n, "name": "CI", "path": ".github/workflows/ci.yml",
                "display_title": format!("CI #{n}"), "event": "push", "head_branch": "main",
                "status": "completed", "conclusion": "success",
                "html_url": format!("https://github.com/o/r/actions/runs/{n}"),
                "created_at": "2026-11-25T00:00:00Z", "updated_at": "2026-11-25T00:01:00Z"
            });
            (format!("ci-{n}"), workflow_run_event("completed", &run))
        };
        posts.spawn(async move {
            post_signed_webhook(&url, "workflow_run", &delivery, &payload)
                .await
                .status()
                .as_u16()
        });
    }
    let mut statuses = std::collections::BTreeMap::new();
    while let Some(status) = posts.join_next().await {
        *statuses.entry(status.unwrap()).or_insert(0) += 1;
    }
    // 179 CI deliveries and ours are new (202); the 20 repeats (or their
    // twins, whichever came second) are duplicates (200).
    assert_eq!(statuses, [(200, 20), (202, 180)].into_iter().collect());
    assert_eq!(store.delivery_count().await.unwrap() - before, 180);
    // The deploy's run in the burst was applied: the team hears it failed.
    let failed = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("❌"))
        .await;
    assert!(failed.text.contains("failed (#1)"), "{}", failed.text);
    // And where: a pointer to the edited message, below the burst.
    assert_eq!(
        world.tg.next_message(TEAM_CHAT).await.text,
        "❌ <b>dev</b> · deploy of <b>1.3.0</b> failed (#1) ↑"
    );
    assert_eq!(state_of(&world, 0).await, "failed");
}
