//! The test world is as strict as the real one: the fake Bot API refuses
//! what Telegram refuses, the fake GitHub what GitHub refuses, and a
//! scenario in which the bot was refused fails.

use serde_json::{Value, json};

use crate::support::github::{FakeGithub, TOKEN};
use crate::support::telegram::{FakeTelegram, TOKEN as TG_TOKEN};

#[tokio::test]
async fn fake_github_answers_unknown_routes_and_methods_as_github_does() {
    let gh = FakeGithub::start().await;
    let client = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str| {
        client
            .request(method, format!("{}{path}", gh.url()))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .header("User-Agent", "test")
            .send()
    };
    let not_found =
        json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"});
    for (method, path) in [
        (
            reqwest::Method::GET,
            "/repos/mindburn-labs/aletheia/no/such/route",
        ),
        (reqwest::Method::GET, "/nothing"),
        // A known route with a method it does not take.
        (
            reqwest::Method::DELETE,
            "/repos/mindburn-labs/aletheia/releases",
        ),
        (
            reqwest::Method::POST,
            "/repos/mindburn-labs/aletheia/actions/runs/1",
        ),
    ] {
        let response = call(method.clone(), path).await.unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, not_found, "{method} {path}");
    }
    // Each is noted, for the end of the scenario to fail on.
    assert_eq!(
        gh.take_unknown_routes(),
        [
            "GET /repos/mindburn-labs/aletheia/no/such/route",
            "GET /nothing",
            "DELETE /repos/mindburn-labs/aletheia/releases",
            "POST /repos/mindburn-labs/aletheia/actions/runs/1",
        ]
    );
}

/// Posts `body` to the fake's `method` as the bot would.
async fn call(tg: &FakeTelegram, method: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/bot{TG_TOKEN}/{method}", tg.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn fake_telegram_refuses_malformed_requests_and_fails_the_scenario() {
    let tg = FakeTelegram::start().await;
    let chat = -1001;
    let (status, answer) = call(
        &tg,
        "sendMessage",
        json!({"chat_id": chat, "text": "<b>v1.2.3</b> <br> done", "parse_mode": "HTML"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        answer,
        json!({"ok": false, "error_code": 400,
               "description": "Bad Request: can't parse entities: Unsupported start tag \"br\" at byte offset 14"})
    );
    let (status, _) = call(
        &tg,
        "sendMessage",
        json!({"chat_id": chat, "text": "x".repeat(4097)}),
    )
    .await;
    assert_eq!(status, 400);
    // Refused messages are not messages.
    assert!(tg.sent_to(chat).is_empty());
    // Editing a message that is not there is what tests provoke on purpose.
    let (status, _) = call(
        &tg,
        "editMessageText",
        json!({"chat_id": chat, "message_id": 1, "text": "x"}),
    )
    .await;
    assert_eq!(status, 400);
    let refusals: Vec<(u16, String, bool)> = tg
        .refusals()
        .into_iter()
        .map(|r| (r.status, r.description, r.malformed))
        .collect();
    assert_eq!(
        refusals,
        [
            (
                400,
                "Bad Request: can't parse entities: Unsupported start tag \"br\" at byte offset 14"
                    .to_owned(),
                true
            ),
            (400, "Bad Request: message is too long".to_owned(), true),
            (
                400,
                "Bad Request: message to edit not found".to_owned(),
                false
            ),
        ]
    );
    // The end of the scenario fails it.
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(tg)));
    let panic = dropped.expect_err("a scenario whose requests were refused fails");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("message is too long"), "{message}");
}

#[tokio::test]
async fn a_long_history_is_cut_to_one_message_telegram_takes() {
    use crate::support::{ALICE, BOB, TEAM_CHAT, World};
    let mut world = World::new().await;
    world.seed().await;
    world.start_bot().await;
    // Fifty deploys of builds that carry their commit in the version, as
    // GitHub's runs named them: about 6000 characters of history.
    let store = world.store().await;
    for n in 0..50 {
        let version = format!("1.4.{n}-rc.1+sha.3f9c2ab41d5e6f708192a3b4c5d6e7f809a1b2c3");
        store
            .record_succeeded_deploy(
                &aletheia_bot::domain::Env::parse("staging").unwrap(),
                &version,
                aletheia_bot::domain::UserId(ALICE.id),
            )
            .await
            .unwrap();
    }

    let history = world.say(TEAM_CHAT, &BOB, "/history staging 50").await;

    let shown = crate::support::telegram_html::parse_html(&history.text).unwrap();
    assert!(shown.encode_utf16().count() <= 4096, "{}", shown.len());
    assert!(
        shown.starts_with("📜 History · staging · last 50\n✅ #50 deploy 1.4.49-rc.1+sha."),
        "{shown}"
    );
    assert!(shown.ends_with('…'), "{shown}");
}

#[tokio::test]
async fn an_alert_about_a_huge_version_is_cut_and_still_edited_through_its_run() {
    use crate::support::github::{post_signed_webhook, workflow_run_event};
    use crate::support::{TEAM_CHAT, telegram_html::parse_html, world_with_release};
    let world = world_with_release().await;
    let shown = |html: &str| parse_html(html).unwrap().encode_utf16().count();

    // A run started outside the bot, whose version carries a build
    // metadata longer than a Telegram message.
    let build = "a".repeat(4100);
    let run = world
        .gh
        .start_run("deploy.yml", &format!("Deploy 1.3.0+b.{build} to dev ()"));
    post_signed_webhook(
        &world.bot_url(),
        "workflow_run",
        "w-1",
        &workflow_run_event("in_progress", &run),
    )
    .await;
    let started = world.tg.next_message(TEAM_CHAT).await;
    assert!(
        started
            .text
            .starts_with("🚀 <b>dev</b> · deploy of <b>1.3.0+b.aaaa"),
        "{}",
        &started.text[..100]
    );
    assert!(shown(&started.text) <= 4096);
    assert!(started.text.ends_with("…</b>"), "{}", &started.text[4000..]);

    // Its outcome edits it, cut the same way.
    world
        .finish_run(run["id"].as_u64().unwrap(), "failure", "w-2")
        .await;
    let failed = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("❌"))
        .await;
    assert_eq!(failed.message_id, started.message_id);
    assert!(shown(&failed.text) <= 4096);
    let more = world.tg.next_message(TEAM_CHAT).await;
    assert!(shown(&more.text) <= 4096, "{}", more.text);
}

#[tokio::test]
async fn a_tap_answer_quoting_a_long_lock_reason_fits_telegram_200() {
    use crate::support::{ALICE, BOB, CAROL, ONCALL_CHAT, TEAM_CHAT, world_with_release};
    let world = world_with_release().await;
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    // Bob locks staging with a reason of 150 emoji: 150 characters, 300
    // UTF-16 code units.
    let reason = "🔥".repeat(150);
    let locked = world
        .say(ONCALL_CHAT, &BOB, &format!("/lock staging {reason} 1h"))
        .await;
    assert_eq!(locked.text, "🔒 staging is locked; the team chat is told.");
    world.tg.next_message_starting(TEAM_CHAT, "🔒").await;

    let tap = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:1:a");
    let (answer, alert) = world.tg.tap_answer(&tap).await;

    assert!(alert);
    assert!(
        answer.starts_with("Approved, but not dispatched: staging was locked by Bob: 🔥🔥"),
        "{answer}"
    );
    assert!(answer.encode_utf16().count() <= 200, "{answer}");
    assert!(answer.ends_with('…'), "{answer}");
    assert!(world.gh.dispatches().is_empty());
}
