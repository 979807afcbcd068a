//! What an approval must still rest on when it counts (nothing changed
//! its grounds, nothing else deployed there), and prod's second tap.

use aletheia_bot::domain::{OperationState, UserId};
use aletheia_bot::store::AuditEntry;

use crate::support::*;

#[tokio::test]
async fn an_approval_whose_grounds_changed_dispatches_nothing() {
    let world = world_with_release().await;
    let store = world.store().await;
    let qa = |verified: bool| AuditEntry {
        actor: Some(UserId(CAROL.id)),
        chat: None,
        action: "qa".into(),
        outcome: verified.to_string(),
        operation: None,
        detail: String::new(),
    };
    store
        .record_succeeded_deploy(
            &aletheia_bot::domain::Env::parse("staging").unwrap(),
            "1.3.0",
            UserId(ALICE.id),
        )
        .await
        .unwrap();
    store
        .record_verification(
            &aletheia_bot::domain::Env::parse("staging").unwrap(),
            "1.3.0",
            true,
            UserId(CAROL.id),
            &qa(true),
            &[],
        )
        .await
        .unwrap();
    let prompt = world.say(TEAM_CHAT, &BOB, "/deploy prod 1.3.0").await;

    // Meanwhile QA finds issues in 1.3.0 on staging.
    store
        .record_verification(
            &aletheia_bot::domain::Env::parse("staging").unwrap(),
            "1.3.0",
            false,
            UserId(CAROL.id),
            &qa(false),
            &[],
        )
        .await
        .unwrap();

    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:2:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Approved, but not dispatched: 1.3.0 is no longer verified in staging.".to_owned(),
            true
        )
    );
    let edited = world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |_| true)
        .await;
    assert_eq!(
        edited.text,
        "⚠️ <b>Deploy 1.3.0 → prod</b> · #2\nAsked by Bob\nApproved by Dave, but no longer valid: \
         1.3.0 is no longer verified in staging. Nothing was dispatched."
    );
    assert!(world.gh.dispatches().is_empty());
    assert_eq!(
        store.all_operations().await.unwrap()[1].state,
        OperationState::Cancelled
    );
}

#[tokio::test]
async fn an_approval_after_someone_else_deployed_there_dispatches_nothing() {
    let world = world_with_release().await;
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    assert!(
        prompt.text.contains("Running there now: <b>1.2.3</b>"),
        "{}",
        prompt.text
    );

    // Meanwhile 1.2.4 is rolled out to staging by hand, past the bot.
    world.roll_out("staging", "1.2.4").await;

    let tap = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:1:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Approved, but not dispatched: staging changed since the request: \
             it ran 1.2.3 and now runs 1.2.4."
                .to_owned(),
            true
        )
    );
    let edited = world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |_| true)
        .await;
    assert!(
        edited.text.ends_with(
            "Approved by Carol, but no longer valid: staging changed since the request: \
             it ran 1.2.3 and now runs 1.2.4. Nothing was dispatched."
        ),
        "{}",
        edited.text
    );
    assert!(world.gh.dispatches().is_empty());
    let store = world.store().await;
    assert_eq!(
        store.all_operations().await.unwrap()[0].state,
        OperationState::Cancelled
    );
}

#[tokio::test]
async fn prod_approval_needs_a_second_tap_on_confirm() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.prod_confirm_tap = true;
    world.start_bot().await;
    let store = world.store().await;
    let qa = AuditEntry {
        actor: Some(UserId(CAROL.id)),
        chat: None,
        action: "qa".into(),
        outcome: "verified".into(),
        operation: None,
        detail: String::new(),
    };
    store
        .record_succeeded_deploy(
            &aletheia_bot::domain::Env::parse("staging").unwrap(),
            "1.3.0",
            UserId(ALICE.id),
        )
        .await
        .unwrap();
    store
        .record_verification(
            &aletheia_bot::domain::Env::parse("staging").unwrap(),
            "1.3.0",
            true,
            UserId(CAROL.id),
            &qa,
            &[],
        )
        .await
        .unwrap();
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy prod 1.3.0").await;

    // Dave's first tap only arms his approval.
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:2:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Now tap “Confirm deploy 1.3.0 → prod” within 30s.".to_owned(),
            false
        )
    );
    let confirm = world.tg.next_message(TEAM_CHAT).await;
    assert_eq!(
        confirm.text,
        "👆 Dave: confirm deploy 1.3.0 → prod? Tap within 30s."
    );
    assert_eq!(
        confirm.buttons.concat(),
        [("Confirm deploy 1.3.0 → prod".to_owned(), "d:2:c".to_owned())]
    );
    assert!(world.gh.dispatches().is_empty());

    // Another senior who did not arm it cannot confirm it.
    let tap = world.tg.user_taps(&confirm, BOB.id, BOB.name, "d:2:c");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "The confirmation window has passed (or this is not your approval). Tap Approve again."
                .to_owned(),
            true
        )
    );
    assert!(world.gh.dispatches().is_empty());

    let tap = world.tg.user_taps(&confirm, DAVE.id, DAVE.name, "d:2:c");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Approved. Dispatching the Deploy workflow.".to_owned(),
            false
        )
    );
    assert_eq!(world.gh.dispatches().len(), 1);
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |_| true)
        .await;
    let used = world
        .tg
        .edited(TEAM_CHAT, Some(confirm.message_id), |_| true)
        .await;
    assert_eq!(
        used.text,
        "👆 Dave confirmed: Approved. Dispatching the Deploy workflow."
    );
    assert!(used.buttons.is_empty());
    // The prompt goes on to say the deploy started.
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("🚀 <b>prod</b> · deploy of")
        })
        .await;
}
