//! Only our repository, only our runs: an organisation-wide webhook sends
//! every repository's events, and other runs may name an operation's
//! request; none of them moves an operation or says anything.

use aletheia_bot::domain::OperationState;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::github::{post_signed_webhook, release_published, workflow_run_event};
use crate::support::*;

/// Posts a signed delivery; returns the HTTP status.
async fn post(world: &World, event: &str, delivery: &str, payload: &Value) -> u16 {
    post_signed_webhook(&world.bot_url(), event, delivery, payload)
        .await
        .status()
        .as_u16()
}

/// The same event, as another repository's webhook would send it.
fn from_repository(mut payload: Value, full_name: &str) -> Value {
    payload["repository"] = json!({"full_name": full_name});
    payload
}

/// `run` moved to `status`/`conclusion`, as its webhook would carry it,
/// without moving the fake's own run.
fn run_now(run: &Value, status: &str, conclusion: Option<&str>) -> Value {
    let mut run = run.clone();
    run["status"] = json!(status);
    run["conclusion"] = json!(conclusion);
    run
}

async fn only_operation(world: &World) -> aletheia_bot::store::OperationRow {
    let ops = world.store().await.all_operations().await.unwrap();
    assert_eq!(ops.len(), 1, "{ops:#?}");
    ops[0].clone()
}

#[tokio::test]
async fn a_signed_workflow_run_of_another_repository_changes_nothing() {
    let world = world_with_release().await;
    world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    let store = world.store().await;
    let alerts_before = store.all_alerts().await.unwrap().len();
    let ours = world.gh.runs()[0].clone();
    assert_eq!(ours["id"], 9001);

    // The same workflow file and run-name, the same run id even, in
    // another repository of the organisation: it failed there.
    let failed_there = from_repository(
        workflow_run_event("completed", &run_now(&ours, "completed", Some("failure"))),
        "other-org/other-repo",
    );
    assert_eq!(
        post(&world, "workflow_run", "other-run", &failed_there).await,
        202
    );
    // Its job events and its release are not ours either.
    let job_there = json!({
        "action": "completed",
        "workflow_job": {"id": 900101, "run_id": 9001, "name": "deploy", "status": "completed", "conclusion": "failure"},
        "repository": {"full_name": "other-org/other-repo"}
    });
    assert_eq!(
        post(&world, "workflow_job", "other-job", &job_there).await,
        202
    );
    let released_there = from_repository(release_published(77, "v9.0.0"), "other-org/aletheia");
    assert_eq!(
        post(&world, "release", "other-release", &released_there).await,
        202
    );
    // A run event that names no repository at all cannot be proven ours.
    let mut nameless =
        workflow_run_event("completed", &run_now(&ours, "completed", Some("failure")));
    nameless.as_object_mut().unwrap().remove("repository");
    assert_eq!(
        post(&world, "workflow_run", "nameless-run", &nameless).await,
        202
    );

    // Each is stored as ignored; the deploy still waits on its run; no
    // alert was queued.
    for delivery in ["other-run", "other-job", "other-release", "nameless-run"] {
        let why = store.delivery_ignored(delivery).await.unwrap();
        assert!(
            matches!(&why, Some(Some(why)) if !why.is_empty()),
            "{delivery}: {why:?}"
        );
    }
    let op = only_operation(&world).await;
    assert_eq!((op.state.as_str(), op.run_id), ("dispatched", Some(9001)));
    assert_eq!(store.all_alerts().await.unwrap().len(), alerts_before);
    let ignored = store
        .recent_audit(10)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.outcome == "ignored")
        .count();
    assert_eq!(ignored, 4);

    // Our repository's own event, its name in other capitals (GitHub's
    // names are case-insensitive), is applied: the team hears of it.
    let failed_here = from_repository(
        workflow_run_event(
            "completed",
            &world.gh.set_run(9001, "completed", Some("failure")),
        ),
        "Mindburn-Labs/Aletheia",
    );
    assert_eq!(
        post(&world, "workflow_run", "our-run", &failed_here).await,
        202
    );
    assert_eq!(store.delivery_ignored("our-run").await.unwrap(), Some(None));
    let failed = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("❌"))
        .await;
    assert!(failed.text.contains("failed (#1)"), "{}", failed.text);
    let ring = world.tg.next_message(TEAM_CHAT).await;
    assert!(ring.text.starts_with("❌"), "{}", ring.text);
    assert_eq!(only_operation(&world).await.state, OperationState::Failed);
}

#[tokio::test]
async fn a_run_naming_the_request_for_another_env_or_version_is_not_attached() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.gh.reject_run_details(); // the run is matched by its request id
    world.start_bot().await;
    world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    let request_id = only_operation(&world).await.request_id;

    // Runs of the Deploy workflow whose run-names carry the request id but
    // say another environment, or another version, than the operation's.
    for (delivery, title) in [
        ("prod-run", format!("Deploy 1.3.0 to prod ({request_id})")),
        ("old-run", format!("Deploy 1.2.2 to dev ({request_id})")),
    ] {
        let run = world.gh.start_run("deploy.yml", &title);
        let event = workflow_run_event("completed", &run_now(&run, "completed", Some("failure")));
        assert_eq!(post(&world, "workflow_run", delivery, &event).await, 202);
        let op = only_operation(&world).await;
        assert_eq!(
            (op.state.as_str(), op.run_id),
            ("dispatched", None),
            "{title}"
        );
    }

    // The dispatch's own run is attached, and its end told.
    let ours = world.gh.set_run(9001, "completed", Some("failure"));
    assert_eq!(
        post(
            &world,
            "workflow_run",
            "our-run",
            &workflow_run_event("completed", &ours)
        )
        .await,
        202
    );
    let failed = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("❌"))
        .await;
    assert!(failed.text.contains("runs/9001"), "{}", failed.text);
    world.tg.next_message(TEAM_CHAT).await; // the ring
    let op = only_operation(&world).await;
    assert_eq!((op.state.as_str(), op.run_id), ("failed", Some(9001)));
}

#[tokio::test]
async fn a_run_by_hand_of_another_version_is_not_taken_for_the_dispatch_by_time() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.gh.reject_run_details();
    world.gh.plain_run_names(); // no request id: runs are matched by time
    world.poll_interval = "200ms";
    world.start_bot().await;
    // The poller finds no runs until both are there.
    let runs = format!(
        "/repos/{}/{}/actions/workflows/deploy.yml/runs",
        crate::support::github::OWNER,
        crate::support::github::REPO
    );
    world.gh.fail(&runs, 502);
    world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;

    // Meanwhile someone deploys 1.2.2 to prod by hand: the newest run of
    // the workflow since the dispatch, with a run-name that says so. It
    // fails at once.
    let by_hand = world.gh.start_run("deploy.yml", "Deploy 1.2.2 to prod");
    world.gh.set_run(
        by_hand["id"].as_u64().unwrap(),
        "completed",
        Some("failure"),
    );
    world.gh.heal(&runs);

    // The poller takes the dispatch's own run (9001), not that one.
    let store = world.store().await;
    eventually(Duration::from_secs(10), "the run attached", || async {
        store.all_operations().await.unwrap()[0].run_id.is_some()
    })
    .await;
    let ops = store.all_operations().await.unwrap();
    assert_eq!(
        (ops[0].state.as_str(), ops[0].run_id),
        ("running", Some(9001))
    );
    // The run by hand is found too, and told as what it is: prod's own
    // deploy of 1.2.2, started outside the bot, failed.
    let failed = "❌ <b>prod</b> · deploy of <b>1.2.2</b> failed (#2)";
    world.tg.next_message_starting(ONCALL_CHAT, failed).await;
    world.tg.next_message_starting(TEAM_CHAT, failed).await;
    let ops = store.all_operations().await.unwrap();
    assert_eq!(ops.len(), 2, "{ops:#?}");
    assert_eq!(
        (ops[1].env_name(), ops[1].state.as_str(), ops[1].run_id),
        (Some("prod"), "failed", by_hand["id"].as_i64())
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
}

#[tokio::test]
async fn an_operation_keeps_its_run_when_another_matching_run_appears() {
    let world = world_with_release().await;
    world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    let op = only_operation(&world).await;
    assert_eq!(op.run_id, Some(9001));

    // A second run of the same deploy, its run-name a copy of the first
    // (request id and all): it fails. The operation keeps its run.
    let copy = world.gh.start_run(
        "deploy.yml",
        &format!("Deploy 1.3.0 to dev ({})", op.request_id),
    );
    let event = workflow_run_event("completed", &run_now(&copy, "completed", Some("failure")));
    assert_eq!(post(&world, "workflow_run", "copy-run", &event).await, 202);
    let op = only_operation(&world).await;
    assert_eq!((op.state.as_str(), op.run_id), ("dispatched", Some(9001)));

    // One started by hand with the README's run-name but no request id
    // is not taken for it: it is told as a run of its own, alongside.
    let by_hand = world.gh.start_run("deploy.yml", "Deploy 1.3.0 to dev");
    let event = workflow_run_event("in_progress", &by_hand);
    assert_eq!(post(&world, "workflow_run", "hand-run", &event).await, 202);
    let told = world
        .tg
        .next_message_starting(
            TEAM_CHAT,
            "🚀 <b>dev</b> · deploy of <b>1.3.0</b> started (#2) outside the bot",
        )
        .await;
    assert!(told.text.contains("⚠️ #1 ("), "{}", told.text);
    let ops = world.store().await.all_operations().await.unwrap();
    assert_eq!(ops.len(), 2, "{ops:#?}");
    assert_eq!(
        (ops[0].state.as_str(), ops[0].run_id),
        ("dispatched", Some(9001))
    );
    assert_eq!(ops[1].run_id, by_hand["id"].as_i64());

    // The operation's own run still tells its end.
    world.roll_out("dev", "1.3.0").await;
    let ours = world.gh.set_run(9001, "completed", Some("success"));
    assert_eq!(
        post(
            &world,
            "workflow_run",
            "our-run",
            &workflow_run_event("completed", &ours)
        )
        .await,
        202
    );
    let done = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("✅ <b>dev</b>"))
        .await;
    assert!(done.text.contains("runs/9001"), "{}", done.text);
    let ops = world.store().await.all_operations().await.unwrap();
    assert_eq!(
        (ops[0].state.as_str(), ops[0].run_id),
        ("succeeded", Some(9001))
    );
}
