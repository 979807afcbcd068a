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
    eventually(
        Duration::from_secs(10),
        "the prompt noted as sent",
        || async {
            store
                .all_alerts()
                .await
                .unwrap()
                .iter()
                .all(|a| a.state == "sent")
        },
    )
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
        .became(
            TEAM_CHAT,
            prompt.message_id,
            "🚀 <b>staging</b> · deploy of",
        )
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
    let done = world.tg.edited_to(TEAM_CHAT, "✅ <b>staging</b>").await;
    assert_eq!(done.message_id, prompt.message_id);
    world.tg.next_message_starting(TEAM_CHAT, "🧪").await; // QA's question

    // Every alert went out, each once.
    eventually(Duration::from_secs(30), "the outbox drained", || async {
        store
            .all_alerts()
            .await
            .unwrap()
            .iter()
            .all(|a| a.state == "sent")
    })
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
    world.tg.assert_all_read();
}
