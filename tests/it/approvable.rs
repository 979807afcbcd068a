//! Prod stays approvable under load: in a chat whose routine alerts wait
//! on Telegram's limits, approval prompts and Confirm buttons go first,
//! and the fat-finger window starts when the Confirm button arrives.

use std::time::{Duration, Instant};

use aletheia_bot::domain::{AlertKind, ChatId};
use aletheia_bot::store::NewAlert;

use crate::support::*;

/// `n` routine alerts queued for the team chat, oldest first.
async fn backlog(world: &World, n: usize) {
    let alerts: Vec<NewAlert> = (0..n)
        .map(|i| {
            NewAlert::message(
                format!("backlog:{i}"),
                AlertKind::Deployment,
                None,
                ChatId(TEAM_CHAT),
                format!("routine {i:03}"),
            )
        })
        .collect();
    world.store().await.enqueue_alerts(&alerts).await.unwrap();
}

/// Where the first message starting with `prefix` stands among the
/// chat's messages, once it has come.
async fn position_of(world: &World, prefix: &str, within: Duration) -> usize {
    let mut at = None;
    eventually(within, &format!("a message starting {prefix:?}"), || {
        at = world
            .tg
            .sent_to(TEAM_CHAT)
            .iter()
            .position(|m| m.text.starts_with(prefix));
        std::future::ready(at.is_some())
    })
    .await;
    at.unwrap()
}

#[tokio::test]
async fn under_a_backlog_the_confirm_button_comes_first_and_its_window_starts_when_it_arrives() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.prod_confirm_tap = true;
    world.tg.strict_limits();
    world.start_bot().await;
    world.verified_on_staging("1.3.0").await;
    // (#1 is staging's deploy of 1.3.0.)
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy prod 1.3.0").await;

    // Routine alerts pile up in the team chat, and use up the group's 20
    // messages a minute (the prompt and 19 of them).
    const BACKLOG: usize = 30;
    backlog(&world, BACKLOG).await;
    eventually(
        Duration::from_secs(60),
        "the group's minute used up",
        || async { world.tg.sent_to(TEAM_CHAT).len() >= 20 },
    )
    .await;

    // Dave approves; his Confirm button takes the group's next free turn,
    // ahead of the eleven routine alerts still waiting.
    let approved = Instant::now();
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:2:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await.0,
        "Now tap “Confirm deploy 1.3.0 → prod” within 30s."
    );
    let at = position_of(&world, "👆 Dave: confirm", Duration::from_secs(120)).await;
    let waited = approved.elapsed();
    eprintln!(
        "the Confirm button came {} ms after Approve, after {} routine alerts",
        waited.as_millis(),
        at - 1
    );
    assert!(
        at <= 21,
        "the Confirm button went before the backlog (after {} of {BACKLOG})",
        at - 1
    );
    // Telegram's limit held it longer than the window: counted from the
    // Approve tap, the window would have passed.
    assert!(waited > Duration::from_secs(30), "held {waited:?}");

    // Tapped now, within the window after it came: it counts.
    let confirm = world.tg.sent_to(TEAM_CHAT)[at].clone();
    let tap = world.tg.user_taps(&confirm, DAVE.id, DAVE.name, "d:2:c");
    assert_eq!(
        world.tg.tap_answer(&tap).await.0,
        "Approved. Dispatching the Deploy workflow."
    );
    assert_eq!(world.gh.dispatches().len(), 1);
    world
        .tg
        .edited(TEAM_CHAT, Some(confirm.message_id), |s| {
            s.text == "👆 Dave confirmed: Approved. Dispatching the Deploy workflow."
        })
        .await;
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("🚀 <b>prod</b> · deploy of")
        })
        .await;
    world
        .until_outbox_sent("the backlog drained", Duration::from_secs(120))
        .await;
    let texts: Vec<String> = world
        .tg
        .read_all(TEAM_CHAT)
        .into_iter()
        .map(|m| m.text)
        .collect();
    let routine = texts.iter().filter(|t| t.starts_with("routine ")).count();
    assert_eq!(routine, BACKLOG, "each routine alert once: {texts:#?}");
    assert_eq!(world.tg.rate_limited(), 0, "within Telegram's limits");
}

#[tokio::test]
async fn a_prompt_queued_after_routine_alerts_is_delivered_before_them() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.start_bot().await;
    world.verified_on_staging("1.3.0").await;

    // Routine alerts queue up in the team chat (one a second there); then
    // Alice asks in private, and the team chat's copy of the prompt is
    // queued behind them.
    const BACKLOG: usize = 12;
    backlog(&world, BACKLOG).await;
    let private = world.say(ALICE.id, &ALICE, "/deploy prod 1.3.0").await;
    assert!(
        private
            .text
            .starts_with("🚀 <b>Deploy 1.3.0 → prod</b> · #2"),
        "{}",
        private.text
    );
    let at = position_of(
        &world,
        "🚀 <b>Deploy 1.3.0 → prod</b>",
        Duration::from_secs(60),
    )
    .await;
    assert!(
        at <= 2,
        "the prompt went before the backlog, not after {at} of its {BACKLOG} alerts"
    );
    world
        .until_outbox_sent("the backlog drained", Duration::from_secs(60))
        .await;
    let texts: Vec<String> = world
        .tg
        .read_all(TEAM_CHAT)
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(texts.len(), BACKLOG + 1, "{texts:#?}");
    assert_eq!(texts[at], private.text);
}
