//! Scenario tests: the real bot, driven through the fake Telegram and
//! GitHub servers and moto's ECS, in the users' words.

use std::time::Duration;

use serde_json::json;

use crate::support::github::{self, post_signed_webhook, post_webhook, release_published};
use crate::support::telegram::Fault;
use crate::support::*;

#[tokio::test]
async fn alice_asks_status_and_reads_what_really_runs() {
    let mut world = World::new().await;
    world.seed().await;
    world.start_bot().await;

    world
        .tg
        .user_says(TEAM_CHAT, ALICE.id, ALICE.name, "/status");
    let answer = world.tg.next_message(TEAM_CHAT).await;

    assert_eq!(answer.parse_mode.as_deref(), Some("HTML"));
    assert!(
        answer.reply_to.is_some(),
        "the answer replies to Alice's message"
    );
    let text = answer.text;
    assert!(text.contains("📦 Latest release: <a href=\"https://github.com/mindburn-labs/aletheia/releases/tag/v1.2.3\">v1.2.3</a>"), "{text}");
    assert!(
        text.contains("✅ main CI: green (2 checks) · <code>3f9c2ab</code>"),
        "{text}"
    );
    // What runs comes from the service's task definition, not from the
    // newest registered revision: prod has 1.2.3 registered but runs 1.2.2.
    assert!(
        text.contains("<b>dev</b> ✅ <b>1.2.3</b>\n   2/2 tasks · rollout completed · since "),
        "{text}"
    );
    assert!(text.contains("<b>staging</b> ✅ <b>1.2.3</b>"), "{text}");
    assert!(
        text.contains("<b>prod</b> ✅ <b>1.2.2</b>\n   2/2 tasks"),
        "{text}"
    );
    world.tg.assert_all_read();

    let audit = world.store().await.recent_audit(10).await.unwrap();
    let last = audit.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.outcome.as_str()),
        ("command:/status", "answered")
    );
    assert_eq!(last.actor, Some(ALICE.id));
    assert_eq!(last.chat_id, Some(TEAM_CHAT));
}

#[tokio::test]
async fn status_of_one_env_addressed_to_the_bot_by_name() {
    let mut world = World::new().await;
    world.seed().await;
    world.start_bot().await;

    let text = world
        .say(TEAM_CHAT, &BOB, "/status@AletheiaTestBot prod")
        .await
        .text;
    assert!(text.contains("<b>prod</b> ✅ <b>1.2.2</b>"), "{text}");
    assert!(
        !text.contains("<b>dev</b>") && !text.contains("<b>staging</b>"),
        "{text}"
    );

    // A command addressed to another bot in the same group is not ours.
    world
        .tg
        .user_says(TEAM_CHAT, BOB.id, BOB.name, "/status@SomeOtherBot");
    let text = world.say(TEAM_CHAT, &BOB, "/status qa").await.text;
    assert_eq!(
        text,
        "❌ Unknown environment &quot;qa&quot;. Known: dev, staging, prod.\nUsage: /status [env]"
    );
}

#[tokio::test]
async fn a_broken_source_is_one_line_not_a_failed_command() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.fail("/repos/mindburn-labs/aletheia/releases", 502);
    // staging's service was deleted (ECS shows it INACTIVE for a while).
    world
        .ecs
        .delete_service()
        .cluster(world.cluster("staging"))
        .service("aletheia-api")
        .force(true)
        .send()
        .await
        .unwrap();
    world.start_bot().await;

    let text = world.say(TEAM_CHAT, &ALICE, "/status").await.text;
    assert!(
        text.contains("⚠️ Latest release: GitHub error: GitHub answered 502"),
        "{text}"
    );
    assert!(text.contains("✅ main CI: green"), "{text}");
    assert!(text.contains("<b>dev</b> ✅ <b>1.2.3</b>"), "{text}");
    assert!(
        text.contains(&format!(
            "<b>staging</b> ⚠️ ECS error: service aletheia-api in cluster {} is inactive (deleted)",
            world.cluster("staging")
        )),
        "{text}"
    );
    assert!(text.contains("<b>prod</b> ✅ <b>1.2.2</b>"), "{text}");
}

#[tokio::test]
async fn whoami_tells_members_and_strangers_their_id() {
    let mut world = World::new().await;
    world.start_bot().await;

    let text = world.say(BOB.id, &BOB, "/whoami").await.text;
    assert_eq!(
        text,
        "👤 Bob\nTelegram id: <code>100000002</code>\nKnown as Bob; roles: senior, developer"
    );

    // A newcomer learns the line a senior must add for them.
    let text = world.say(MALLORY.id, &MALLORY, "/whoami").await.text;
    assert_eq!(
        text,
        "👤 Mallory\nTelegram id: <code>666000666</code>\nNot in bot.toml. To be let in, ask a senior to add to [[users]]:\n<code>id = 666000666</code>"
    );

    // In a group it also names the chat, for [[chats]].
    let text = world.say(STRANGER_CHAT, &ALICE, "/whoami").await.text;
    assert!(
        text.ends_with("This chat: <code>-1009999999999</code> (not configured)"),
        "{text}"
    );
}

#[tokio::test]
async fn help_and_the_command_menu() {
    let mut world = World::new().await;
    world.start_bot().await;

    let menu = world.tg.wait_for_call("setMyCommands").await;
    let names: Vec<&str> = menu.body["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "status", "release", "deploy", "rollback", "cancel", "lock", "unlock", "mute",
            "unmute", "diagnose", "secrets", "stats", "history", "whoami", "help"
        ]
    );

    let text = world.say(TEAM_CHAT, &CAROL, "/help").await.text;
    assert!(
        text.contains("<code>/status [env]</code> — What runs where"),
        "{text}"
    );
    assert!(text.contains("<code>/whoami</code>"), "{text}");
}

#[tokio::test]
async fn strangers_and_their_chats_are_refused_and_audited() {
    let mut world = World::new().await;
    world.seed().await;
    world.start_bot().await;

    // Bob is a senior, but this group is not one of the bot's chats.
    let text = world.say(STRANGER_CHAT, &BOB, "/status").await.text;
    assert_eq!(
        text,
        "⛔ This chat (id -1009999999999) is not allowed to use this bot. Ask a senior to add it to [[chats]] in bot.toml."
    );
    // Mallory is in the team chat but not in [[users]].
    let text = world.say(TEAM_CHAT, &MALLORY, "/status").await.text;
    assert!(
        text.starts_with(
            "⛔ You are not on this bot's list of users. Your Telegram id is 666000666"
        ),
        "{text}"
    );
    // Nor may she learn the usage of commands by getting them wrong; and
    // having been told once this hour, she is not told again (nor is it
    // audited again: only counted).
    world
        .tg
        .user_says(TEAM_CHAT, MALLORY.id, MALLORY.name, "/deploy prod 1.2");
    let store = world.store().await;
    eventually(
        Duration::from_secs(30),
        "her second command counted",
        || async { store.stranger_quiet((TEAM_CHAT, MALLORY.id)).await.unwrap() == Some(1) },
    )
    .await;
    // Nor may she use the bot in private.
    let text = world.say(MALLORY.id, &MALLORY, "/status").await.text;
    assert!(
        text.starts_with("⛔ You are not on this bot's list of users."),
        "{text}"
    );
    world.tg.assert_all_read();

    // Nothing was asked of ECS or GitHub on their behalf.
    assert!(world.gh.requests().is_empty(), "{:?}", world.gh.requests());

    let audit = world.store().await.recent_audit(10).await.unwrap();
    let outcomes: Vec<(Option<i64>, &str, &str)> = audit
        .iter()
        .map(|a| (a.actor, a.action.as_str(), a.outcome.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (Some(BOB.id), "command:/status", "refused:chat_not_allowed"),
            (Some(MALLORY.id), "command:/status", "refused:unknown_user"),
            (Some(MALLORY.id), "command:/status", "refused:unknown_user"),
        ]
    );
}

#[tokio::test]
async fn malformed_commands_get_usage_and_change_nothing() {
    let mut world = World::new().await;
    world.start_bot().await;

    let cases = [
        (
            "/frobnicate",
            "❌ Unknown command /frobnicate. /help lists what I can do.",
        ),
        (
            "/status prod now",
            "❌ Too many arguments.\nUsage: /status [env]",
        ),
        (
            "/deploy prod 1.2",
            "❌ &quot;1.2&quot; is not a version: expected MAJOR.MINOR.PATCH, e.g. 1.2.3.\nUsage: /deploy [&lt;env&gt; [&lt;version&gt;]] [--dry-run]",
        ),
        (
            "/release 1.3.0 huge",
            "❌ &quot;huge&quot; is not a release type (patch, minor or major).\nUsage: /release [&lt;version&gt; &lt;patch|minor|major&gt;] [--dry-run]",
        ),
    ];
    for (typed, expected) in cases {
        let answer = world.say(TEAM_CHAT, &ALICE, typed).await;
        assert_eq!(answer.text, expected, "{typed}");
    }
    world.tg.assert_all_read();
    assert!(world.gh.dispatches().is_empty());
}

#[tokio::test]
async fn forged_and_replayed_webhooks_are_refused_and_a_real_one_alerts_the_team() {
    let mut world = World::new().await;
    world.start_bot().await;
    let url = world.bot_url();
    let payload = release_published(7, "v1.3.0");

    // No signature, a wrong secret, a signature of another body.
    let unsigned = post_webhook(&url, "release", "d-1", &payload, None).await;
    assert_eq!(unsigned.status(), 401);
    let body = serde_json::to_vec(&payload).unwrap();
    let forged = post_webhook(
        &url,
        "release",
        "d-1",
        &payload,
        Some(github::signature("guess", &body)),
    )
    .await;
    assert_eq!(forged.status(), 401);
    let other = post_webhook(
        &url,
        "release",
        "d-1",
        &payload,
        Some(github::signature(github::WEBHOOK_SECRET, b"{}")),
    )
    .await;
    assert_eq!(other.status(), 401);
    let store = world.store().await;
    assert_eq!(
        store.delivery_count().await.unwrap(),
        0,
        "nothing stored from a forgery"
    );
    assert!(store.all_alerts().await.unwrap().is_empty());

    // The real delivery: stored, and the team chat (only) hears of it.
    let real = post_signed_webhook(&url, "release", "d-1", &payload).await;
    assert_eq!(real.status(), 202);
    let alert = world.tg.next_message(TEAM_CHAT).await;
    assert_eq!(alert.thread_id, None);
    assert_eq!(alert.reply_to, None);
    assert_eq!(
        alert.text,
        "📦 <b>Release v1.3.0</b> created by github-actions[bot]\n\
         <a href=\"https://github.com/mindburn-labs/aletheia/releases/tag/v1.3.0\">Release notes and changelog</a>"
    );

    // The on-call chat takes failures and health only.
    assert!(world.tg.sent_to(ONCALL_CHAT).is_empty());

    // Replayed, byte for byte: accepted as a duplicate, changes nothing.
    let replay = post_signed_webhook(&url, "release", "d-1", &payload).await;
    assert_eq!(replay.status(), 200);
    assert_eq!(store.delivery_count().await.unwrap(), 1);
    assert_eq!(store.all_alerts().await.unwrap().len(), 1);

    // Signed garbage is refused without being stored.
    let garbage = post_webhook(
        &url,
        "release",
        "d-2",
        &json!("not an object"),
        Some(github::signature(
            github::WEBHOOK_SECRET,
            b"\"not an object\"",
        )),
    )
    .await;
    assert_eq!(garbage.status(), 400);
    assert_eq!(store.delivery_count().await.unwrap(), 1);

    let metrics = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The three whose signature did not hold are counted as `other`: the
    // name a sender gives an event counts only once it is signed.
    assert!(
        metrics.contains(r#"aletheia_webhook_events_total{event="other",outcome="rejected"} 3"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"aletheia_webhook_events_total{event="release",outcome="rejected"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"aletheia_webhook_events_total{event="release",outcome="accepted"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"aletheia_webhook_events_total{event="release",outcome="duplicate"} 1"#),
        "{metrics}"
    );
    eventually(
        Duration::from_secs(10),
        "the delivered alert in /metrics",
        || async {
            reqwest::get(format!("{url}/metrics"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
                .contains(r#"aletheia_alerts_total{outcome="delivered"} 1"#)
        },
    )
    .await;
}

#[tokio::test]
async fn an_alert_survives_telegram_failing_and_is_posted_once() {
    let mut world = World::new().await;
    world.start_bot().await;
    // A broken proxy answer, a 5xx (teloxide itself pauses 10 s after
    // one), then Telegram's flood control.
    world.tg.fail_next("sendMessage", 1, Fault::Garbage);
    world.tg.fail_next("sendMessage", 1, Fault::ServerError);
    world.tg.fail_next("sendMessage", 1, Fault::RetryAfter(1));

    let real = post_signed_webhook(
        &world.bot_url(),
        "release",
        "d-9",
        &release_published(9, "v1.4.0"),
    )
    .await;
    assert_eq!(real.status(), 202);

    let alert = world.tg.next_message(TEAM_CHAT).await;
    assert!(
        alert.text.starts_with("📦 <b>Release v1.4.0</b>"),
        "{}",
        alert.text
    );
    assert_eq!(
        world.tg.calls("sendMessage").len(),
        4,
        "two failures, one 429, one success"
    );
    assert_eq!(
        world.tg.rate_limited(),
        0,
        "the bot kept within Telegram's limits"
    );
    let store = world.store().await;
    eventually(
        Duration::from_secs(10),
        "the outbox row marked sent",
        || async { store.all_alerts().await.unwrap()[0].state == "sent" },
    )
    .await;
    let row = &store.all_alerts().await.unwrap()[0];
    // The 429 is waited out as Telegram asks: it costs no attempt.
    assert_eq!(row.attempts, 3, "two failed attempts and the good one");
    assert_eq!(row.message_id, Some(alert.message_id));
}

#[tokio::test]
async fn stats_tell_the_delivery_figures_and_metrics_carry_them() {
    let mut world = World::new().await;
    world.seed().await;
    world.monitor_interval = "100ms";
    world.start_bot().await;
    let store = world.store().await;
    for version in ["1.2.2", "1.2.3"] {
        store
            .record_succeeded_deploy(
                &aletheia_bot::domain::Env::parse("prod").unwrap(),
                version,
                aletheia_bot::domain::UserId(BOB.id),
            )
            .await
            .unwrap();
    }
    let text = world.say(TEAM_CHAT, &ALICE, "/stats 7").await.text;
    assert_eq!(
        text,
        "📈 <b>Delivery</b> · prod · last 7 days\n\
         Deployment frequency: 2 deploys (2.0 a week)\n\
         Lead time, release → prod: none in 7 days\n\
         Change failure rate: 0% (0 of 2 deploys)\n\
         Time to restore: none in 7 days"
    );
    let text = world.say(TEAM_CHAT, &ALICE, "/stats 0").await.text;
    assert_eq!(
        text,
        "❌ Say a number of days from 1 to 365.\nUsage: /stats [days]"
    );
    let metrics = format!("{}/metrics", world.bot_url());
    eventually(Duration::from_secs(30), "the DORA gauges", || async {
        reqwest::get(&metrics)
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("aletheia_dora_change_failure_ratio 0.0")
    })
    .await;
    let body = reqwest::get(&metrics).await.unwrap().text().await.unwrap();
    assert!(
        body.contains("aletheia_dora_deploys_per_week 0.4666666666666667"),
        "{body}"
    );
    assert!(
        body.contains(r#"aletheia_operations{kind="deploy",state="succeeded"} 2"#),
        "{body}"
    );
}

#[tokio::test]
async fn no_secret_reaches_the_log_even_at_trace_level() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.log_filter = Some("trace");
    world.start_bot().await;
    // A command, a dispatch with its alert, a signed webhook, a tap.
    world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    let tap = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:2:r");
    world.tg.tap_answer(&tap).await;
    world.finish_run(9001, "failure", "w-1").await;
    world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("❌"))
        .await;
    world.tg.next_message(TEAM_CHAT).await;
    let log = world.bot_log();
    assert!(log.lines().count() > 100, "a trace log was written");
    for secret in [
        telegram::TOKEN,
        github::TOKEN,
        github::WEBHOOK_SECRET,
        telegram::WEBHOOK_SECRET,
        // The token's secret half alone, as a URL might carry it.
        telegram::TOKEN.split(':').nth(1).unwrap(),
    ] {
        assert!(!log.contains(secret), "{secret:?} is in the bot's log");
    }
}
