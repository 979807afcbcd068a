//! The edge the config and the bot's own failures leave open.
//! Approvals follow the config as it is now (a removed approver's word
//! lapses), and nothing internal (account ids, role ARNs, store errors)
//! reaches a chat: a short reference does, the log carries the rest.

use std::time::Duration;

use super::*;
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
        .edited(TEAM_CHAT, Some(prompt.message_id), |_| true)
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

/// `aletheia-bot check` on a config text of our own.
pub(super) async fn check(world: &World, name: &str, config: &str) -> std::process::Output {
    let path = world.dir.path().join(format!("{name}.toml"));
    std::fs::write(&path, config).unwrap();
    tokio::process::Command::new(env!("CARGO_BIN_EXE_aletheia-bot"))
        .arg("--config")
        .arg(&path)
        .arg("check")
        .env_clear()
        .env("HOME", world.dir.path())
        .env("RUST_LOG", "warn")
        .env("TELEGRAM_BOT_TOKEN", telegram::TOKEN)
        .env("GITHUB_TOKEN", github::TOKEN)
        .env("GITHUB_WEBHOOK_SECRET", github::WEBHOOK_SECRET)
        .env("DATABASE_URL", world.database_url())
        .output()
        .await
        .unwrap()
}

pub(super) fn config_cases(base: &str) -> Vec<Case> {
    [shape_cases(base), limit_cases(base)]
        .into_iter()
        .flatten()
        .collect()
}

/// Files that are not TOML, carry secrets, or ask for approvals that
/// cannot be met.
fn shape_cases(base: &str) -> Vec<Case> {
    let check = |config: String| Input::Check { config };
    let replace = |from: &str, to: &str| {
        assert!(base.contains(from), "{from}");
        check(base.replacen(from, to, 1))
    };
    vec![
        case(
            "TOML syntax error",
            check(format!("{base}\n[github\n")),
            Expect::Refused("(syntax): unclosed table"),
        ),
        case(
            "empty file",
            check(String::new()),
            Expect::Refused("missing field"),
        ),
        case(
            "unknown key",
            replace(
                "poll_timeout_secs = 1",
                "poll_timeout_secs = 1\nevil = true",
            ),
            Expect::Refused("telegram.evil: unknown field `evil`"),
        ),
        case(
            "wrong type",
            replace("poll_timeout_secs = 1", "poll_timeout_secs = \"soon\""),
            Expect::Refused("telegram.poll_timeout_secs"),
        ),
        case(
            "a token in the file",
            replace(
                "poll_timeout_secs = 1",
                "poll_timeout_secs = 1\ntoken = \"123456:TEST-telegram-token\"",
            ),
            Expect::Refused("telegram.token: unknown field `token`"),
        ),
        case(
            "requires_verified_in an unknown env",
            replace(
                "requires_verified_in = \"staging\"",
                "requires_verified_in = \"qa-land\"",
            ),
            Expect::Refused(
                "environments.prod.approval.requires_verified_in: unknown environment \"qa-land\"",
            ),
        ),
        case(
            "requires_verified_in itself",
            replace(
                "requires_verified_in = \"staging\"",
                "requires_verified_in = \"prod\"",
            ),
            Expect::Refused("environments.prod.approval.requires_verified_in"),
        ),
        case(
            "negative approvals",
            replace(
                "approvers = [\"senior\"]\napprovals = 1",
                "approvers = [\"senior\"]\napprovals = -1",
            ),
            Expect::Refused("environments.prod.approval.approvals"),
        ),
        case(
            "huge approvals",
            replace(
                "approvers = [\"senior\"]\napprovals = 1",
                "approvers = [\"senior\"]\napprovals = 99999999999",
            ),
            Expect::Refused("environments.prod.approval.approvals"),
        ),
        case(
            "more approvals than seniors",
            replace(
                "approvers = [\"senior\"]\napprovals = 1",
                "approvers = [\"senior\"]\napprovals = 3",
            ),
            Expect::Refused("environments.prod.approval.approvals"),
        ),
        case(
            "approvals with no approvers",
            replace(
                "approvers = [\"qa\"]\napprovals = 1",
                "approvers = []\napprovals = 1",
            ),
            Expect::Refused("environments.staging.approval.approvers"),
        ),
    ]
}

/// Duplicates, sizes and times out of bounds, routes to nothing.
fn limit_cases(base: &str) -> Vec<Case> {
    let check = |config: String| Input::Check { config };
    let replace = |from: &str, to: &str| {
        assert!(base.contains(from), "{from}");
        check(base.replacen(from, to, 1))
    };
    let duplicate_chat = format!("{base}\n[[chats]]\nid = -1001000000001\nname = \"again\"\n");
    let duplicate_user =
        format!("{base}\n[[users]]\nid = 100000002\nname = \"Bob2\"\nroles = [\"qa\"]\n");
    let megabyte = "a".repeat(1024 * 1024);
    vec![
        case(
            "duplicate chat ids",
            check(duplicate_chat),
            Expect::Refused("chat id -1001000000001 is listed twice"),
        ),
        case(
            "duplicate user ids",
            check(duplicate_user),
            Expect::Refused("user id 100000002 is listed twice"),
        ),
        case(
            "negative user id",
            replace("id = 100000005", "id = -100000005"),
            Expect::Refused("is not a Telegram user id"),
        ),
        case(
            "a 1 MB workflow file name",
            replace(
                "file = \"release.yml\"",
                &format!("file = \"{megabyte}.yml\""),
            ),
            Expect::Refused("github.workflows.release.file"),
        ),
        case(
            "a duration of forever",
            replace("confirm_within = \"30s\"", "confirm_within = \"forever\""),
            Expect::Refused("aws.confirm_within"),
        ),
        case(
            "a monitor that never rests",
            replace("\ninterval = \"1h\"", "\ninterval = \"0s\""),
            Expect::Refused("monitor.interval: must not be zero"),
        ),
        case(
            "GitHub polled a thousand times a second",
            replace("poll_interval = \"1h\"", "poll_interval = \"1ms\""),
            Expect::Refused("github.poll_interval: must be at least 100ms"),
        ),
        case(
            "a wait of a hundred years",
            replace("confirm_within = \"30s\"", "confirm_within = \"100years\""),
            Expect::Refused("aws.confirm_within: must be at most 30 days"),
        ),
        case(
            "a header timeout of zero",
            replace("[server]", "[server]\nheader_timeout = \"0s\""),
            Expect::Refused("server.header_timeout: must not be zero"),
        ),
        case(
            "an approval that never expires",
            replace("expiry = \"30m\"", "expiry = \"18446744073709551615s\""),
            Expect::Refused("environments.staging.approval.expiry"),
        ),
        case(
            "a chat routed to an unknown env",
            replace("envs = [\"prod\"]", "envs = [\"pr\u{43e}d\"]"),
            Expect::Refused("chats[1].envs"),
        ),
        case(
            "mention of someone not a user",
            replace(
                "envs = [\"prod\"]",
                "envs = [\"prod\"]\nmention_on_failure = [666000666]",
            ),
            Expect::Refused("chats[1].mention_on_failure"),
        ),
        case(
            "a role nobody holds",
            replace("approvers = [\"senior\"]", "approvers = [\"admin\"]"),
            Expect::Refused("no user holds the role \"admin\""),
        ),
        case(
            "the same key twice",
            replace(
                "poll_timeout_secs = 1",
                "poll_timeout_secs = 1\npoll_timeout_secs = 2",
            ),
            Expect::Refused("(syntax): duplicate key"),
        ),
    ]
}
