//! /rollback mid-incident: who may, to what, with whose approval, and what
//! happens after (the lock, the incident report).

use aletheia_bot::domain::OperationState;
use std::time::Duration;

use crate::support::*;

/// Prod runs 1.3.0 (rolled out over 1.2.2); 1.3.0 added a migration.
async fn prod_on_1_3_0(world: &mut World) {
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.gh.release_adds_files(
        "v1.3.0",
        &["migrations/0042_add_audit_index.sql", "src/api.rs"],
    );
    world.gh.add_release("v1.2.1"); // published, never deployed anywhere
    world.roll_out("prod", "1.3.0").await;
    world.start_bot().await;
}

#[tokio::test]
async fn a_prod_rollback_waits_for_a_second_senior_then_runs_once_and_locks_prod() {
    let mut world = World::new().await;
    prod_on_1_3_0(&mut world).await;

    // Refusals first, each with its reason; none changes anything.
    let refusals = [
        (
            &ALICE,
            "/rollback prod 1.2.2",
            "⛔ Rollbacks of prod are asked for by: senior. You hold none of these roles.",
        ),
        (
            &BOB,
            "/rollback prod 1.3.0",
            "⛔ prod already runs 1.3.0: nothing to roll back.",
        ),
        (
            &BOB,
            "/rollback prod 1.1.0",
            "⛔ 1.1.0 is not a published release: roll back only to a released version.",
        ),
        (
            &BOB,
            "/rollback prod 1.2.1",
            "⛔ 1.2.1 never ran successfully on prod: it is not in my history, and no task definition \
             of the service carries it. Roll back only to a version that ran there.",
        ),
        (
            &BOB,
            "/rollback prod 1.2.2 --break-glass users see 500s",
            "⛔ Break-glass is off for prod (<code>environments.prod.rollback.break_glass</code>). \
             Ask without it: the rollback waits for its approval.",
        ),
    ];
    for (who, typed, expected) in refusals {
        assert_eq!(
            world.say(TEAM_CHAT, who, typed).await.text,
            expected,
            "{typed}"
        );
    }
    assert!(
        world
            .store()
            .await
            .all_operations()
            .await
            .unwrap()
            .is_empty()
    );

    let prompt = world.say(TEAM_CHAT, &BOB, "/rollback prod 1.2.2").await;
    let family = format!("{}-prod-api", world.prefix);
    assert_eq!(
        prompt.text.lines().take(6).collect::<Vec<_>>(),
        [
            "⏪ <b>Rollback prod → 1.2.2</b> · #1",
            "Asked by Bob",
            "Running now: <b>1.3.0</b>",
            &format!(
                "Will run: <code>repo/aletheia:1.2.2</code> · task definition <code>{family}:1</code> \
                 (task definition {family}:1 of this service carries it)"
            ),
            "⚠️ <b>1 database migration(s) were added after v1.2.2: <code>migrations/0042_add_audit_index.sql</code>. \
             Rolling the code back does not roll them back: check that v1.2.2 works with the schema they leave.</b>",
            "Needs 1 approval(s) from: senior (not Bob)",
        ]
    );

    // Bob may not approve his own; Alice is no senior; Dave approves.
    for (who, why) in [
        (
            &BOB,
            "You asked for this one: someone else must approve it (four eyes).",
        ),
        (&ALICE, "Only senior may decide this."),
    ] {
        let tap = world.tg.user_taps(&prompt, who.id, who.name, "d:1:a");
        assert_eq!(world.tg.tap_answer(&tap).await, (why.to_owned(), true));
    }
    assert!(world.gh.dispatches().is_empty());
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:1:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Approved. Dispatching the Rollback workflow.".to_owned(),
            false
        )
    );
    let started = world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("⏪ <b>prod</b>")
        })
        .await;
    assert!(
        started.edits[1]
            .starts_with("✅ <b>Rollback prod → 1.2.2</b> · #1\nAsked by Bob\nApproved by Dave"),
        "{:?}",
        started.edits
    );
    assert!(
        started.text.starts_with(
            "⏪ <b>prod</b> · rollback to <b>1.2.2</b> started (#1)\nAsked by Bob · approved by Dave"
        ),
        "{}",
        started.text
    );
    let dispatches = world.gh.dispatches();
    assert_eq!(dispatches.len(), 1);
    assert_eq!(dispatches[0].0, "rollback.yml");
    assert_eq!(dispatches[0].1["inputs"]["environment"], "prod");
    assert_eq!(dispatches[0].1["inputs"]["version"], "1.2.2");

    // The workflow rolls ECS back; the bot confirms it and locks prod.
    world.roll_out("prod", "1.2.2").await;
    world.finish_run(9001, "success", "w-1").await;
    let done = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("✅ <b>prod</b>"))
        .await;
    assert!(
        done.text
            .starts_with("✅ <b>prod</b> · rolled back to <b>1.2.2</b> (#1) in "),
        "{}",
        done.text
    );
    assert!(
        done.text.ends_with(
            "\n🔒 prod is locked now (rolled back from 1.3.0 to 1.2.2), so nobody redeploys 1.3.0 by reflex. \
             /unlock prod once a fix is out."
        ),
        "{}",
        done.text
    );
    assert_eq!(
        done.buttons.concat(),
        [("📝 Open incident report".to_owned(), "i:1:o".to_owned())]
    );
    assert_eq!(world.gh.dispatches().len(), 1, "dispatched exactly once");

    // Nobody redeploys 1.3.0 by reflex.
    let text = world.say(TEAM_CHAT, &DAVE, "/deploy prod 1.3.0").await.text;
    assert_eq!(
        text,
        "🔒 prod is locked by Bob: rolled back from 1.3.0 to 1.2.2. Deploys wait until it is unlocked."
    );
}

#[tokio::test]
async fn break_glass_rolls_back_at_once_and_says_so_loudly() {
    let mut world = World::new().await;
    world.prod_break_glass = true;
    prod_on_1_3_0(&mut world).await;

    // Only a senior may break the glass, and only with a reason.
    let text = world
        .say(TEAM_CHAT, &BOB, "/rollback prod 1.2.2 --break-glass")
        .await
        .text;
    assert!(
        text.starts_with("❌ --break-glass needs a reason: what is on fire."),
        "{text}"
    );

    let texts = world
        .say_and_read(
            TEAM_CHAT,
            &BOB,
            "/rollback prod 1.2.2 --break-glass checkout returns 500s",
            3,
        )
        .await;
    assert!(
        texts[0].starts_with("⏪ #1 Rollback prod → 1.2.2: break-glass, no approval.\nAsked by Bob\nRunning now: <b>1.3.0</b>"),
        "{texts:?}"
    );
    assert!(
        texts[0].ends_with("\nThe workflow is dispatched."),
        "{texts:?}"
    );
    assert!(
        texts[1]
            .starts_with("⏪ <b>prod</b> · rollback to <b>1.2.2</b> started (#1)\nAsked by Bob"),
        "{texts:?}"
    );
    let loud = "🚨 <b>BREAK-GLASS</b>: Bob rolls <b>prod</b> back from 1.3.0 to <b>1.2.2</b> without a second approval (#1).\n\
                Reason: checkout returns 500s";
    assert_eq!(texts[2], loud);
    // On-call hears it too.
    assert_eq!(world.tg.next_message(ONCALL_CHAT).await.text, loud);
    assert_eq!(world.gh.dispatches().len(), 1);

    let audit = world.store().await.recent_audit(20).await.unwrap();
    assert!(
        audit.iter().any(|a| a.action == "operation:rollback"
            && a.outcome == "break_glass"
            && a.detail.contains("checkout returns 500s")),
        "{audit:?}"
    );
}

#[tokio::test]
async fn when_github_cannot_dispatch_a_senior_rolls_back_directly_on_ecs() {
    let mut world = World::new().await;
    prod_on_1_3_0(&mut world).await;
    world.gh.fail(
        "/repos/mindburn-labs/aletheia/actions/workflows/rollback.yml/dispatches",
        503,
    );

    let prompt = world.say(TEAM_CHAT, &BOB, "/rollback prod 1.2.2").await;
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:1:a");
    let (answer, _) = world.tg.tap_answer(&tap).await;
    assert!(
        answer.starts_with("Approved, but the dispatch failed: GitHub did not answer clearly"),
        "{answer}"
    );
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |_| true)
        .await;
    let offer = world.tg.next_message(ONCALL_CHAT).await;
    assert!(
        offer.text.starts_with(
            "⚠️ <b>prod</b> · rollback to <b>1.2.2</b> (#1): GitHub did not answer clearly"
        ),
        "{}",
        offer.text
    );
    assert!(
        offer.text.ends_with(
            "\nGitHub cannot run the Rollback workflow? An approver can roll back on ECS directly, bypassing it:"
        ),
        "{}",
        offer.text
    );
    assert_eq!(
        offer.buttons.concat(),
        [(
            "⏪ Roll back directly on ECS".to_owned(),
            "e:1:y".to_owned()
        )]
    );
    world.tg.next_message(TEAM_CHAT).await; // the same offer

    // Alice is no senior; a forged id is nobody's; Dave may.
    let tap = world.tg.user_taps(&offer, ALICE.id, ALICE.name, "e:1:y");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Only senior may roll back on ECS directly.".to_owned(),
            true
        )
    );
    let tap = world.tg.user_taps(&offer, DAVE.id, DAVE.name, "e:7:y");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("This button is not one of mine.".to_owned(), true)
    );
    let family = format!("{}-prod-api", world.prefix);
    let tap = world.tg.user_taps(&offer, DAVE.id, DAVE.name, "e:1:y");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (format!("ECS is rolling back to 1.2.2 ({family}:1)."), false)
    );
    let started = world.tg.next_message(ONCALL_CHAT).await;
    assert_eq!(
        started.text,
        format!(
            "⏪ <b>prod</b> · rollback to <b>1.2.2</b> started <b>directly on ECS</b> (#2): the service now points at {family}:1. \
             <b>This bypassed the Rollback workflow</b> (#1 could not be dispatched).\nBy Dave"
        )
    );
    assert_eq!(world.tg.next_message(TEAM_CHAT).await.text, started.text);

    // moto shows the service on 1.2.2's task definition.
    let service = world
        .ecs
        .describe_services()
        .cluster(world.cluster("prod"))
        .services("aletheia-api")
        .send()
        .await
        .unwrap();
    let arn = service.services()[0].task_definition().unwrap().to_owned();
    assert!(
        arn.ends_with(&format!("task-definition/{family}:1")),
        "{arn}"
    );
    // A second tap changes nothing: #1 is over, #2 is under way.
    let tap = world.tg.user_taps(&offer, DAVE.id, DAVE.name, "e:1:y");
    assert!(world.tg.tap_answer(&tap).await.1);

    // ECS completes the rollout (moto cannot: its deployment keeps the old
    // task definition, so the test plays ECS); the bot confirms it.
    moto::roll_out(&world.ecs, &world.cluster("prod"), "aletheia-api", &arn).await;
    let done = world.tg.next_message(TEAM_CHAT).await;
    assert!(
        done.text
            .starts_with("✅ <b>prod</b> · rolled back to <b>1.2.2</b> (#2) in "),
        "{}",
        done.text
    );
    assert!(
        done.text
            .contains(&format!("\nECS: 2/2 tasks on {family}:1 · health 200")),
        "{}",
        done.text
    );
    let ops = world.store().await.all_operations().await.unwrap();
    assert_eq!(
        ops.iter().map(|o| o.state.as_str()).collect::<Vec<_>>(),
        ["failed", "succeeded"]
    );
}

#[tokio::test]
async fn the_incident_report_tells_the_deploy_its_approver_the_alerts_and_the_rollback() {
    let world = world_with_release().await;
    // 1.3.0 passed staging and QA; Alice deploys it to prod, Dave approves.
    world.verified_on_staging("1.3.0").await;
    let store = world.store().await;
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy prod 1.3.0").await;
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:2:a");
    world.tg.tap_answer(&tap).await;
    world.roll_out("prod", "1.3.0").await;
    world.finish_run(9001, "success", "w-1").await;
    eventually(
        Duration::from_secs(30),
        "the prod deploy to succeed",
        || async { store.all_operations().await.unwrap()[1].state == OperationState::Succeeded },
    )
    .await;

    // It goes wrong; Bob rolls back, Dave approves, ECS confirms.
    world
        .tg
        .user_says(TEAM_CHAT, BOB.id, BOB.name, "/rollback prod 1.2.2");
    let prompt = world
        .tg
        .next_message_starting(TEAM_CHAT, "⏪ <b>Rollback prod → 1.2.2</b>")
        .await;
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:3:a");
    world.tg.tap_answer(&tap).await;
    world.roll_out("prod", "1.2.2").await;
    world.finish_run(9002, "success", "w-2").await;
    let done = world
        .tg
        .edited(TEAM_CHAT, None, |s| {
            s.text.starts_with("✅ <b>prod</b> · rolled back to")
        })
        .await;

    // Carol (QA) may not open it; Bob does, once.
    let tap = world.tg.user_taps(&done, CAROL.id, CAROL.name, "i:3:o");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Only those who may roll back here may open its incident report.".to_owned(),
            true
        )
    );
    let tap = world.tg.user_taps(&done, BOB.id, BOB.name, "i:3:o");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Opened issue #101.".to_owned(), false)
    );
    let tap = world.tg.user_taps(&done, DAVE.id, DAVE.name, "i:3:o");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Already opened: issue #101 (https://github.com/mindburn-labs/aletheia/issues/101)."
                .to_owned(),
            true
        )
    );
    let issues = world.gh.issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(
        issues[0]["title"],
        "Incident: prod rolled back from 1.3.0 to 1.2.2"
    );
    assert_eq!(issues[0]["labels"], serde_json::json!(["incident"]));
    let body = issues[0]["body"].as_str().unwrap();
    // The deploy, its approver, the alerts, the rollback, the runs — in order.
    let expected_in_order = [
        "Alice: #2 operation:deploy → awaiting_approval",
        "Dave: #2 tap:approve → recorded",
        "alert (deployment): 🚀 prod · deploy of 1.3.0 started (#2)",
        "alert (deployment): ✅ prod · 1.3.0 deployed (#2)",
        "Bob: #3 operation:rollback → awaiting_approval",
        "Dave: #3 tap:approve → recorded",
        "alert (rollback): ⏪ prod · rollback to 1.2.2 started (#3)",
        "alert (rollback): ✅ prod · rolled back to 1.2.2 (#3)",
        "## Runs",
        "- Deploy of 1.3.0 to prod (#2): https://github.com/mindburn-labs/aletheia/actions/runs/9001",
        "- Rollback of prod to 1.2.2 (#3): https://github.com/mindburn-labs/aletheia/actions/runs/9002",
    ];
    let mut at = 0;
    for needle in expected_in_order {
        match body[at..].find(needle) {
            Some(i) => at += i + needle.len(),
            None => panic!("{needle:?} missing (or out of order) in:\n{body}"),
        }
    }
    let alert = world.tg.next_message_starting(TEAM_CHAT, "📝").await;
    assert_eq!(
        alert.text,
        "📝 Incident report for the rollback of <b>prod</b> to <b>1.2.2</b> (#3): \
         <a href=\"https://github.com/mindburn-labs/aletheia/issues/101\">issue #101</a>\nOpened by Bob."
    );
}

#[tokio::test]
async fn rollback_and_release_runs_started_in_github_are_followed_like_the_bots_own() {
    let mut world = World::new().await;
    prod_on_1_3_0(&mut world).await;
    let in_progress = |run: serde_json::Value, delivery: &'static str| {
        let url = world.bot_url();
        async move {
            crate::support::github::post_signed_webhook(
                &url,
                "workflow_run",
                delivery,
                &crate::support::github::workflow_run_event("in_progress", &run),
            )
            .await
        }
    };

    // Someone runs the Rollback workflow from the GitHub UI.
    let run = world
        .gh
        .start_run("rollback.yml", "Rollback 1.2.2 to prod ()");
    in_progress(run, "w-1").await;
    let started = world.tg.next_message(TEAM_CHAT).await.text;
    assert_eq!(
        started,
        "⏪ <b>prod</b> · rollback to <b>1.2.2</b> started (#1) outside the bot\n\
         <a href=\"https://github.com/mindburn-labs/aletheia/actions/runs/9001\">Workflow run</a>"
    );
    world.roll_out("prod", "1.2.2").await;
    world.finish_run(9001, "success", "w-2").await;
    let done = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("✅ <b>prod</b>"))
        .await;
    assert!(
        done.text
            .starts_with("✅ <b>prod</b> · rolled back to <b>1.2.2</b> (#1) in "),
        "{}",
        done.text
    );
    assert!(
        done.text
            .contains("\n🔒 prod is locked now (rolled back from 1.3.0 to 1.2.2)")
    );
    assert_eq!(
        done.buttons.concat(),
        [("📝 Open incident report".to_owned(), "i:1:o".to_owned())]
    );

    // And a Release run started there fails.
    let run = world.gh.start_run("release.yml", "Release 1.4.0 (manual)");
    in_progress(run, "w-3").await;
    let started = world.tg.next_message(TEAM_CHAT).await.text;
    assert!(
        started.starts_with("📦 <b>Release 1.4.0</b> started (#2) outside the bot\n"),
        "{started}"
    );
    world.finish_run(9002, "failure", "w-4").await;
    let failed = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("❌"))
        .await
        .text;
    assert_eq!(
        world.tg.next_message(TEAM_CHAT).await.text,
        "❌ <b>Release 1.4.0</b> failed (#2) ↑"
    );
    assert!(
        failed.starts_with("❌ <b>Release 1.4.0</b> failed (#2): failure\n"),
        "{failed}"
    );
    // A failure about no environment reaches on-call too.
    assert_eq!(world.tg.next_message(ONCALL_CHAT).await.text, failed);
}

#[tokio::test]
async fn a_deploy_not_yet_confirmed_gives_way_to_a_rollback() {
    let world = world_with_release().await;
    // dev's deploy of 1.3.0 ran, but ECS never shows it: it is confirming.
    world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    world.finish_run(9001, "success", "w-1").await;
    let store = world.store().await;
    eventually(Duration::from_secs(30), "the deploy confirming", || async {
        store.all_operations().await.unwrap()[0].state == OperationState::Confirming
    })
    .await;

    // Mid-incident, a rollback does not wait for the confirmation window.
    let texts = world
        .say_and_read(TEAM_CHAT, &ALICE, "/rollback dev 1.2.2", 2)
        .await;
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("⏪ #2 Rollback dev → 1.2.2: no approval needed.")),
        "{texts:?}"
    );
    let ops = store.all_operations().await.unwrap();
    assert_eq!(ops[0].state, OperationState::Unhealthy);
    assert!(
        ops[0]
            .detail
            .as_deref()
            .unwrap()
            .ends_with("rolled back before ECS and health confirmed it")
    );
    let dispatches = world.gh.dispatches();
    assert_eq!(dispatches.len(), 2);
    assert_eq!(dispatches[1].0, "rollback.yml");
}
