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
    world.assert_each_alert_sent_once(TEAM_CHAT).await;
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

/// When each instance was first seen leading, or no longer leading,
/// after the leader's database was cut off.
struct Handover {
    old_stood_down: Duration,
    new_took_over: Duration,
}

/// Watches both instances' `aletheia_leader` from `cut` until the first
/// has stood down and the second leads.
async fn watch_handover(old: &str, new: &str, cut: Instant) -> Handover {
    let (mut stood_down, mut took_over) = (None, None);
    let deadline = cut + Duration::from_secs(20);
    while stood_down.is_none() || took_over.is_none() {
        assert!(
            Instant::now() < deadline,
            "within 20 s of the cut: the cut-off leader stands down ({stood_down:?}) \
             and the standby leads ({took_over:?})"
        );
        let (old_leads, new_leads) = tokio::join!(World::leads(old), World::leads(new));
        let at = cut.elapsed();
        if !old_leads && stood_down.is_none() {
            stood_down = Some(at);
        }
        if new_leads && took_over.is_none() {
            took_over = Some(at);
        }
        // A sample every 20 ms: the figures' resolution.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Handover {
        old_stood_down: stood_down.unwrap(),
        new_took_over: took_over.unwrap(),
    }
}

#[tokio::test]
async fn a_leader_cut_off_from_the_database_stands_down_within_a_lease_and_nothing_runs_twice() {
    let cut = crate::support::tcp_cut::TcpCut::start("127.0.0.1:5432").await;
    let mut world = World::new().await;
    world.use_postgres_through(&cut).await;
    world.leader_lease = "2s";
    world.seed().await;
    world.gh.add_release("v1.3.0");
    // The leader reaches the database through the proxy; the standby
    // straight.
    world.start_bot().await;
    world.start_standby_straight().await;
    let (leader, standby) = (world.bot_url(), world.standby_url());
    eventually(Duration::from_secs(10), "the first instance leads", || {
        World::leads(&leader)
    })
    .await;
    assert!(!World::leads(&standby).await);

    // A decision before the cut: approved, dispatched once.
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
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
    world
        .until_outbox_sent("the outbox drained", Duration::from_secs(10))
        .await;
    assert_eq!(world.gh.dispatches().len(), 1);

    // The leader's database connections are cut; the process lives on.
    cut.cut();
    let handover = watch_handover(&leader, &standby, Instant::now()).await;
    let overlap = handover
        .old_stood_down
        .saturating_sub(handover.new_took_over);
    let gap = handover
        .new_took_over
        .saturating_sub(handover.old_stood_down);
    eprintln!(
        "partition (lease 2 s): the cut-off leader stood down {} ms after the cut, \
         the standby led {} ms after it; both leading for {} ms, neither for {} ms",
        handover.old_stood_down.as_millis(),
        handover.new_took_over.as_millis(),
        overlap.as_millis(),
        gap.as_millis()
    );
    assert!(
        handover.old_stood_down < Duration::from_millis(3500),
        "the cut-off leader stands down within a lease (and a sample): {:?}",
        handover.old_stood_down
    );
    assert!(
        handover.new_took_over < Duration::from_secs(6),
        "the standby takes over within a lease and a renewal: {:?}",
        handover.new_took_over
    );
    assert!(
        overlap <= Duration::from_millis(500),
        "both led for {overlap:?}"
    );

    // The new leader does the singleton work while the cut lasts: the run's
    // end, told by GitHub's webhook, and a new decision, dispatched once.
    world.roll_out("staging", "1.3.0").await;
    let run = world.gh.set_run(9001, "completed", Some("success"));
    let event = workflow_run_event("completed", &run);
    let response = post_signed_webhook(&standby, "workflow_run", "w-1", &event).await;
    assert!(response.status().is_success(), "{}", response.status());
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("✅ <b>staging</b>")
        })
        .await;
    world.tg.next_message_starting(TEAM_CHAT, "🧪").await; // QA's question
    let texts = world
        .say_and_read(TEAM_CHAT, &BOB, "/deploy dev 1.3.0", 2)
        .await;
    assert!(
        texts[1].starts_with("🚀 <b>dev</b> · deploy of <b>1.3.0</b> started (#2)"),
        "{texts:?}"
    );

    // The cut heals: the old leader finds the lease taken and stays a
    // standby; nothing is done twice.
    cut.restore();
    let healthz = format!("{leader}/healthz");
    eventually(
        Duration::from_secs(20),
        "the old leader's database back",
        || async {
            reqwest::get(&healthz)
                .await
                .is_ok_and(|r| r.status().is_success())
        },
    )
    .await;
    world
        .until_outbox_sent("the outbox drained", Duration::from_secs(30))
        .await;
    assert!(
        !World::leads(&leader).await,
        "the old leader stays a standby"
    );
    assert!(World::leads(&standby).await);
    assert_eq!(
        world.gh.dispatches().len(),
        2,
        "each decision dispatched once"
    );
    // Nothing was in the old leader's hands when it was cut off (the
    // outbox had drained), so every alert went out exactly once; an alert
    // it had taken for sending then would be at least once: sent again by
    // the new leader once that alert's own lease ran out.
    world.assert_each_alert_sent_once(TEAM_CHAT).await;
}
