//! bot.toml changed while the bot runs: SIGHUP (or `aletheia-bot reload`)
//! puts a valid file in force at once, refuses an invalid one with the
//! key's path and keeps the config in force, and a pending approval is
//! judged under the config in force when it is decided.

use std::time::Duration;

use aletheia_bot::store::AuditRow;

use crate::support::*;

const ERIN: Person = Person {
    id: 100000006,
    name: "Erin",
};

/// The default `[contacts]` and `[[users]]`, with `more` users after them.
fn users_with(more: &str) -> String {
    format!("\n[contacts]\ntechnical_lead = 100000002\ndevops = 100000004\n{USERS_TOML}{more}")
}

/// Waits until the audit log has `n` reloads (done or refused); returns them.
async fn reloads(world: &World, n: usize) -> Vec<AuditRow> {
    let store = world.store().await;
    let all = || async {
        let rows = store.recent_audit(500).await.unwrap();
        rows.into_iter()
            .filter(|r| r.action == "config:reload")
            .collect::<Vec<_>>()
    };
    eventually(
        Duration::from_secs(20),
        "the reload's audit line",
        || async { all().await.len() >= n },
    )
    .await;
    all().await
}

#[tokio::test]
async fn a_user_added_to_bot_toml_is_answered_after_a_reload() {
    let mut world = World::new().await;
    world.start_bot().await;

    let refused = world.say(TEAM_CHAT, &ERIN, "/status").await.text;
    assert!(
        refused.starts_with("⛔ You are not on this bot's list of users."),
        "{refused}"
    );

    world.users_toml = Some(users_with(
        "\n[[users]]\nid = 100000006\nname = \"Erin\"\nroles = [\"developer\"]\n",
    ));
    world.write_config();
    let out = world.cli(&["reload"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = reloads(&world, 1).await;
    assert_eq!(
        (rows[0].outcome.as_str(), rows[0].detail.as_str()),
        ("reloaded", "SIGHUP: users added: Erin")
    );

    let answer = world.say(TEAM_CHAT, &ERIN, "/whoami").await.text;
    assert!(
        answer.contains("\nKnown as Erin; roles: developer\n"),
        "{answer}"
    );
    // Still the same process: reloaded, not restarted.
    assert!(world.bot_log().contains("config reloaded"));
}

#[tokio::test]
async fn an_invalid_bot_toml_is_refused_and_the_config_in_force_stays() {
    let mut world = World::new().await;
    world.start_bot().await;

    // Alice would become QA too, but prod's approvers name a role nobody
    // holds: the whole file is refused.
    world.users_toml = Some(users_with("").replacen(
        "name = \"Alice\"\nroles = [\"developer\"]",
        "name = \"Alice\"\nroles = [\"developer\", \"qa\"]",
        1,
    ));
    world.prod_approval_toml = Some("approvers = [\"sre\"]\napprovals = 1\n");
    world.write_config();
    world.hang_up_bot();
    let rows = reloads(&world, 1).await;
    assert_eq!(rows[0].outcome, "refused");
    assert!(
        rows[0]
            .detail
            .contains("environments.prod.approval.approvers: no user holds the role \"sre\""),
        "{}",
        rows[0].detail
    );
    let log = world.bot_log();
    assert!(
        log.contains("config reload refused")
            && log.contains("environments.prod.approval.approvers"),
        "{log}"
    );
    let answer = world.say(TEAM_CHAT, &ALICE, "/whoami").await.text;
    assert!(
        answer.contains("\nKnown as Alice; roles: developer\n"),
        "{answer}"
    );

    // A key the schema does not know is refused with its path too.
    world.prod_approval_toml = None;
    world.write_config();
    let text = std::fs::read_to_string(world.config_path())
        .unwrap()
        .replacen("[monitor]\n", "[monitor]\nintervall = \"1m\"\n", 1);
    std::fs::write(world.config_path(), text).unwrap();
    world.hang_up_bot();
    let rows = reloads(&world, 2).await;
    assert_eq!(rows[1].outcome, "refused");
    assert!(
        rows[1]
            .detail
            .contains("monitor.intervall: unknown field `intervall`"),
        "{}",
        rows[1].detail
    );

    // Once the file is right, it takes; a key read only at start keeps
    // its value, and the audit line says it waits for a restart.
    world.server_toml = "max_connections = 64";
    world.write_config();
    world.hang_up_bot();
    let rows = reloads(&world, 3).await;
    assert_eq!(
        (rows[2].outcome.as_str(), rows[2].detail.as_str()),
        (
            "reloaded",
            "SIGHUP: roles changed: Alice [developer] → [developer, qa]; \
             needs a restart, kept as it was: server"
        )
    );
    assert!(
        world
            .bot_log()
            .contains("some changed keys take effect only at the next start"),
        "{}",
        world.bot_log()
    );
    let answer = world.say(TEAM_CHAT, &ALICE, "/whoami").await.text;
    assert!(
        answer.contains("\nKnown as Alice; roles: developer, qa"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_pending_approval_is_judged_under_the_config_in_force_when_decided() {
    let mut world = world_with_release().await;
    world.verified_on_staging("1.3.0").await;
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy prod 1.3.0").await;
    assert!(
        prompt.text.contains("Deploy 1.3.0 → prod"),
        "{}",
        prompt.text
    );

    // While it waits, Dave stops being a senior and Carol becomes one.
    world.users_toml = Some(
        users_with("")
            .replacen(
                "name = \"Dave\"\nroles = [\"senior\"]",
                "name = \"Dave\"\nroles = []",
                1,
            )
            .replacen(
                "name = \"Carol\"\nroles = [\"qa\"]",
                "name = \"Carol\"\nroles = [\"qa\", \"senior\"]",
                1,
            ),
    );
    world.write_config();
    world.hang_up_bot();
    let rows = reloads(&world, 1).await;
    assert_eq!(
        (rows[0].outcome.as_str(), rows[0].detail.as_str()),
        (
            "reloaded",
            "SIGHUP: roles changed: Carol [qa] → [qa, senior], Dave [senior] → []"
        )
    );

    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:2:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Only senior may decide this.".to_owned(), true)
    );
    assert!(world.gh.dispatches().is_empty());

    let tap = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:2:a");
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
}
