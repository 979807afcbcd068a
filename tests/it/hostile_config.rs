//! Issue 16: the edge the config and the bot's own failures leave open.
//! Approvals follow the config as it is now (a removed approver's word
//! lapses), and nothing internal (account ids, role ARNs, store errors)
//! reaches a chat: a short reference does, the log carries the rest.

use std::time::Duration;

use crate::hostile::snapshot;
use crate::support::*;

/// Erin, a second senior beside Dave: with Bob demoted, prod's two
/// approvals still have enough seniors to come from.
const ERIN: Person = Person {
    id: 100000006,
    name: "Erin",
};

/// What became of Bob when the bot comes back.
#[derive(Clone, Copy)]
enum Bob {
    Senior,
    /// His senior role taken away.
    Developer,
    /// Removed from `[[users]]`.
    Gone,
}

/// The world's `[[users]]` with Bob as `bob` says, and Erin a senior.
fn users(bob: Bob) -> String {
    const BOB_SENIOR: &str =
        "[[users]]\nid = 100000002\nname = \"Bob\"\nroles = [\"senior\", \"developer\"]\n";
    assert!(USERS_TOML.contains(BOB_SENIOR));
    let bob = match bob {
        Bob::Senior => BOB_SENIOR.to_owned(),
        Bob::Developer => BOB_SENIOR.replace("\"senior\", ", ""),
        Bob::Gone => String::new(),
    };
    format!(
        "{}\n[[users]]\nid = {}\nname = \"{}\"\nroles = [\"senior\"]\n",
        USERS_TOML.replace(BOB_SENIOR, &bob),
        ERIN.id,
        ERIN.name
    )
}

#[tokio::test]
async fn an_approval_by_someone_no_longer_a_senior_does_not_count() {
    bob_approves_then_is_no_longer_an_approver(Bob::Developer, "Bob").await;
}

#[tokio::test]
async fn an_approval_by_someone_removed_from_the_users_does_not_count() {
    // The config no longer knows his name: his id stands for him.
    bob_approves_then_is_no_longer_an_approver(Bob::Gone, "user 100000002").await;
}

/// Bob approves a prod deploy needing two; the bot comes back with Bob
/// `after`; Dave's approval would complete the count, but Bob's no longer
/// counts: nothing is dispatched and the prompt says so.
async fn bob_approves_then_is_no_longer_an_approver(after: Bob, bob_name: &str) {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.prod_approvals = 2;
    world.users_toml = Some(users(Bob::Senior));
    world.start_bot().await;
    world.verified_on_staging("1.3.0").await;

    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy prod 1.3.0").await;
    assert!(
        prompt.text.contains("Needs 2 approval(s) from: senior"),
        "{}",
        prompt.text
    );
    let id = prompt.buttons[0][0].1.split(':').nth(1).unwrap().to_owned();
    let bob = world
        .tg
        .user_taps(&prompt, BOB.id, BOB.name, &format!("d:{id}:a"));
    let (answer, _) = world.tg.tap_answer(&bob).await;
    assert_eq!(answer, "Recorded: 1 of 2 approvals.");

    world.users_toml = Some(users(after));
    world.restart_bot().await;
    world
        .until_outbox_sent("the prompt delivered", Duration::from_secs(20))
        .await;
    let before = snapshot(&world).await;

    let dave = world
        .tg
        .user_taps(&prompt, DAVE.id, DAVE.name, &format!("d:{id}:a"));
    let (answer, alert) = world.tg.tap_answer(&dave).await;
    assert_eq!(
        (answer.as_str(), alert),
        (
            format!("Recorded, but {bob_name}'s approval no longer counts: 1 of 2 approvals.")
                .as_str(),
            false
        )
    );
    let edited = world
        .tg
        .wait_for_edit(TEAM_CHAT, prompt.message_id, "the prompt told")
        .await;
    assert!(
        edited.text.contains(&format!(
            "Approved by Dave. {bob_name}'s approval no longer counts"
        )) && edited
            .text
            .contains("1 of 2 approvals; 1 more needed from: senior."),
        "{}",
        edited.text
    );
    // Still open: the buttons stay; nothing was dispatched.
    assert_eq!(edited.buttons, prompt.buttons);
    assert!(world.gh.dispatches().is_empty());
    let after = snapshot(&world).await;
    assert_eq!(after.operations, before.operations, "nothing moved");
    assert_eq!(after.dispatches, before.dispatches);

    // A current senior's approval completes it.
    let erin = world
        .tg
        .user_taps(&edited, ERIN.id, ERIN.name, &format!("d:{id}:a"));
    let (answer, _) = world.tg.tap_answer(&erin).await;
    assert_eq!(answer, "Approved. Dispatching the Deploy workflow.");
    assert_eq!(world.gh.dispatches().len(), 1);
}

/// The reference a chat text quotes (`ref 1a2b3c4d`), if it quotes one.
fn reference_in(text: &str) -> Option<String> {
    let at = text.find("ref ")? + 4;
    let reference: String = text[at..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    (reference.len() >= 6).then_some(reference)
}

/// Nothing in a chat names the AWS account or an ARN.
fn assert_nothing_internal(text: &str) {
    assert!(
        !text.contains("123456789012") && !text.to_lowercase().contains("arn:"),
        "internal details in chat: {text}"
    );
}

#[tokio::test]
async fn an_ecs_error_naming_the_account_and_a_role_reaches_no_chat() {
    let proxy = crate::support::ecs_proxy::EcsProxy::start().await;
    let mut world = World::new().await;
    world.ecs_endpoint = Some(proxy.url.clone());
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.start_bot().await;
    world.verified_on_staging("1.3.0").await;
    // The bot's IAM role may no longer describe services: ECS's answer
    // names the caller's ARN and the account.
    proxy.deny("DescribeServices");
    let before = snapshot(&world).await;

    for command in ["/status prod", "/deploy prod 1.3.0 --dry-run"] {
        let answer = world.say(TEAM_CHAT, &BOB, command).await.text;
        assert_nothing_internal(&answer);
        assert!(
            answer.contains("AccessDeniedException (details in the bot's log, ref "),
            "{command}: {answer}"
        );
        let reference = reference_in(&answer).expect("a reference");
        let log = world.bot_log();
        assert!(
            log.lines().any(|line| line.contains(&reference)
                && line.contains("arn:aws:sts::123456789012:assumed-role/aletheia-bot")),
            "{command}: the log carries ref {reference} with the full error"
        );
    }
    let after = snapshot(&world).await;
    assert_eq!(after.operations, before.operations, "nothing moved");
    assert_eq!(after.dispatches, before.dispatches);
    assert_eq!(after.alerts, before.alerts);
}

#[tokio::test]
async fn a_store_error_under_a_tap_is_told_by_reference_only() {
    let cut = crate::support::tcp_cut::TcpCut::start("127.0.0.1:5432").await;
    let mut world = World::new().await;
    world.use_postgres_through(&cut).await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.start_bot().await;
    world.verified_on_staging("1.3.0").await;
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy prod 1.3.0").await;
    let id = prompt.buttons[0][0].1.split(':').nth(1).unwrap().to_owned();
    world
        .until_outbox_sent("the prompt delivered", Duration::from_secs(20))
        .await;
    let before = snapshot(&world).await;

    // The database drops off the network as Bob approves.
    cut.cut();
    let bob = world
        .tg
        .user_taps(&prompt, BOB.id, BOB.name, &format!("d:{id}:a"));
    let (answer, alert) = world.tg.tap_answer(&bob).await;
    assert!(alert, "{answer}");
    assert_nothing_internal(&answer);
    assert!(
        answer.starts_with("Something went wrong on my side (ref "),
        "{answer}"
    );
    let reference = reference_in(&answer).expect("a reference");
    let log = world.bot_log();
    assert!(
        log.lines()
            .any(|line| line.contains(&reference) && line.contains("tap: store")),
        "the log carries ref {reference} with the error"
    );
    cut.restore();
    let after = snapshot(&world).await;
    assert_eq!(after.operations, before.operations, "nothing moved");
    assert_eq!(after.approvals, before.approvals);
    assert!(world.gh.dispatches().is_empty());
}
