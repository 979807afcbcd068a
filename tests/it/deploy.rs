//! `/deploy`: the policy, the approval prompt and its buttons, and the
//! dispatch of the Deploy workflow — exactly once.

use aletheia_bot::domain::OperationState;
use serde_json::json;

use crate::support::*;

fn buttons(sent: &telegram::Sent) -> Vec<(String, String)> {
    sent.buttons.iter().flatten().cloned().collect()
}

#[tokio::test]
async fn staging_deploy_waits_for_qa_and_dispatches_once() {
    let world = world_with_release().await;
    // The image is built and its task definition registered already.
    let family = format!("{}-staging-api", world.prefix);
    moto::register(&world.ecs, &family, "repo/aletheia:1.3.0").await;

    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    assert_eq!(
        prompt.text.lines().take(5).collect::<Vec<_>>(),
        [
            "🚀 <b>Deploy 1.3.0 → staging</b> · #1",
            "Asked by Alice",
            "Running there now: <b>1.2.3</b>",
            &format!(
                "Will run: <code>repo/aletheia:1.3.0</code> · task definition <code>{family}:3</code>"
            ),
            "Needs 1 approval(s) from: qa (not Alice)",
        ]
    );
    assert!(prompt.text.contains("\nExpires "), "{}", prompt.text);
    // What the approver is asked to let through: the changes since what runs.
    assert!(
        prompt.text.ends_with(
            "\nChanges since v1.2.3 (1 commit):\n• Changes for v1.3.0\n\
             <a href=\"https://github.com/mindburn-labs/aletheia/compare/v1.2.3...v1.3.0\">Full comparison</a>"
        ),
        "{}",
        prompt.text
    );
    assert_eq!(
        buttons(&prompt),
        [
            ("✅ Approve".to_owned(), "d:1:a".to_owned()),
            ("❌ Reject".to_owned(), "d:1:r".to_owned())
        ]
    );

    // Alice is no QA, and Mallory is nobody: refused, audited, nothing moves.
    let tap = world.tg.user_taps(&prompt, ALICE.id, ALICE.name, "d:1:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Only qa may decide this.".to_owned(), true)
    );
    let tap = world
        .tg
        .user_taps(&prompt, MALLORY.id, MALLORY.name, "d:1:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Only qa may decide this.".to_owned(), true)
    );
    assert!(world.gh.dispatches().is_empty());

    // Carol (QA) approves: one dispatch, with the configured inputs.
    let tap = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:1:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Approved. Dispatching the Deploy workflow.".to_owned(),
            false
        )
    );
    let dispatches = world.gh.dispatches();
    assert_eq!(dispatches.len(), 1);
    let (file, body) = &dispatches[0];
    assert_eq!(file, "deploy.yml");
    assert_eq!(body["ref"], "main");
    assert_eq!(body["return_run_details"], true);
    assert_eq!(body["inputs"]["environment"], "staging");
    assert_eq!(body["inputs"]["version"], "1.3.0");
    let request_id = body["inputs"]["request_id"].as_str().unwrap();
    assert_eq!(request_id.len(), 36, "a UUID: {request_id}");

    // The prompt becomes the operation's one message: it says who
    // decided, its buttons go, then it says the deployment started, with
    // the run.
    let started = world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("🚀 <b>staging</b>")
        })
        .await;
    assert_eq!(
        started.edits[1..],
        [
            "✅ <b>Deploy 1.3.0 → staging</b> · #1\nAsked by Alice\nApproved by Carol; dispatching the Deploy workflow."
        ]
    );
    assert_eq!(
        started.text,
        "🚀 <b>staging</b> · deploy of <b>1.3.0</b> started (#1)\nAsked by Alice · approved by Carol\n\
         <a href=\"https://github.com/mindburn-labs/aletheia/actions/runs/9001\">Workflow run</a>"
    );
    assert!(started.buttons.iter().flatten().next().is_none());

    // A second tap, by anyone, changes nothing.
    let tap = world.tg.user_taps(&prompt, QUINN.id, QUINN.name, "d:1:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Too late: this request is already dispatched.".to_owned(),
            true
        )
    );
    assert_eq!(world.gh.dispatches().len(), 1);

    let audit = world.store().await.recent_audit(20).await.unwrap();
    let taps: Vec<(Option<i64>, &str, &str)> = audit
        .iter()
        .filter(|a| a.action.starts_with("tap"))
        .map(|a| (a.actor, a.action.as_str(), a.outcome.as_str()))
        .collect();
    assert_eq!(
        taps,
        [
            (Some(ALICE.id), "tap:approve", "refused:not_an_approver"),
            (Some(MALLORY.id), "tap:approve", "refused:not_an_approver"),
            (Some(CAROL.id), "tap:approve", "recorded"),
            (Some(QUINN.id), "tap:approve", "refused:already_decided"),
        ]
    );
}

#[tokio::test]
async fn prod_needs_a_verified_staging_run_and_another_senior() {
    let world = world_with_release().await;

    let text = world.say(TEAM_CHAT, &BOB, "/deploy prod 1.3.0").await.text;
    assert_eq!(
        text,
        "⛔ 1.3.0 has not been deployed to staging successfully and verified by QA there. Promote it through staging first."
    );
    let text = world.say(TEAM_CHAT, &BOB, "/deploy prod 1.4.0").await.text;
    assert_eq!(
        text,
        "⛔ 1.4.0 is not a released version. Release it first (/release), or pick a published release."
    );

    // Staging ran 1.3.0 and Carol verified it there.
    world.verified_on_staging("1.3.0").await;

    let prompt = world.say(TEAM_CHAT, &BOB, "/deploy prod 1.3.0").await;
    assert!(prompt.text.starts_with("🚀 <b>Deploy 1.3.0 → prod</b> · #2\nAsked by Bob\nRunning there now: <b>1.2.2</b>\n\
        Will run: image tag <b>1.3.0</b>; no task definition carries it yet (the workflow registers one)\n\
        Needs 1 approval(s) from: senior (not Bob)"), "{}", prompt.text);

    let tap = world.tg.user_taps(&prompt, BOB.id, BOB.name, "d:2:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "You asked for this one: someone else must approve it (four eyes).".to_owned(),
            true
        )
    );
    let tap = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:2:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Only senior may decide this.".to_owned(), true)
    );
    assert!(world.gh.dispatches().is_empty());

    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:2:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Approved. Dispatching the Deploy workflow.".to_owned(),
            false
        )
    );
    let dispatches = world.gh.dispatches();
    assert_eq!(dispatches.len(), 1);
    assert_eq!(dispatches[0].1["inputs"]["environment"], "prod");
    assert_eq!(dispatches[0].1["inputs"]["version"], "1.3.0");
    let started = world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("🚀 <b>prod</b>")
        })
        .await;
    assert!(
        started.text.starts_with(
            "🚀 <b>prod</b> · deploy of <b>1.3.0</b> started (#2)\nAsked by Bob · approved by Dave"
        ),
        "{}",
        started.text
    );
}

#[tokio::test]
async fn a_rejection_ends_the_request_and_nothing_is_dispatched() {
    let world = world_with_release().await;
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    let tap = world.tg.user_taps(&prompt, QUINN.id, QUINN.name, "d:1:r");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Rejected.".to_owned(), false)
    );
    let edited = world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |_| true)
        .await;
    assert_eq!(
        edited.text,
        "❌ <b>Deploy 1.3.0 → staging</b> · #1\nAsked by Alice\nRejected by Quinn."
    );
    let tap = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:1:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Too late: this request is already rejected.".to_owned(),
            true
        )
    );
    assert!(world.gh.dispatches().is_empty());
    // The environment is free again.
    let again = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    assert!(
        again
            .text
            .starts_with("🚀 <b>Deploy 1.3.0 → staging</b> · #2"),
        "{}",
        again.text
    );
}

#[tokio::test]
async fn one_operation_at_a_time_per_environment() {
    let world = world_with_release().await;
    world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    let text = world
        .say(TEAM_CHAT, &BOB, "/deploy staging 1.2.2")
        .await
        .text;
    assert_eq!(
        text,
        "⏳ staging already has #1 (deploy 1.3.0) awaiting approval. One operation at a time per environment."
    );
    let status = world.say(TEAM_CHAT, &BOB, "/status staging").await.text;
    assert!(
        status.contains("   ⏳ #1 deploy 1.3.0 · awaiting approval · Alice · "),
        "{status}"
    );
}

#[tokio::test]
async fn many_taps_at_once_make_one_dispatch() {
    let world = world_with_release().await;
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    let mut taps = Vec::new();
    for _ in 0..5 {
        taps.push(world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:1:a"));
        taps.push(world.tg.user_taps(&prompt, QUINN.id, QUINN.name, "d:1:a"));
    }
    let mut approved = 0;
    for tap in &taps {
        let (text, _) = world.tg.tap_answer(tap).await;
        if text.starts_with("Approved.") {
            approved += 1;
        }
    }
    assert_eq!(approved, 1);
    assert_eq!(world.gh.dispatches().len(), 1);
}

#[tokio::test]
async fn forged_buttons_change_nothing() {
    let world = world_with_release().await;
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    for forged in ["d:999:a", "d:1:x", "d:1:a:extra", "deploy prod 1.3.0", ""] {
        let tap = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, forged);
        assert_eq!(
            world.tg.tap_answer(&tap).await,
            ("This button is not one of mine.".to_owned(), true),
            "{forged:?}"
        );
    }
    assert!(world.gh.dispatches().is_empty());
    let op = &world.store().await.all_operations().await.unwrap()[0];
    assert_eq!(op.state, OperationState::AwaitingApproval);
}

#[tokio::test]
async fn dev_needs_no_approval_and_old_servers_get_the_plain_dispatch() {
    let world = world_with_release().await;
    world.gh.reject_run_details();

    // The answer and the alert race each other; both must come.
    let texts = world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    assert_eq!(
        texts,
        [
            "🚀 #1 Deploy 1.3.0 → dev: no approval needed.\nThe workflow is dispatched.",
            "🚀 <b>dev</b> · deploy of <b>1.3.0</b> started (#1)\nAsked by Alice",
        ]
    );
    let dispatches = world.gh.dispatches();
    assert_eq!(
        dispatches.len(),
        1,
        "the 422 started nothing; the plain one did"
    );
    assert_eq!(dispatches[0].1.get("return_run_details"), None);
    assert_eq!(
        dispatches[0].1["inputs"],
        json!({
            "environment": "dev",
            "version": "1.3.0",
            "request_id": dispatches[0].1["inputs"]["request_id"],
        })
    );
}

#[tokio::test]
async fn a_failed_dispatch_ends_the_operation_loudly() {
    let world = world_with_release().await;
    // The workflow file is gone: GitHub says so, nothing ran.
    world.gh.remove_workflow("deploy.yml");
    let texts = world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    assert_eq!(
        texts,
        [
            "❌ <b>dev</b> · deploy of <b>1.3.0</b> (#1) could not be dispatched: not found\nAsked by Alice",
            "🚀 #1 Deploy 1.3.0 → dev: no approval needed.\n❌ Could not dispatch the workflow: not found",
        ]
    );
    let op = &world.store().await.all_operations().await.unwrap()[0];
    assert_eq!(op.state, OperationState::Failed);
}

#[tokio::test]
async fn an_undecided_prompt_expires_and_loses_its_buttons() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.staging_expiry = "1s";
    world.start_bot().await;

    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    let expired = world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |_| true)
        .await;
    assert_eq!(
        expired.text,
        "⌛ <b>Deploy 1.3.0 → staging</b> · #1\nAsked by Alice\nExpired after 1s with no decision. Ask again if it is still wanted."
    );
    assert!(expired.buttons.concat().is_empty());
    // With so short an expiry, its reminder (due at two thirds of it) may
    // or may not have come before the expiry sweep: at most one, never
    // after the prompt expired.
    world
        .until_outbox_sent("the expiry delivered", std::time::Duration::from_secs(30))
        .await;
    let reminders = world.tg.read_all(TEAM_CHAT);
    assert!(
        reminders.len() <= 1 && reminders.iter().all(|m| m.text.starts_with("⏰ ")),
        "{reminders:#?}"
    );
    // A tap on the stale message changes nothing.
    let tap = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:1:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Too late: this request is already expired.".to_owned(),
            true
        )
    );
    assert!(world.gh.dispatches().is_empty());
    assert_eq!(
        world.store().await.all_operations().await.unwrap()[0].state,
        OperationState::Expired
    );
}

#[tokio::test]
async fn dry_runs_check_everything_and_dispatch_nothing() {
    let world = world_with_release().await;
    let text = world
        .say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0 --dry-run")
        .await
        .text;
    assert_eq!(
        text,
        "🧪 Dry run: Deploy 1.3.0 → staging would need 1 approval(s) from: qa (not Alice).\n\
         Running there now: <b>1.2.3</b>\nNothing was dispatched."
    );
    let text = world
        .say(TEAM_CHAT, &ALICE, "/deploy prod 1.3.0 --dry-run")
        .await
        .text;
    assert_eq!(
        text,
        "🧪 Dry run of /deploy prod 1.3.0: it would be refused.\n⛔ 1.3.0 has not been deployed to staging \
         successfully and verified by QA there. Promote it through staging first."
    );
    let text = world
        .say(TEAM_CHAT, &ALICE, "/release 1.4.0 minor --dry-run")
        .await
        .text;
    assert_eq!(
        text,
        "🧪 Dry run of <b>Release 1.4.0 (minor)</b>:\n✅ CI: main is green\n✅ New version: 1.4.0 is newer than 1.3.0\n\
         ✅ Fits the bump: 1.3.0 + minor = 1.4.0\nThe Release workflow would be dispatched. Nothing was dispatched."
    );
    assert!(world.gh.dispatches().is_empty());
    assert!(
        world
            .store()
            .await
            .all_operations()
            .await
            .unwrap()
            .is_empty(),
        "a dry run stores no operation"
    );
}

#[tokio::test]
async fn a_deploy_typed_before_an_outage_is_not_acted_on_when_it_arrives() {
    let world = world_with_release().await;
    let typed = chrono::Utc::now() - chrono::TimeDelta::hours(2);
    world
        .tg
        .user_said(TEAM_CHAT, ALICE.id, ALICE.name, "/deploy dev 1.3.0", typed);
    let text = world.tg.next_message(TEAM_CHAT).await.text;
    assert_eq!(
        text,
        format!(
            "⏳ This command was sent at {} and reached me only now. Nothing was done; send it again if it is still wanted.",
            typed.format("%Y-%m-%d %H:%M UTC")
        )
    );
    assert!(world.gh.dispatches().is_empty());
    // Reading commands are still answered.
    world
        .tg
        .user_said(TEAM_CHAT, ALICE.id, ALICE.name, "/whoami", typed);
    assert!(
        world
            .tg
            .next_message(TEAM_CHAT)
            .await
            .text
            .starts_with("👤 Alice")
    );
}
