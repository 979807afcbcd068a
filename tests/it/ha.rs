//! Two instances on one PostgreSQL: one leads (polls Telegram and GitHub,
//! delivers alerts, watches ECS), the other serves HTTP and stands by, and
//! takes over when the leader dies — without running anything twice.

use std::time::{Duration, Instant};

use crate::support::github::{post_signed_webhook, workflow_run_event};
use crate::support::*;

#[tokio::test]
async fn a_standby_takes_over_when_the_leader_is_killed_and_nothing_runs_twice() {
    let mut world = World::new().await;
    world.use_postgres().await;
    world.leader_lease = "2s";
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.start_bot().await;
    world.start_standby().await;

    // One leads; the other stands by and does not poll Telegram (two
    // pollers of one bot would fight over its updates).
    let leader = world.bot_url();
    eventually(Duration::from_secs(10), "the first instance leads", || {
        World::leads(&leader)
    })
    .await;
    let standby = world.standby_url();
    assert!(!World::leads(&standby).await);

    // A deploy is asked for; the leader answers with the prompt.
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    world.tg.wait_until_confirmed().await;
    // (Killed between Telegram taking a message and the bot noting it, the
    // message would be sent again: at least once. Not the point here.)
    let store = world.store().await;
    world
        .until_outbox_sent("the prompt noted as sent", Duration::from_secs(10))
        .await;
    let polls_before = world.tg.calls("getUpdates").len();

    // The leader dies without a word: the standby takes over once the
    // lease (2 s) has run out.
    world.kill_bot().await;
    let killed = Instant::now();
    eventually(Duration::from_secs(20), "the standby leads", || {
        World::leads(&standby)
    })
    .await;
    let takeover = killed.elapsed();
    eprintln!(
        "takeover: {} ms after the kill (lease 2 s)",
        takeover.as_millis()
    );
    assert!(
        takeover >= Duration::from_millis(1000),
        "not before the lease could have run out: {takeover:?}"
    );
    assert!(
        takeover < Duration::from_secs(6),
        "within the lease and a renewal: {takeover:?}"
    );
    eventually(Duration::from_secs(10), "the new leader polls", || async {
        world.tg.calls("getUpdates").len() > polls_before
    })
    .await;

    // The pending approval survived: its button works on the new leader,
    // and the deploy is dispatched once.
    let tap = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:1:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await.0,
        "Approved. Dispatching the Deploy workflow."
    );
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("🚀 <b>staging</b> · deploy of")
        })
        .await;
    assert_eq!(world.gh.dispatches().len(), 1);

    // GitHub's webhook reaches the new leader; the run's end is told once.
    world.roll_out("staging", "1.3.0").await;
    let run = world.gh.set_run(9001, "completed", Some("success"));
    let event = workflow_run_event("completed", &run);
    for _ in 0..2 {
        // Delivered twice (GitHub retrying): one outcome.
        let response = post_signed_webhook(&standby, "workflow_run", "w-1", &event).await;
        assert!(response.status().is_success(), "{}", response.status());
    }
    let done = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("✅ <b>staging</b>"))
        .await;
    assert_eq!(done.message_id, prompt.message_id);
    world.tg.next_message_starting(TEAM_CHAT, "🧪").await; // QA's question

    // Every alert went out, each once.
    world
        .until_outbox_sent("the outbox drained", Duration::from_secs(30))
        .await;
    let sent = world.tg.sent_to(TEAM_CHAT);
    for alert in store.all_alerts().await.unwrap() {
        if alert.edit_of.is_some() || alert.chat_id != TEAM_CHAT {
            continue;
        }
        let copies = sent
            .iter()
            .filter(|m| m.edits.first().unwrap_or(&m.text) == &alert.text)
            .count();
        assert_eq!(copies, 1, "{} sent {copies} times", alert.dedup_key);
    }
    assert_eq!(world.gh.dispatches().len(), 1);
}

#[tokio::test]
async fn behind_one_webhook_address_two_instances_share_the_updates_and_decide_once() {
    let mut world = World::new().await;
    world.use_postgres().await;
    world.webhook_mode = true;
    world.leader_lease = "2s";
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.start_bot().await;
    world.start_standby().await;

    // Both set the same webhook, with the secret from the environment;
    // neither polls (Telegram would refuse it while a webhook is set).
    let (url, secret) = world.tg.webhook().expect("a webhook is set");
    assert_eq!(url, "https://bot.example.com/telegram/webhook");
    assert_eq!(secret, crate::support::telegram::WEBHOOK_SECRET);
    assert!(world.tg.calls("getUpdates").is_empty());

    // An update without the secret token is refused by either instance.
    for target in [world.bot_url(), world.standby_url()] {
        let forged = serde_json::json!({"update_id": 999, "message": {
            "message_id": 1, "date": 0, "chat": {"id": TEAM_CHAT, "type": "supergroup", "title": "t"},
            "from": {"id": BOB.id, "is_bot": false, "first_name": "Bob"}, "text": "/deploy dev 1.3.0",
            "entities": [{"type": "bot_command", "offset": 0, "length": 7}]}});
        let client = reqwest::Client::new();
        for token in [None, Some("wrong"), Some("tg-webhook-TEST_secreT")] {
            let mut request = client
                .post(format!("{target}/telegram/webhook"))
                .json(&forged);
            if let Some(token) = token {
                request = request.header("X-Telegram-Bot-Api-Secret-Token", token);
            }
            assert_eq!(request.send().await.unwrap().status(), 401, "{token:?}");
        }
    }

    // The load balancer alternates between the two.
    let taken = world
        .tg
        .post_updates_to(vec![world.bot_url(), world.standby_url()]);
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    // Two QA approvals at once, one to each instance: one decides.
    let first = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:1:a");
    let second = world.tg.user_taps(&prompt, QUINN.id, QUINN.name, "d:1:a");
    let mut answers = vec![
        world.tg.tap_answer(&first).await.0,
        world.tg.tap_answer(&second).await.0,
    ];
    answers.sort();
    assert_eq!(
        answers[0], "Approved. Dispatching the Deploy workflow.",
        "{answers:?}"
    );
    assert!(answers[1].starts_with("Too late"), "{answers:?}");
    {
        let taken = taken.lock().unwrap();
        assert!(
            taken[0] > 0 && taken[1] > 0,
            "both instances took updates: {taken:?}"
        );
    }
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("🚀 <b>staging</b> · deploy of")
        })
        .await;
    assert_eq!(world.gh.dispatches().len(), 1);
    world
        .until_outbox_sent("the outbox drained", Duration::from_secs(10))
        .await;

    // The leader dies: the standby takes every update and, once the lease
    // has run out, the outbox too.
    world.kill_bot().await;
    let texts = world
        .say_and_read(TEAM_CHAT, &BOB, "/deploy dev 1.3.0", 2)
        .await;
    assert!(
        texts[0].starts_with("🚀 #2 Deploy 1.3.0 → dev: no approval needed."),
        "{texts:?}"
    );
    assert!(
        texts[1].starts_with("🚀 <b>dev</b> · deploy of <b>1.3.0</b> started (#2)"),
        "{texts:?}"
    );
    assert_eq!(world.gh.dispatches().len(), 2);
    let standby = world.standby_url();
    assert!(World::leads(&standby).await);
}
