//! Approval prompts reach the approvers: a request is asked for in one
//! chat, its prompt is also posted in every chat routed `approval` alerts
//! for the environment, any copy takes the decision, and every copy tells
//! the same story.

use crate::support::*;

/// Team chat takes approvals for every environment; QA's chat takes
/// staging's approvals only; on-call takes prod's failures.
const QA_CHAT: i64 = -1001000000003;
const CHATS_WITH_QA: &str = r#"
[[chats]]
id = -1001000000001
name = "team"
alerts = ["release", "deployment", "rollback", "failure", "health", "approval"]

[[chats]]
id = -1001000000002
name = "oncall"
alerts = ["failure", "health"]
envs = ["prod"]

[[chats]]
id = -1001000000003
name = "qa"
alerts = ["approval"]
envs = ["staging"]
"#;

#[tokio::test]
async fn a_prod_request_asked_in_private_is_approved_in_the_team_chat() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.start_bot().await;
    world.verified_on_staging("1.3.0").await;

    // (#1 is staging's deploy of 1.3.0.) Alice asks in her private chat with the bot: she cannot approve, and
    // the seniors are in the team chat, which takes prod's prompts.
    let private = world.say(ALICE.id, &ALICE, "/deploy prod 1.3.0").await;
    assert!(
        private
            .text
            .starts_with("🚀 <b>Deploy 1.3.0 → prod</b> · #2"),
        "{}",
        private.text
    );
    let team = world.tg.next_message(TEAM_CHAT).await;
    assert_eq!(team.text, private.text);
    assert_eq!(team.buttons, private.buttons);

    // Carol (QA) is refused under the team's copy; Bob approves there.
    let tap = world.tg.user_taps(&team, CAROL.id, CAROL.name, "d:2:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Only senior may decide this.".to_owned(), true)
    );
    let tap = world.tg.user_taps(&team, BOB.id, BOB.name, "d:2:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Approved. Dispatching the Deploy workflow.".to_owned(),
            false
        )
    );
    let dispatches = world.gh.dispatches();
    assert_eq!(dispatches.len(), 1);
    assert_eq!(dispatches[0].1["inputs"]["environment"], "prod");
    assert_eq!(dispatches[0].1["inputs"]["version"], "1.3.0");

    // Both copies say who decided, lose their buttons, and go on to tell
    // the deployment's story.
    for (chat, copy) in [(ALICE.id, &private), (TEAM_CHAT, &team)] {
        let started = world
            .tg
            .edited(chat, Some(copy.message_id), |s| {
                s.text.starts_with("🚀 <b>prod</b>")
            })
            .await;
        assert!(
            started
                .edits
                .iter()
                .any(|e| e.contains("Approved by Bob; dispatching the Deploy workflow.")),
            "{chat}: {:?}",
            started.edits
        );
        assert!(started.buttons.iter().flatten().next().is_none(), "{chat}");
    }

    // A second tap under the other copy changes nothing.
    let tap = world.tg.user_taps(&private, DAVE.id, DAVE.name, "d:2:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Too late: this request is already dispatched.".to_owned(),
            true
        )
    );
    assert_eq!(world.gh.dispatches().len(), 1);
}

#[tokio::test]
async fn staging_prompts_reach_qa_and_a_rejection_there_closes_every_copy() {
    let mut world = World::new().await;
    world.chats_toml = Some(CHATS_WITH_QA);
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.start_bot().await;

    let team = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    assert!(team.text.starts_with("🚀 <b>Deploy 1.3.0 → staging</b>"));
    let qa = world.tg.next_message(QA_CHAT).await;
    assert_eq!(qa.text, team.text);

    // A tap in a chat holding no copy of this prompt is forged.
    let elsewhere = telegram::Sent {
        chat_id: ONCALL_CHAT,
        ..qa.clone()
    };
    let tap = world
        .tg
        .user_taps(&elsewhere, CAROL.id, CAROL.name, "d:1:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("This button is not one of mine.".to_owned(), true)
    );

    // Quinn (QA) rejects in QA's chat: both copies say so, without buttons.
    let tap = world.tg.user_taps(&qa, QUINN.id, QUINN.name, "d:1:r");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Rejected.".to_owned(), false)
    );
    for (chat, copy) in [(TEAM_CHAT, &team), (QA_CHAT, &qa)] {
        let rejected = world
            .tg
            .edited(chat, Some(copy.message_id), |s| {
                s.text.starts_with("❌ <b>Deploy 1.3.0 → staging</b>")
            })
            .await;
        assert!(
            rejected.text.ends_with("Rejected by Quinn."),
            "{}",
            rejected.text
        );
        assert!(rejected.buttons.iter().flatten().next().is_none(), "{chat}");
    }
    assert!(world.gh.dispatches().is_empty());
}

#[tokio::test]
async fn a_request_no_approver_would_see_is_refused_at_once() {
    let mut world = World::new().await;
    // No chat takes approval prompts.
    world.chats_toml = Some(
        r#"
[[chats]]
id = -1001000000001
name = "team"
alerts = ["release", "deployment", "rollback", "failure", "health"]
"#,
    );
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.start_bot().await;
    world.verified_on_staging("1.3.0").await;

    let answer = world.say(ALICE.id, &ALICE, "/deploy prod 1.3.0").await;
    assert_eq!(
        answer.text,
        "⛔ Nobody who may approve this would see its prompt: it was asked in a private chat, \
         and no chat takes approval prompts for prod. Ask in the team chat, or give a chat \
         of the approvers (senior) the approval alerts for prod in bot.toml."
    );
    assert!(answer.buttons.is_empty());
    // Nothing was created: the environment is free for the same request
    // asked where the seniors are.
    let store = world.store().await;
    assert!(store.live_operations().await.unwrap().is_empty());
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy prod 1.3.0").await;
    assert!(
        prompt.text.starts_with("🚀 <b>Deploy 1.3.0 → prod</b>"),
        "{}",
        prompt.text
    );
}
