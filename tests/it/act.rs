//! Acting from a failure alert: Roll back (to the last version confirmed
//! healthy there), Lock and "I'm on it", each allowed to exactly whom the
//! command it stands for is.

use crate::support::telegram::Sent;
use crate::support::*;

/// Prod ran 1.2.2 (the bot confirmed it there); 1.3.0, verified on
/// staging, is deployed to prod (#3) by Bob with Dave's approval and its
/// run fails after rolling it out. Returns the failure alert on-call got.
async fn failed_prod_deploy(world: &mut World) -> Sent {
    failed_prod_deploy_and_prompt(world).await.0
}

/// As [`failed_prod_deploy`], with the team chat's message of the deploy
/// (its prompt, now the failure).
async fn failed_prod_deploy_and_prompt(world: &mut World) -> (Sent, Sent) {
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.start_bot().await;
    let prod = aletheia_bot::domain::Env::parse("prod").unwrap();
    let store = world.store().await;
    store
        .record_succeeded_deploy(&prod, "1.2.2", aletheia_bot::domain::UserId(BOB.id))
        .await
        .unwrap();
    world.verified_on_staging("1.3.0").await;
    let prompt = world.say(TEAM_CHAT, &BOB, "/deploy prod 1.3.0").await;
    assert!(
        prompt
            .text
            .starts_with("🚀 <b>Deploy 1.3.0 → prod</b> · #3"),
        "{}",
        prompt.text
    );
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:3:a");
    world.tg.tap_answer(&tap).await;
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.contains("started")
        })
        .await;
    // The run got 1.3.0 onto ECS, then failed (a smoke test, say).
    world.roll_out("prod", "1.3.0").await;
    world.finish_run(9001, "failure", "w-1").await;
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("❌")
        })
        .await;
    assert_eq!(
        world.tg.next_message(TEAM_CHAT).await.text,
        "❌ <b>prod</b> · deploy of <b>1.3.0</b> failed (#3) ↑"
    );
    let alert = world.tg.next_message(ONCALL_CHAT).await;
    assert!(
        alert
            .text
            .starts_with("❌ <b>prod</b> · deploy of <b>1.3.0</b> failed (#3)")
    );
    (alert, prompt)
}

/// Bob taps Roll back on `alert` (of the failed #3), Dave approves, the
/// rollback (#4) holds, and Dave opens its incident report: its body.
async fn report_after_rolling_back_from(world: &World, alert: &Sent) -> String {
    let tap = world.tg.user_taps(alert, BOB.id, BOB.name, "b:3:r");
    world.tg.tap_answer(&tap).await;
    let prompt = world
        .tg
        .next_message_starting(ONCALL_CHAT, "⏪ <b>Rollback prod → 1.2.2</b> · #4")
        .await;
    world.tg.next_message(TEAM_CHAT).await;
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:4:a");
    world.tg.tap_answer(&tap).await;
    world.roll_out("prod", "1.2.2").await;
    world.finish_run(9002, "success", "w-2").await;
    let done = world
        .tg
        .edited(ONCALL_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("✅ <b>prod</b> · rolled back")
        })
        .await;
    let tap = world.tg.user_taps(&done, DAVE.id, DAVE.name, "i:4:o");
    world.tg.tap_answer(&tap).await;
    let opened = world
        .tg
        .next_message_starting(TEAM_CHAT, "📝 Incident report")
        .await;
    assert!(opened.text.contains("Opened by Dave"), "{}", opened.text);
    let body = world.gh.issues()[0]["body"].as_str().unwrap().to_owned();
    // (What the rollback said on the way: read once all is out.)
    world
        .until_outbox_sent("the rollback's news", std::time::Duration::from_secs(10))
        .await;
    world.tg.read_all(TEAM_CHAT);
    world.tg.read_all(ONCALL_CHAT);
    body
}

fn buttons(sent: &Sent) -> Vec<(String, String)> {
    sent.buttons.concat()
}

#[tokio::test]
async fn roll_back_from_the_alert_asks_like_the_command_and_runs_once_approved() {
    let mut world = World::new().await;
    let alert = failed_prod_deploy(&mut world).await;
    assert_eq!(
        buttons(&alert),
        [
            ("↩️ Roll back to 1.2.2".to_owned(), "b:3:r".to_owned()),
            ("🔒 Lock".to_owned(), "b:3:l".to_owned()),
            ("👀 I'm on it".to_owned(), "b:3:a".to_owned()),
        ]
    );

    // Alice is no senior: refused as /rollback would refuse her.
    let tap = world.tg.user_taps(&alert, ALICE.id, ALICE.name, "b:3:r");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "⛔ Rollbacks of prod are asked for by: senior. You hold none of these roles."
                .to_owned(),
            true
        )
    );
    assert_eq!(world.store().await.all_operations().await.unwrap().len(), 3);

    // Bob taps: the rollback to 1.2.2 is asked for, by him, needing a
    // second senior as /rollback prod 1.2.2 would.
    let tap = world.tg.user_taps(&alert, BOB.id, BOB.name, "b:3:r");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("↩️ Rollback asked for: see the chat.".to_owned(), false)
    );
    let prompt = world
        .tg
        .next_message_starting(ONCALL_CHAT, "⏪ <b>Rollback prod → 1.2.2</b> · #4")
        .await;
    assert!(prompt.text.contains("\nAsked by Bob\n"), "{}", prompt.text);
    // The approvers' chat is asked too.
    let asked = world.tg.next_message(TEAM_CHAT).await;
    assert_eq!(asked.text, prompt.text);
    // (The one dispatch so far is the failed deploy's.)
    assert_eq!(world.gh.dispatches().len(), 1);

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
        .edited(ONCALL_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("⏪ <b>prod</b>")
        })
        .await;
    let dispatches = world.gh.dispatches();
    assert_eq!(dispatches.len(), 2, "{dispatches:#?}");
    assert!(dispatches[1].0.contains("rollback"), "{dispatches:#?}");
    assert_eq!(dispatches[1].1["inputs"]["version"], "1.2.2");
    world
        .until_outbox_sent("the rollback's news", std::time::Duration::from_secs(10))
        .await;
    world.tg.read_all(TEAM_CHAT);
    world.tg.read_all(ONCALL_CHAT);
}

#[tokio::test]
async fn lock_from_the_alert_locks_and_i_m_on_it_is_noted() {
    let mut world = World::new().await;
    let alert = failed_prod_deploy(&mut world).await;

    let tap = world.tg.user_taps(&alert, ALICE.id, ALICE.name, "b:3:l");
    let (text, alert_shown) = world.tg.tap_answer(&tap).await;
    assert!(alert_shown);
    assert!(text.starts_with("⛔"), "{text}");

    let tap = world.tg.user_taps(&alert, DAVE.id, DAVE.name, "b:3:l");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("🔒 Locked.".to_owned(), false)
    );
    let locks = world.store().await.active_locks().await.unwrap();
    assert_eq!(locks.len(), 1);
    assert_eq!(locks[0].env, "prod");
    assert_eq!(locks[0].reason, "prod · deploy of 1.3.0 failed (#3)");
    let told = world.tg.next_message(TEAM_CHAT).await;
    assert!(told.text.contains("Dave"), "{}", told.text);
    let answered = world.tg.next_message(ONCALL_CHAT).await;
    assert!(answered.text.contains("prod"), "{}", answered.text);

    let tap = world.tg.user_taps(&alert, ALICE.id, ALICE.name, "b:3:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("👀 Noted: Alice is on it.".to_owned(), false)
    );
}

#[tokio::test]
async fn a_prod_failure_nobody_takes_pages_the_next_contact_until_someone_does() {
    let mut world = World::new().await;
    // Long enough that the test reads, taps and acknowledges within one
    // window even on a loaded machine.
    world.ack_within = "5s";
    let (alert, prompt) = failed_prod_deploy_and_prompt(&mut world).await;

    // Nobody took it within the window: posted again wherever failures
    // go, mentioning the first contact (Bob), with the same buttons.
    let paged = world.tg.next_message(ONCALL_CHAT).await;
    assert!(
        paged.text.starts_with("🚨 <b>Nobody has taken this for "),
        "{}",
        paged.text
    );
    assert!(
        paged.text.ends_with(
            ": prod · deploy of 1.3.0 failed (#3)\n<a href=\"tg://user?id=100000002\">Bob</a>, \
             please take it: tap 👀 I'm on it."
        ),
        "{}",
        paged.text
    );
    assert_eq!(buttons(&paged), buttons(&alert));
    let team_paged = world.tg.next_message(TEAM_CHAT).await;
    assert_eq!(team_paged.text, paged.text);

    // A stranger's tap takes nothing; Dave's does.
    let tap = world
        .tg
        .user_taps(&paged, MALLORY.id, MALLORY.name, "b:3:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "⛔ Only people in the bot's [[users]] can take an incident.".to_owned(),
            true
        )
    );
    let tap = world.tg.user_taps(&paged, DAVE.id, DAVE.name, "b:3:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("👀 Noted: Dave is on it.".to_owned(), false)
    );

    // Every copy says who took it, and loses its "I'm on it".
    let taken = |s: &Sent| s.text.ends_with("\n👀 Taken by Dave");
    for (chat, message) in [
        (ONCALL_CHAT, &alert),
        (ONCALL_CHAT, &paged),
        (TEAM_CHAT, &prompt),
        (TEAM_CHAT, &team_paged),
    ] {
        let edited = world.tg.edited(chat, Some(message.message_id), taken).await;
        assert_eq!(
            buttons(&edited),
            [
                ("↩️ Roll back to 1.2.2".to_owned(), "b:3:r".to_owned()),
                ("🔒 Lock".to_owned(), "b:3:l".to_owned()),
            ]
        );
    }
    let tap = world.tg.user_taps(&paged, BOB.id, BOB.name, "b:3:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("👀 Dave has already taken it.".to_owned(), false)
    );

    // Dave (the next contact) is never paged: a negative, so the test
    // lets more than a window pass after the acknowledgement first.
    tokio::time::sleep(std::time::Duration::from_secs(8)).await;
    let audit = world.store().await.recent_audit(200).await.unwrap();
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .filter(|a| a.action.starts_with("incident:"))
        .map(|a| (a.action.as_str(), a.detail.as_str()))
        .collect();
    assert_eq!(actions.len(), 2, "{actions:#?}");
    assert_eq!(actions[0], ("incident:escalate", "step 1: Bob"));
    assert_eq!(actions[1].0, "incident:ack");
    assert!(
        actions[1]
            .1
            .starts_with("prod · deploy of 1.3.0 failed (#3) after "),
        "{actions:#?}"
    );

    // Bob rolls back from the alert, Dave approves, it holds; the
    // incident report tells who was paged and who took it, when.
    let body = report_after_rolling_back_from(&world, &paged).await;
    assert!(body.contains("\n## Taken\n\n- #3 taken by Dave "), "{body}");
    assert!(
        body.contains("incident:escalate → escalated — step 1: Bob"),
        "{body}"
    );
    assert!(body.contains("- Deploy of 1.3.0 to prod (#3): "), "{body}");
    // …and the evidence gathered after the failure, as its alert had it.
    assert!(
        body.contains("\n## Diagnosis\n\nAfter #3:\n\n~~~text\n"),
        "{body}"
    );
    assert!(body.contains("\nAWS credentials: ECS answers\n"), "{body}");
}

#[tokio::test]
async fn a_health_alert_about_prod_carries_the_buttons_and_lock_locks() {
    let mut world = World::new().await;
    world.seed().await;
    world.monitor_interval = "100ms";
    world.start_bot().await;
    // Prod runs 1.2.2; 1.2.1 was confirmed healthy there before.
    let prod = aletheia_bot::domain::Env::parse("prod").unwrap();
    world
        .store()
        .await
        .record_succeeded_deploy(&prod, "1.2.1", aletheia_bot::domain::UserId(BOB.id))
        .await
        .unwrap();

    world.health.answer("prod", 503);
    let down = world.tg.next_message(ONCALL_CHAT).await;
    assert!(
        down.text
            .starts_with("🔴 <b>prod</b> · health check failing"),
        "{}",
        down.text
    );
    let expected = [
        ("↩️ Roll back to 1.2.1".to_owned(), "h:2:r".to_owned()),
        ("🔒 Lock".to_owned(), "h:2:l".to_owned()),
        ("👀 I'm on it".to_owned(), "h:2:a".to_owned()),
    ];
    assert_eq!(buttons(&down), expected);
    assert_eq!(buttons(&world.tg.next_message(TEAM_CHAT).await), expected);

    // Alice may not lock; Dave may.
    let tap = world.tg.user_taps(&down, ALICE.id, ALICE.name, "h:2:l");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "⛔ Locking is for: senior. You hold none of these roles.".to_owned(),
            true
        )
    );
    let tap = world.tg.user_taps(&down, DAVE.id, DAVE.name, "h:2:l");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("🔒 Locked.".to_owned(), false)
    );
    let locks = world.store().await.active_locks().await.unwrap();
    assert_eq!(locks.len(), 1);
    assert_eq!(locks[0].reason, "prod · health monitor alert");
    let told = world.tg.next_message(TEAM_CHAT).await;
    assert!(told.text.contains("Dave"), "{}", told.text);
    world.tg.next_message(ONCALL_CHAT).await;

    let tap = world.tg.user_taps(&down, ALICE.id, ALICE.name, "h:2:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("👀 Noted: Alice is on it.".to_owned(), false)
    );

    // The recovery is news, not a failure: no buttons.
    world.health.answer("prod", 200);
    let up = world.tg.next_message(ONCALL_CHAT).await;
    assert!(up.buttons.is_empty());
    world.tg.next_message(TEAM_CHAT).await;
}

#[tokio::test]
async fn a_diagnosis_coming_after_someone_took_the_failure_keeps_who_took_it() {
    let mut world = World::new().await;
    // GitHub is slow to compare the releases: the diagnosis (which names
    // the migrations since the version to roll back to) comes late.
    let compare = world.gh.hold(&format!(
        "/repos/{}/{}/compare/",
        crate::support::github::OWNER,
        crate::support::github::REPO
    ));
    let (alert, prompt) = failed_prod_deploy_and_prompt(&mut world).await;
    let tap = world.tg.user_taps(&alert, DAVE.id, DAVE.name, "b:3:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("👀 Noted: Dave is on it.".to_owned(), false)
    );
    for (chat, message) in [(ONCALL_CHAT, &alert), (TEAM_CHAT, &prompt)] {
        world
            .tg
            .edited(chat, Some(message.message_id), |s| {
                s.text.ends_with("\n👀 Taken by Dave")
            })
            .await;
    }

    // The evidence, when it comes, is added to the message as it stands:
    // it still says who took it, and "I'm on it" does not come back.
    drop(compare);
    for (chat, message) in [(ONCALL_CHAT, &alert), (TEAM_CHAT, &prompt)] {
        let diagnosed = world
            .tg
            .edited(chat, Some(message.message_id), |s| {
                s.text.contains("🔎 <b>Diagnosis</b>")
            })
            .await;
        assert!(
            diagnosed.text.contains("\n👀 Taken by Dave\n"),
            "{}",
            diagnosed.text
        );
        assert!(
            diagnosed
                .text
                .starts_with("❌ <b>prod</b> · deploy of <b>1.3.0</b> failed (#3)")
        );
        assert_eq!(
            buttons(&diagnosed),
            [
                ("↩️ Roll back to 1.2.2".to_owned(), "b:3:r".to_owned()),
                ("🔒 Lock".to_owned(), "b:3:l".to_owned()),
            ]
        );
    }
}

#[tokio::test]
async fn a_health_alarm_nobody_takes_pages_the_next_contact_until_someone_does() {
    let mut world = World::new().await;
    world.seed().await;
    world.monitor_interval = "100ms";
    world.ack_within = "3s";
    world.start_bot().await;
    world.health.answer("prod", 503);
    let down = world.tg.next_message(ONCALL_CHAT).await;
    let team_down = world.tg.next_message(TEAM_CHAT).await;
    let expected = [
        ("🔒 Lock".to_owned(), "h:2:l".to_owned()),
        ("👀 I'm on it".to_owned(), "h:2:a".to_owned()),
    ];
    assert_eq!(buttons(&down), expected);

    // Nobody took it within the window: posted again wherever failures
    // go, mentioning the first contact (Bob), with the same buttons.
    let paged = world.tg.next_message(ONCALL_CHAT).await;
    assert!(
        paged.text.starts_with("🚨 <b>Nobody has taken this for "),
        "{}",
        paged.text
    );
    let first_line = undiagnosed(&down.text).lines().next().unwrap().to_owned();
    assert!(paged.text.contains("prod"), "{first_line} / {}", paged.text);
    assert!(
        paged.text.ends_with(
            "\n<a href=\"tg://user?id=100000002\">Bob</a>, please take it: tap 👀 I'm on it."
        ),
        "{}",
        paged.text
    );
    assert_eq!(buttons(&paged), expected);
    let team_paged = world.tg.next_message(TEAM_CHAT).await;
    assert_eq!(team_paged.text, paged.text);

    // Dave takes it from the page: every copy says so and loses its
    // "I'm on it"; Bob, tapping after, is told Dave has it.
    let tap = world.tg.user_taps(&paged, DAVE.id, DAVE.name, "h:2:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("👀 Noted: Dave is on it.".to_owned(), false)
    );
    for (chat, message) in [
        (ONCALL_CHAT, &down),
        (ONCALL_CHAT, &paged),
        (TEAM_CHAT, &team_down),
        (TEAM_CHAT, &team_paged),
    ] {
        let edited = world
            .tg
            .edited(chat, Some(message.message_id), |s| {
                s.text.contains("\n👀 Taken by Dave")
            })
            .await;
        assert_eq!(buttons(&edited), [expected[0].clone()]);
    }
    let tap = world.tg.user_taps(&down, BOB.id, BOB.name, "h:2:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("👀 Dave has already taken it.".to_owned(), false)
    );
    let audit = world.store().await.recent_audit(200).await.unwrap();
    let steps: Vec<&str> = audit
        .iter()
        .filter(|a| a.action == "incident:escalate")
        .map(|a| a.detail.as_str())
        .collect();
    assert_eq!(steps, ["prod · health monitor alert: step 1: Bob"]);
    world.health.answer("prod", 200);
    world.tg.next_message(ONCALL_CHAT).await;
    world.tg.next_message(TEAM_CHAT).await;
}
