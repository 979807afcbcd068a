use super::*;
use crate::domain::{OpStep, OperationId};

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
        checklist: Vec::new(),
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
        key: AlertKey::release(1),
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
        key: AlertKey::release(1),
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
    // Prod's health rings the on-call too; another environment's does not.
    let health = Rendered {
        kind: AlertKind::Health,
        text: "🔴 <b>prod</b> · health check failing 3 times in a row: https://aletheia.example.com/healthz answered 503".into(),
        ..rendered
    };
    let alerts = route(&config(), &health);
    assert!(
        !alerts[0].text.contains("tg://"),
        "the team chat names nobody"
    );
    insta::assert_snapshot!("prod_health_on_call", alerts[1].text);
    let mut everywhere = config();
    everywhere.chats[1].envs = None;
    let staging = Rendered {
        env: Some(Env::parse("staging").unwrap()),
        ..health
    };
    assert!(
        route(&everywhere, &staging)
            .iter()
            .all(|a| !a.text.contains("tg://"))
    );
}

#[test]
fn break_glass_and_direct_rollbacks_mention_the_on_call_as_a_rollback_too() {
    // The on-call chat takes rollbacks as well as failures: it gets the
    // alert once, as a rollback, and it rings all the same.
    let alerts = route_kinds(
        &config(),
        &[AlertKind::Rollback, AlertKind::Failure],
        Some(&Env::parse("prod").unwrap()),
        &AlertKey::op(OperationId(7), OpStep::BreakGlass),
        "🚨 <b>BREAK-GLASS</b>: Bob rolls <b>prod</b> back from 1.3.0 to <b>1.2.2</b>",
    );
    assert_eq!(alerts.len(), 2);
    assert_eq!(alerts[1].kind, AlertKind::Rollback);
    insta::assert_snapshot!("break_glass_on_call", alerts[1].text);
    assert!(!alerts[0].text.contains("tg://"));
    // A plain rollback does not ring.
    let plain = route_kinds(
        &config(),
        &[AlertKind::Rollback],
        Some(&Env::parse("prod").unwrap()),
        &AlertKey::op(OperationId(8), OpStep::Succeeded),
        "⏪ prod rolled back",
    );
    assert!(plain.iter().all(|a| !a.text.contains("tg://")));
}

#[test]
fn release_alert_lists_the_checklist_ticks() {
    let Event::ReleasePublished {
        release_id,
        tag,
        name,
        url,
        author,
        ..
    } = release();
    let event = Event::ReleasePublished {
        release_id,
        tag,
        name,
        url,
        author,
        checklist: vec![
            ("Documentation updated".into(), "Alice".into()),
            ("Dependencies reviewed".into(), "Alice".into()),
        ],
    };
    insta::assert_snapshot!(render(&event).text);
}
