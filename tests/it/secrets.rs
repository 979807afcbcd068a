//! The process's rotation schedule for keys (`[security]`): `/secrets`
//! lists how old each GitHub Actions secret is, to the roles allowed; the
//! weekly reminder names the overdue ones once; a token without the read
//! permission is told in one line.

use std::time::Duration;

use crate::support::*;

/// Due from Monday 00:00 UTC: whenever the test runs, the week's reminder
/// is due at once.
const DUE_NOW: &str = "
[security]
rotate_every = \"90days\"
roles = [\"senior\"]
remind_weekday = \"mon\"
remind_hour = 0
";

fn reminder_of(lines: &[&str]) -> String {
    format!(
        "🔑 <b>Rotation due</b>: {} older than 90 days:\n{}\nRotate them in GitHub; /secrets shows the ages.",
        if lines.len() == 1 {
            "1 secret is".to_owned()
        } else {
            format!("{} secrets are", lines.len())
        },
        lines.join("\n")
    )
}

#[tokio::test]
async fn seniors_read_the_secrets_ages_and_the_overdue_are_recalled_once_a_week() {
    let mut world = World::new().await;
    world.security_toml = DUE_NOW;
    world.gh.add_repo_secret("NPM_TOKEN", 10);
    world
        .gh
        .add_env_secret("prod", "AWS_SECRET_ACCESS_KEY", 120);
    world.start_bot().await;

    // The week's reminder goes to the team chat (the first of [[chats]]),
    // naming the overdue secret only.
    let reminder = world.tg.next_message(TEAM_CHAT).await.text;
    assert_eq!(
        reminder,
        reminder_of(&["<code>AWS_SECRET_ACCESS_KEY</code> · prod · 120 days"])
    );

    // Bob (senior) asks in the team chat, and in private.
    let listing = "🔑 <b>Actions secrets</b> · rotate every 90 days · ⚠️ 1 overdue\n\
                   Age since last update, oldest first:\n\
                   ⚠️ <code>AWS_SECRET_ACCESS_KEY</code> · prod · 120 days\n\
                   <code>NPM_TOKEN</code> · repository · 10 days\n\n\
                   No GitHub environment named dev, staging: no secrets of its own.";
    assert_eq!(world.say(TEAM_CHAT, &BOB, "/secrets").await.text, listing);
    assert_eq!(world.say(BOB.id, &BOB, "/secrets").await.text, listing);
    // Alice (developer) may not; Mallory is nobody.
    assert_eq!(
        world.say(TEAM_CHAT, &ALICE, "/secrets").await.text,
        "⛔ Reading the secrets' ages is for: senior. You hold none of these roles."
    );
    let stranger = world.say(TEAM_CHAT, &MALLORY, "/secrets").await.text;
    assert!(
        stranger.contains("not on this bot's list of users"),
        "{stranger}"
    );
    // Only the listings were read (GitHub's secrets endpoints give no
    // value to read), each a whole page of 100.
    let reads: Vec<String> = world
        .gh
        .requests()
        .into_iter()
        .filter(|r| r.contains("secrets"))
        .collect();
    assert!(
        reads
            .iter()
            .all(|r| r.ends_with("/secrets?per_page=100&page=1")),
        "{reads:?}"
    );

    // Restarted the same week: the reminder is out already, not sent again
    // (the scenario's end finds no unread message).
    world.restart_bot().await;
    eventually(
        Duration::from_secs(30),
        "the restarted bot to find this week's reminder sent",
        || async { world.bot_log().contains("this week's is out already") },
    )
    .await;
    let audit = world.store().await.recent_audit(50).await.unwrap();
    let asked: Vec<(&str, &str)> = audit
        .iter()
        .filter(|a| a.action == "command:/secrets")
        .map(|a| (a.action.as_str(), a.outcome.as_str()))
        .collect();
    assert_eq!(asked.len(), 4, "{asked:?}");
}

#[tokio::test]
async fn a_token_without_the_read_permission_is_told_in_one_line() {
    let mut world = World::new().await;
    world.security_toml = DUE_NOW;
    world
        .gh
        .add_env_secret("prod", "AWS_SECRET_ACCESS_KEY", 120);
    world.gh.forbid_secrets();
    world.start_bot().await;

    assert_eq!(
        world.say(TEAM_CHAT, &DAVE, "/secrets").await.text,
        "⛔ GitHub refused to list the secrets: the bot's token needs the repository \
         permission \"Secrets\" (read)."
    );
    // The reminder could not read them either: it says so in the log, not
    // in the chat, and tries again later.
    eventually(
        Duration::from_secs(30),
        "the reminder to meet GitHub's refusal",
        || async {
            world
                .bot_log()
                .contains("rotation reminder: GitHub refused the secrets' listing (403)")
        },
    )
    .await;

    // Granted, with more secrets than a page holds: all are read, page by
    // page, and the answer fits one message, counting what it leaves out.
    world.gh.allow_secrets();
    for i in 0..150 {
        world
            .gh
            .add_repo_secret(&format!("SERVICE_{i:03}_KEY"), 200 - i);
    }
    world.restart_bot().await;
    let reminder = world.tg.next_message(TEAM_CHAT).await.text;
    assert!(
        reminder.starts_with("🔑 <b>Rotation due</b>: 112 secrets are older than 90 days:\n"),
        "{reminder}"
    );
    let listing = world.say(TEAM_CHAT, &DAVE, "/secrets").await.text;
    assert!(listing.encode_utf16().count() <= 4096, "{}", listing.len());
    let shown = listing.matches("<code>").count();
    assert!(
        listing.contains(&format!("\n… and {} more", 151 - shown)),
        "{listing}"
    );
    assert!(
        listing.starts_with(
            "🔑 <b>Actions secrets</b> · rotate every 90 days · ⚠️ 112 overdue\n\
             Age since last update, oldest first:\n\
             ⚠️ <code>SERVICE_000_KEY</code> · repository · 200 days\n"
        ),
        "{listing}"
    );
    let pages = world
        .gh
        .requests()
        .into_iter()
        .filter(|r| r.contains("/actions/secrets?per_page=100&page=2"))
        .count();
    assert!(pages >= 1, "the second page was read");
}
