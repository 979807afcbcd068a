use super::*;

fn config() -> Config {
    Config::parse(include_str!("../../bot.toml"), "bot.toml").unwrap()
}

fn release() -> Event {
    Event::ReleasePublished {
        release_id: 42,
        tag: "v1.3.0".into(),
        name: Some("Aletheia 1.3.0 <beta>".into()),
        url: "https://github.com/mindburn-labs/aletheia/releases/tag/v1.3.0".into(),
        author: Some("github-actions[bot]".into()),
    }
}

#[test]
fn release_alert_text() {
    insta::assert_snapshot!(render(&release()).text);
}

#[test]
fn routes_by_kind() {
    let alerts = route(&config(), &render(&release()));
    let chats: Vec<i64> = alerts.iter().map(|a| a.chat.0).collect();
    // Only the team chat takes release alerts.
    assert_eq!(chats, [-1001000000001]);
    assert_eq!(alerts[0].dedup_key, "release:42@-1001000000001");
}

#[test]
fn routes_by_environment() {
    let rendered = Rendered {
        kind: AlertKind::Failure,
        env: Some(Env::parse("staging").unwrap()),
        key: "x".into(),
        text: "t".into(),
    };
    let chats: Vec<i64> = route(&config(), &rendered)
        .iter()
        .map(|a| a.chat.0)
        .collect();
    // The on-call chat takes failures of prod only.
    assert_eq!(chats, [-1001000000001]);
    let rendered = Rendered {
        env: Some(Env::parse("prod").unwrap()),
        ..rendered
    };
    let chats: Vec<i64> = route(&config(), &rendered)
        .iter()
        .map(|a| a.chat.0)
        .collect();
    assert_eq!(chats, [-1001000000001, -1001000000002]);
}

#[test]
fn failures_mention_the_on_call_users_of_the_chat_only() {
    let rendered = Rendered {
        kind: AlertKind::Failure,
        env: Some(Env::parse("prod").unwrap()),
        key: "x".into(),
        text: "❌ prod failed".into(),
    };
    let alerts = route(&config(), &rendered);
    assert_eq!(
        alerts[0].text, "❌ prod failed",
        "the team chat names nobody"
    );
    assert_eq!(
        alerts[1].text,
        "❌ prod failed\n🔔 <a href=\"tg://user?id=100000004\">Dan</a>"
    );
    let health = Rendered {
        kind: AlertKind::Health,
        ..rendered
    };
    assert!(
        route(&config(), &health)
            .iter()
            .all(|a| !a.text.contains("tg://"))
    );
}
