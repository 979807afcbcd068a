//! GitHub down means GitHub down: every call answers 502, and a rollback
//! still goes through, verified from the bot's history and ECS, approved
//! as usual, and run directly on ECS.

use aletheia_bot::domain::{Env, OperationKind, OperationState, UserId};

use crate::support::*;

/// Prod ran 1.2.2 (task definition :1), then 1.2.3 (:3, running now);
/// the bot's history says so. Then GitHub goes down.
async fn prod_ran_1_2_2_then_1_2_3_and_github_is_down(world: &mut World) {
    world.seed().await;
    world.roll_out("prod", "1.2.3").await;
    let store = world.store().await;
    store.migrate().await.unwrap();
    for version in ["1.2.2", "1.2.3"] {
        store
            .record_succeeded_deploy(
                &aletheia_bot::domain::Env::parse("prod").unwrap(),
                version,
                UserId(ALICE.id),
            )
            .await
            .unwrap();
    }
    world.start_bot().await;
    world.gh.set_down(true);
}

/// The service's task definition in moto.
async fn service_task_definition(world: &World) -> String {
    let service = world
        .ecs
        .describe_services()
        .cluster(world.cluster("prod"))
        .services("aletheia-api")
        .send()
        .await
        .unwrap();
    service.services()[0].task_definition().unwrap().to_owned()
}

fn dispatch_attempts(world: &World) -> usize {
    world
        .gh
        .requests()
        .iter()
        .filter(|p| p.ends_with("/dispatches"))
        .count()
}

#[tokio::test]
async fn with_github_answering_502_a_senior_rolls_prod_back_on_ecs_with_a_second_seniors_approval()
{
    let mut world = World::new().await;
    prod_ran_1_2_2_then_1_2_3_and_github_is_down(&mut world).await;
    let family = format!("{}-prod-api", world.prefix);

    let before = world.gh.requests().len();
    let prompt = world.say(TEAM_CHAT, &BOB, "/rollback prod 1.2.2").await;
    // One failed call is enough to know: no compare is tried after it.
    assert_eq!(
        world.gh.requests().len() - before,
        1,
        "{:?}",
        world.gh.requests()
    );
    let lines: Vec<&str> = prompt.text.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "⏪ <b>Rollback prod → 1.2.2</b> · #3",
            "Asked by Bob",
            "Running now: <b>1.2.3</b>",
        ]
    );
    assert!(
        lines[3].starts_with(&format!(
            "Will run: <code>repo/aletheia:1.2.2</code> · task definition <code>{family}:1</code> (ran here after #1 ("
        )),
        "{}",
        prompt.text
    );
    assert_eq!(
        lines[4..7],
        [
            "⚠️ <b>GitHub is unreachable</b>: I could not check that 1.2.2 is a published release, \
             nor which database migrations were added after it. <b>Check the migrations by hand.</b>",
            &format!(
                "The rollback runs <b>directly on ECS</b> (the service is pointed at <code>{family}:1</code>), \
                 not through the Rollback workflow."
            ),
            "Needs 1 approval(s) from: senior (not Bob)",
        ]
    );
    assert_eq!(
        prompt.buttons.concat(),
        [
            ("✅ Approve".to_owned(), "d:3:a".to_owned()),
            ("❌ Reject".to_owned(), "d:3:r".to_owned())
        ]
    );

    // The normal rollback policy: not Bob's own, not Alice (no senior).
    for (who, why) in [
        (
            &BOB,
            "You asked for this one: someone else must approve it (four eyes).",
        ),
        (&ALICE, "Only senior may decide this."),
    ] {
        let tap = world.tg.user_taps(&prompt, who.id, who.name, "d:3:a");
        assert_eq!(world.tg.tap_answer(&tap).await, (why.to_owned(), true));
    }
    assert!(
        service_task_definition(&world)
            .await
            .ends_with(&format!("/{family}:3"))
    );

    // Dave approves: the bot points the service at 1.2.2's task definition
    // itself, and asks GitHub nothing.
    let before = world.gh.requests().len();
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:3:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            format!("Approved. ECS is rolling back to 1.2.2 ({family}:1)."),
            false
        )
    );
    let started_text = format!(
        "⏪ <b>prod</b> · rollback to <b>1.2.2</b> started <b>directly on ECS</b> (#3): the service now points at {family}:1. \
         <b>This bypassed the Rollback workflow</b>: GitHub was unreachable when it was asked for.\n\
         Asked by Bob · approved by Dave"
    );
    let started = world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("⏪ <b>prod</b>")
        })
        .await;
    assert_eq!(started.text, started_text);
    assert_eq!(
        started.edits[1],
        "✅ <b>Rollback prod → 1.2.2</b> · #3\nAsked by Bob\nApproved by Dave; rolling back directly on ECS."
    );
    assert_eq!(world.tg.next_message(ONCALL_CHAT).await.text, started_text);
    let arn = service_task_definition(&world).await;
    assert!(arn.ends_with(&format!("/{family}:1")), "{arn}");

    // ECS completes the rollout (moto's UpdateService keeps the old
    // deployment, so the test plays ECS); the bot confirms and locks prod.
    moto::roll_out(&world.ecs, &world.cluster("prod"), "aletheia-api", &arn).await;
    let done = world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("✅ <b>prod</b>")
        })
        .await;
    assert!(
        done.text
            .starts_with("✅ <b>prod</b> · rolled back to <b>1.2.2</b> (#3) in "),
        "{}",
        done.text
    );
    assert!(
        done.text.ends_with(&format!(
            "\nECS: 2/2 tasks on {family}:1 · health 200\n\
             🔒 prod is locked now (rolled back from 1.2.3 to 1.2.2), so nobody redeploys 1.2.3 by reflex. \
             /unlock prod once a fix is out."
        )),
        "{}",
        done.text
    );
    assert_eq!(
        done.buttons.concat(),
        [("📝 Open incident report".to_owned(), "i:3:o".to_owned())]
    );
    let ops = world.store().await.all_operations().await.unwrap();
    assert_eq!(ops[2].state, OperationState::Succeeded);
    assert_eq!(
        world.gh.requests().len(),
        before,
        "GitHub was not called after the decision: {:?}",
        world.gh.requests()
    );
    assert_eq!(dispatch_attempts(&world), 0);
}

#[tokio::test]
async fn break_glass_with_github_down_rolls_back_on_ecs_at_once() {
    let mut world = World::new().await;
    world.prod_break_glass = true;
    prod_ran_1_2_2_then_1_2_3_and_github_is_down(&mut world).await;
    let family = format!("{}-prod-api", world.prefix);

    let texts = world
        .say_and_read(
            TEAM_CHAT,
            &BOB,
            "/rollback prod 1.2.2 --break-glass db on fire",
            3,
        )
        .await;
    assert!(
        texts[0].starts_with(
            "⏪ #3 Rollback prod → 1.2.2: break-glass, no approval.\nAsked by Bob\nRunning now: <b>1.2.3</b>\n"
        ),
        "{texts:?}"
    );
    assert!(
        texts[0].contains(
            "\n⚠️ <b>GitHub is unreachable</b>: I could not check that 1.2.2 is a published release, \
             nor which database migrations were added after it. <b>Check the migrations by hand.</b>\n"
        ),
        "{texts:?}"
    );
    assert!(
        texts[0].ends_with(&format!("\nECS is rolling back to 1.2.2 ({family}:1).")),
        "{texts:?}"
    );
    let started = format!(
        "⏪ <b>prod</b> · rollback to <b>1.2.2</b> started <b>directly on ECS</b> (#3): the service now points at {family}:1. \
         <b>This bypassed the Rollback workflow</b>: GitHub was unreachable when it was asked for.\n\
         Asked by Bob"
    );
    assert_eq!(texts[1], started);
    let loud = "🚨 <b>BREAK-GLASS</b>: Bob rolls <b>prod</b> back from 1.2.3 to <b>1.2.2</b> without a second approval (#3).\n\
                Reason: db on fire";
    assert_eq!(texts[2], loud);
    let mut oncall = vec![
        world.tg.next_message(ONCALL_CHAT).await.text,
        world.tg.next_message(ONCALL_CHAT).await.text,
    ];
    oncall.sort();
    assert_eq!(oncall, [started.as_str(), loud]);

    let arn = service_task_definition(&world).await;
    assert!(arn.ends_with(&format!("/{family}:1")), "{arn}");
    moto::roll_out(&world.ecs, &world.cluster("prod"), "aletheia-api", &arn).await;
    let done = world.tg.next_message(TEAM_CHAT).await;
    assert!(
        done.text
            .starts_with("✅ <b>prod</b> · rolled back to <b>1.2.2</b> (#3) in "),
        "{}",
        done.text
    );
    assert_eq!(dispatch_attempts(&world), 0);
    let audit = world.store().await.recent_audit(30).await.unwrap();
    assert!(
        audit.iter().any(|a| a.action == "dispatch:rollback"
            && a.outcome == "ecs_updated"
            && a.operation_id == Some(3)
            // By name: the audit reaches the incident report.
            && !a.detail.contains("arn:")),
        "{audit:?}"
    );
}

#[tokio::test]
async fn with_github_down_no_answer_says_the_rollback_workflow_still_works_or_shows_githubs_error_page()
 {
    let mut world = World::new().await;
    prod_ran_1_2_2_then_1_2_3_and_github_is_down(&mut world).await;
    // 1.2.1 ran on prod once (the history says so), but no task definition
    // of the service carries it any more.
    let store = world.store().await;
    store
        .record_succeeded_deploy(
            &aletheia_bot::domain::Env::parse("prod").unwrap(),
            "1.2.1",
            UserId(ALICE.id),
        )
        .await
        .unwrap();

    let refusals = [
        (
            "/rollback prod 1.2.1",
            "⛔ GitHub is unreachable, so the rollback would run directly on ECS, but no task definition \
             of the service carries 1.2.1: there is nothing to roll back to there. Nothing was done.",
        ),
        (
            "/rollback prod 1.1.0",
            "⛔ 1.1.0 never ran successfully on prod: it is not in my history, and no task definition \
             of the service carries it. Roll back only to a version that ran there.",
        ),
    ];
    for (typed, expected) in refusals {
        assert_eq!(
            world.say(TEAM_CHAT, &BOB, typed).await.text,
            expected,
            "{typed}"
        );
    }
    let prompt = world.say(TEAM_CHAT, &BOB, "/rollback prod 1.2.2").await;
    assert!(
        prompt.text.contains("<b>GitHub is unreachable</b>"),
        "{}",
        prompt.text
    );
    // /status names the failure, not GitHub's error page.
    let status = world.say(TEAM_CHAT, &BOB, "/status prod").await.text;
    for line in [
        "⚠️ Latest release: GitHub error: GitHub answered 502: Bad Gateway",
        "⚠️ main CI: GitHub error: GitHub answered 502: Bad Gateway",
    ] {
        assert!(status.lines().any(|l| l == line), "{line:?} in:\n{status}");
    }
    // Nothing the bot said or edited, to anyone, claims the workflow
    // works, or shows GitHub's error page.
    for method in ["sendMessage", "editMessageText"] {
        for call in world.tg.calls(method) {
            let text = call.body["text"].as_str().unwrap_or_default();
            assert!(!text.contains("still works"), "{text}");
            assert!(
                !text.contains("Unicorn"),
                "GitHub's error page in chat: {text}"
            );
        }
    }
    assert_eq!(dispatch_attempts(&world), 0);
}

#[tokio::test]
async fn a_direct_rollback_the_bot_stopped_in_the_middle_of_is_done_after_the_restart() {
    use aletheia_bot::domain::OperationState;
    use aletheia_bot::store::{AuditEntry, Created, NewOperation};

    let mut world = World::new().await;
    world.poll_interval = "200ms";
    world.seed().await;
    world.roll_out("prod", "1.2.3").await;
    let family = format!("{}-prod-api", world.prefix);
    // Dave approved Bob's rollback while GitHub was down; the bot claimed
    // it and stopped before ECS answered, a minute ago.
    let store = world.store().await;
    store.migrate().await.unwrap();
    let op = NewOperation {
        kind: OperationKind::Rollback,
        env: Some(Env::parse("prod").unwrap()),
        version: "1.2.2".into(),
        release_type: None,
        state: OperationState::Dispatched,
        requested_by: UserId(BOB.id),
        chat_id: TEAM_CHAT,
        request_id: uuid::Uuid::new_v4().to_string(),
        expires_in_ms: None,
        detail: Some("running=1.2.3".into()),
        run: None,
        direct_ecs: true,
        freeze_override: None,
    };
    let audit = AuditEntry {
        actor: Some(UserId(BOB.id)),
        chat: Some(aletheia_bot::domain::ChatId(TEAM_CHAT)),
        action: "operation:rollback".into(),
        outcome: "dispatched".into(),
        operation: None,
        detail: String::new(),
    };
    let Created::New(id) = store.create_operation(&op, &audit, &[]).await.unwrap() else {
        panic!("prod busy");
    };
    let pool = sqlx::SqlitePool::connect(&world.database_url())
        .await
        .unwrap();
    sqlx::query("UPDATE operations SET updated_at = updated_at - 60000 WHERE id = $1")
        .bind(id.0)
        .execute(&pool)
        .await
        .unwrap();
    world.gh.set_down(true);
    world.start_bot().await;

    let started = format!(
        "⏪ <b>prod</b> · rollback to <b>1.2.2</b> started <b>directly on ECS</b> (#1): the service now points at {family}:1. \
         <b>This bypassed the Rollback workflow</b> (resumed after the bot restarted).\nAsked by Bob"
    );
    assert_eq!(world.tg.next_message(TEAM_CHAT).await.text, started);
    assert_eq!(world.tg.next_message(ONCALL_CHAT).await.text, started);
    let arn = service_task_definition(&world).await;
    assert!(arn.ends_with(&format!("/{family}:1")), "{arn}");
    moto::roll_out(&world.ecs, &world.cluster("prod"), "aletheia-api", &arn).await;
    let done = world.tg.next_message(TEAM_CHAT).await;
    assert!(
        done.text
            .starts_with("✅ <b>prod</b> · rolled back to <b>1.2.2</b> (#1) in "),
        "{}",
        done.text
    );
    assert_eq!(dispatch_attempts(&world), 0);
}

#[tokio::test]
async fn with_github_not_answering_at_all_the_rollback_prompt_comes_within_githubs_timeout() {
    let mut world = World::new().await;
    prod_ran_1_2_2_then_1_2_3_and_github_is_down(&mut world).await;
    world.gh.set_down(false);
    world.gh.set_hanging(true);

    // The bot waits `github.timeout` (5 s here) for GitHub once, not once
    // per call it would have made.
    let asked_before = world.gh.requests().len();
    let began = std::time::Instant::now();
    let prompt = world.say(TEAM_CHAT, &BOB, "/rollback prod 1.2.2").await;
    let took = began.elapsed();
    assert!(took < std::time::Duration::from_secs(9), "{took:?}");
    assert!(
        prompt.text.contains(
            "\n⚠️ <b>GitHub is unreachable</b>: I could not check that 1.2.2 is a published release, \
             nor which database migrations were added after it. <b>Check the migrations by hand.</b>\n"
        ),
        "{}",
        prompt.text
    );
    assert_eq!(
        world.gh.requests().len() - asked_before,
        1,
        "{:?}",
        world.gh.requests()
    );
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:3:a");
    let (answer, _) = world.tg.tap_answer(&tap).await;
    assert!(
        answer.starts_with("Approved. ECS is rolling back to 1.2.2 ("),
        "{answer}"
    );
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("⏪ <b>prod</b>")
        })
        .await;
    world.tg.next_message(ONCALL_CHAT).await;
    assert_eq!(
        world.gh.requests().len() - asked_before,
        1,
        "nothing asked of GitHub after the decision: {:?}",
        world.gh.requests()
    );
}

#[tokio::test]
async fn when_ecs_refuses_the_update_the_break_glass_rollback_fails_loudly_and_names_no_arn() {
    let proxy = crate::support::ecs_proxy::EcsProxy::start().await;
    let mut world = World::new().await;
    world.prod_break_glass = true;
    world.ecs_endpoint = Some(proxy.url.clone());
    prod_ran_1_2_2_then_1_2_3_and_github_is_down(&mut world).await;
    let family = format!("{}-prod-api", world.prefix);
    // The bot's IAM role may read ECS but not update services.
    proxy.deny("UpdateService");

    let texts = world
        .say_and_read(
            TEAM_CHAT,
            &BOB,
            "/rollback prod 1.2.2 --break-glass db on fire",
            3,
        )
        .await;
    assert!(
        texts[0].ends_with("\n❌ The rollback on ECS failed: ECS did not take the update."),
        "{texts:?}"
    );
    let failed = "❌ <b>prod</b> · rollback to <b>1.2.2</b> directly on ECS (#3) failed: \
                  ECS did not take the update. Nothing changed on ECS.\nAsked by Bob";
    assert_eq!(texts[1], failed);
    assert!(texts[2].starts_with("🚨 <b>BREAK-GLASS</b>"), "{texts:?}");
    let mut oncall = vec![
        world.tg.next_message(ONCALL_CHAT).await.text,
        world.tg.next_message(ONCALL_CHAT).await.text,
    ];
    oncall.sort();
    assert_eq!(oncall[0], failed);
    for text in texts.iter().chain(&oncall) {
        assert!(!text.contains("arn:"), "{text}");
    }
    assert!(
        service_task_definition(&world)
            .await
            .ends_with(&format!("/{family}:3"))
    );
    let store = world.store().await;
    assert_eq!(
        store.all_operations().await.unwrap()[2].state,
        OperationState::Failed
    );
    let audit = store.recent_audit(30).await.unwrap();
    assert!(
        audit.iter().any(|a| a.action == "dispatch:rollback"
            && a.outcome == "failed"
            && a.detail.contains("AccessDeniedException")),
        "the cause is kept where operators look: {audit:?}"
    );
    assert_eq!(dispatch_attempts(&world), 0);
}
