//! Alert delivery under stress: Telegram down across a restart, and a
//! burst far above Telegram's limits.

use std::time::Duration;

use aletheia_bot::domain::{AlertKind, ChatId};
use aletheia_bot::store::NewAlert;

use crate::support::github::{post_signed_webhook, release_published};
use crate::support::*;

#[tokio::test]
async fn alerts_raised_while_telegram_is_down_arrive_once_after_a_restart() {
    let mut world = World::new().await;
    world.alert_attempts = 1000;
    world.start_bot().await;
    world.tg.set_down(true);
    for i in 0..10u64 {
        let sent = post_signed_webhook(
            &world.bot_url(),
            "release",
            &format!("d-{i}"),
            &release_published(100 + i, &format!("v1.4.{i}")),
        )
        .await;
        assert_eq!(sent.status(), 202);
    }
    let store = world.store().await;
    // (The oldest are retried first, in order: a chat's later alerts wait.)
    eventually(Duration::from_secs(30), "alerts failing", || async {
        let rows = store.all_alerts().await.unwrap();
        rows.len() == 10 && rows.iter().any(|r| r.attempts >= 2)
    })
    .await;

    // The bot is restarted while Telegram is still down, then it returns.
    world.restart_bot_gracefully().await;
    world.tg.set_down(false);
    let mut texts = Vec::new();
    for _ in 0..10 {
        texts.push(world.tg.next_message(TEAM_CHAT).await.text);
    }
    texts.sort();
    for (i, text) in texts.iter().enumerate() {
        assert!(
            text.starts_with(&format!("📦 <b>Release v1.4.{i}</b>")),
            "{texts:?}"
        );
    }
    eventually(Duration::from_secs(30), "every row marked sent", || async {
        store
            .all_alerts()
            .await
            .unwrap()
            .iter()
            .all(|r| r.state == "sent")
    })
    .await;
    assert_eq!(world.tg.sent_to(TEAM_CHAT).len(), 10, "each exactly once");
}

#[tokio::test]
async fn an_outcome_whose_started_message_was_never_delivered_comes_as_a_message() {
    let world = world_with_release().await;

    // The "started" message of a deploy run is given up (4 attempts).
    world.tg.set_down(true);
    world
        .start_run_outside("deploy.yml", "Deploy 1.3.0 to dev ()")
        .await;
    let store = world.store().await;
    eventually(
        Duration::from_secs(30),
        "the started message given up",
        || async {
            store
                .all_alerts()
                .await
                .unwrap()
                .iter()
                .any(|a| a.dedup_key.starts_with("op:1:dispatched@") && a.state == "failed")
        },
    )
    .await;
    world.tg.set_down(false);

    // Its outcome cannot be an edit of it: it comes as a message.
    world.roll_out("dev", "1.3.0").await;
    world.finish_run(9001, "success", "w-2").await;
    let done = world.tg.next_message(TEAM_CHAT).await;
    assert!(
        done.text
            .starts_with("✅ <b>dev</b> · <b>1.3.0</b> deployed (#1) in "),
        "{}",
        done.text
    );
}

#[tokio::test]
async fn an_edit_retried_after_a_newer_one_went_out_does_not_bring_old_news_back() {
    let world = world_with_release().await;
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;

    // The "approved" edit of the prompt fails once; the "started" edit
    // after it goes out while it waits for its retry.
    world.tg.fail_next(
        "editMessageText",
        1,
        crate::support::telegram::Fault::Garbage,
    );
    let tap = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:1:a");
    world.tg.tap_answer(&tap).await;
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("🚀 <b>staging</b> · deploy of")
        })
        .await;
    world
        .until_outbox_sent("the outbox settled", Duration::from_secs(30))
        .await;
    // The retried "approved" edit was not put back over "started".
    let now = world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("🚀 <b>staging</b> · deploy of")
        })
        .await;
    assert_eq!(now.edits.len(), 1, "{:?}", now.edits);
    assert_eq!(world.tg.calls("editMessageText").len(), 2);
}

#[tokio::test]
async fn telegram_failing_every_way_for_a_while_then_the_command_is_answered_and_alerts_arrive() {
    use crate::support::telegram::Fault;
    let mut world = World::new().await;
    world.alert_attempts = 1000;
    world.start_bot().await;
    // Telegram breaks: polls answer 502, garbage and 429; sends too.
    for fault in [Fault::ServerError, Fault::Garbage, Fault::RetryAfter(1)] {
        world.tg.fail_next("getUpdates", 1, fault);
        world.tg.fail_next("sendMessage", 2, fault);
    }
    // Meanwhile a person asks, and an alert is raised.
    world
        .tg
        .user_says(TEAM_CHAT, ALICE.id, ALICE.name, "/whoami");
    let sent = post_signed_webhook(
        &world.bot_url(),
        "release",
        "d-1",
        &release_published(100, "v1.4.0"),
    )
    .await;
    assert_eq!(sent.status(), 202);
    // Both arrive once Telegram is back, each once.
    let mut texts = vec![
        world.tg.next_message(TEAM_CHAT).await.text,
        world.tg.next_message(TEAM_CHAT).await.text,
    ];
    texts.sort();
    assert!(texts[0].starts_with("👤 Alice"), "{texts:?}");
    assert!(texts[1].contains("v1.4.0"), "{texts:?}");
    assert!(world.tg.calls("getUpdates").len() > 3);
}

#[tokio::test]
async fn an_answer_telegram_holds_off_is_sent_again_no_sooner_than_it_said() {
    use crate::support::telegram::Fault;
    let mut world = World::new().await;
    world.start_bot().await;
    // Flood control: "retry after 2 s" (a restart right after a burst, or
    // a second instance, spent Telegram's second).
    world.tg.fail_next("sendMessage", 1, Fault::RetryAfter(2));
    let answer = world.say(TEAM_CHAT, &ALICE, "/whoami").await;
    assert!(answer.text.starts_with("👤 Alice"), "{}", answer.text);
    let calls = world.tg.calls("sendMessage");
    assert_eq!(calls.len(), 2, "the 429, then the answer");
    let waited = calls[1].at - calls[0].at;
    assert!(
        waited >= Duration::from_secs(2),
        "sent again after {waited:?}, before Telegram's 2 s"
    );
}

/// `total` alerts enqueued round-robin over `chats` before the bot starts
/// (as after an outage), then delivered against a fake Telegram holding
/// the bot to the published limits to the letter (each a sliding window:
/// one message over, and it is 429): not one 429, each alert once, each
/// chat's in order.
async fn a_burst_keeps_within_telegrams_limits(chats: &[i64], total: usize, within: Duration) {
    let mut world = World::new().await;
    world.tg.strict_limits();
    std::fs::write(world.config_path(), world.config_text()).unwrap();
    assert!(world.cli(&["migrate"]).await.status.success());
    let store = world.store().await;
    let alerts: Vec<NewAlert> = (0..total)
        .map(|n| {
            NewAlert::message(
                format!("burst:{n}"),
                AlertKind::Deployment,
                None,
                ChatId(chats[n % chats.len()]),
                format!("alert {n:03} of {total}"),
            )
        })
        .collect();
    store.enqueue_alerts(&alerts).await.unwrap();
    world.start_bot().await;

    eventually(within, "all delivered", || async {
        world.tg.accepted().len() >= total
    })
    .await;
    assert_eq!(world.tg.rate_limited(), 0, "not a single 429");
    for chat in chats {
        let texts: Vec<String> = world
            .tg
            .read_all(*chat)
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert_eq!(texts.len(), total / chats.len(), "each alert once");
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(texts, sorted, "each chat's alerts in order");
    }
}

#[tokio::test]
async fn a_burst_of_250_alerts_to_10_groups_keeps_within_telegrams_limits() {
    let groups: Vec<i64> = (0..10).map(|i| -1003000000000 - i).collect();
    // 25 a group at 20 new messages a minute: twenty at a chat's pace,
    // the other five as the first minute's window slides, a little over a
    // minute in all (the bench drains a thousand).
    a_burst_keeps_within_telegrams_limits(&groups, 250, Duration::from_secs(600)).await;
}

#[tokio::test]
async fn a_burst_to_40_private_chats_keeps_within_the_30_a_second_and_each_chats_pace() {
    let chats: Vec<i64> = (0..40).map(|i| 760_000_000 + i).collect();
    a_burst_keeps_within_telegrams_limits(&chats, 120, Duration::from_secs(60)).await;
}
