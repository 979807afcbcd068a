//! Issue 16, item 4: taps are never lost. Telegram refusing a tap's
//! answer (the tap is too old, or flood control holds the bot off) only
//! leaves its spinner to stop by itself: the decision counts once, the
//! workflow is dispatched once, and the message the tap changes shows
//! the outcome all the same.

use aletheia_bot::domain::OperationId;

use crate::support::telegram::Fault;
use crate::support::*;

fn nonce_of(sent: &telegram::Sent) -> String {
    let data = &sent.buttons[0][0].1;
    data.split(':').nth(1).unwrap().to_owned()
}

/// Waits until Telegram has refused the answer to `query`, and says how.
async fn refused_answer(world: &World, query: &str) -> (u16, String) {
    world.tg.tap_answer(query).await;
    let refusal = eventually_some(|| {
        world
            .tg
            .refusals()
            .into_iter()
            .find(|r| r.method == "answercallbackquery")
    })
    .await;
    (refusal.status, refusal.description)
}

async fn eventually_some<T>(mut find: impl FnMut() -> Option<T>) -> T {
    let mut found = None;
    eventually(
        std::time::Duration::from_secs(10),
        "Telegram's refusal",
        || {
            found = find();
            let done = found.is_some();
            async move { done }
        },
    )
    .await;
    found.unwrap()
}

#[tokio::test]
async fn an_approval_whose_answer_telegram_refuses_still_counts_once_and_shows() {
    let world = world_with_release().await;
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    assert!(
        prompt
            .text
            .starts_with("🚀 <b>Deploy 1.3.0 → staging</b> · #1"),
        "{}",
        prompt.text
    );

    // Carol's tap reaches the bot after Telegram stopped waiting for it.
    world
        .tg
        .fail_next("answerCallbackQuery", 1, Fault::QueryTooOld);
    let tap = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:1:a");
    let (status, description) = refused_answer(&world, &tap).await;
    assert_eq!(status, 400);
    assert!(description.contains("query is too old"), "{description}");

    // She reads the outcome in the prompt itself.
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
    // Seeing no answer, she taps again: still one approval, one dispatch.
    let again = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:1:a");
    assert_eq!(
        world.tg.tap_answer(&again).await,
        (
            "Too late: this request is already dispatched.".to_owned(),
            true
        )
    );
    // A refused-for-good answer was not asked again (taps of the chat
    // wait behind it): the second tap was handled after the first.
    let answers_to_first = world
        .tg
        .calls("answerCallbackQuery")
        .into_iter()
        .filter(|c| c.body["callback_query_id"] == tap.as_str())
        .count();
    assert_eq!(answers_to_first, 1);
    let store = world.store().await;
    assert_eq!(
        store.approvers_of(OperationId(1)).await.unwrap(),
        [CAROL.id]
    );
    assert_eq!(world.gh.dispatches().len(), 1);
}

#[tokio::test]
async fn a_prod_approval_held_off_by_flood_control_still_counts_once_and_shows() {
    let world = world_with_release().await;
    world.verified_on_staging("1.3.0").await;
    let prompt = world.say(TEAM_CHAT, &BOB, "/deploy prod 1.3.0").await;

    // Flood control holds the bot off longer than a tap lives.
    world
        .tg
        .fail_next("answerCallbackQuery", 1, Fault::RetryAfter(30));
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:2:a");
    let (status, _) = refused_answer(&world, &tap).await;
    assert_eq!(status, 429);

    let approved = world
        .tg
        .edited(TEAM_CHAT, None, |s| {
            s.text.starts_with("✅ <b>Deploy 1.3.0 → prod</b> · #2")
        })
        .await;
    assert_eq!(approved.message_id, prompt.message_id);
    assert!(
        approved.text.contains("Approved by Dave"),
        "{}",
        approved.text
    );
    // The answer is not asked again: the tap would be gone by then.
    assert_eq!(world.tg.calls("answerCallbackQuery").len(), 1);
    let store = world.store().await;
    assert_eq!(store.approvers_of(OperationId(2)).await.unwrap(), [DAVE.id]);
    let dispatches = world.gh.dispatches();
    assert_eq!(dispatches.len(), 1);
    assert_eq!(dispatches[0].1["inputs"]["environment"], "prod");
}

#[tokio::test]
async fn a_dialogue_tap_whose_answer_telegram_refuses_still_moves_the_dialogue() {
    let world = world_with_release().await;
    let ask = world.say(TEAM_CHAT, &ALICE, "/deploy staging").await;
    let n = nonce_of(&ask);

    // Picking the version: the answer is too late, the question moves on.
    world
        .tg
        .fail_next("answerCallbackQuery", 1, Fault::QueryTooOld);
    let tap = world
        .tg
        .user_taps(&ask, ALICE.id, ALICE.name, &format!("g:{n}:0"));
    refused_answer(&world, &tap).await;
    let confirm = world
        .tg
        .edited(TEAM_CHAT, Some(ask.message_id), |_| true)
        .await;
    assert_eq!(
        confirm.text,
        "🚀 <b>Deploy 1.3.0 → staging</b>?\nThe checks run, and approval is asked for, when you confirm."
    );

    // Confirming, held off by flood control: the request is still made.
    world
        .tg
        .fail_next("answerCallbackQuery", 1, Fault::RetryAfter(30));
    let tap = world
        .tg
        .user_taps(&confirm, ALICE.id, ALICE.name, &format!("g:{n}:y"));
    world.tg.tap_answer(&tap).await;
    let prompt = world.tg.next_message(TEAM_CHAT).await;
    assert!(
        prompt
            .text
            .starts_with("🚀 <b>Deploy 1.3.0 → staging</b> · #1\nAsked by Alice\n"),
        "{}",
        prompt.text
    );
    let asked = world
        .tg
        .edited(TEAM_CHAT, Some(ask.message_id), |s| s.edits.len() >= 2)
        .await;
    assert_eq!(
        asked.text,
        "🚀 <b>Deploy 1.3.0 → staging</b>: asked by Alice."
    );
}
