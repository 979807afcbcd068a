//! Faults of what the bot stands on: ECS throttled or failing, the
//! database dropping off and coming back. Each is injected by a proxy the
//! test controls; the bot says what it cannot do, raises no false alarm,
//! and resumes by itself.

use aletheia_bot::domain::OperationState;
use std::time::Duration;

use crate::support::ecs_proxy::{EcsFault, EcsProxy};
use crate::support::tcp_cut::TcpCut;
use crate::support::*;

#[tokio::test]
async fn ecs_throttled_shows_on_status_backs_the_monitor_off_and_raises_no_false_alarm() {
    let proxy = EcsProxy::start().await;
    let mut world = World::new().await;
    world.ecs_endpoint = Some(proxy.url.clone());
    world.monitor_interval = "100ms";
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.start_bot().await;
    // The monitor has taken its first look at every environment.
    let store = world.store().await;
    eventually(
        Duration::from_secs(10),
        "the monitor's first look",
        || async {
            let mut seen = 0;
            for env in ["dev", "staging", "prod"] {
                seen += usize::from(store.env_health(env).await.unwrap().is_some());
            }
            seen == 3
        },
    )
    .await;

    // A dev deploy is under way when ECS starts throttling.
    world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    proxy.fail(Some(EcsFault::Throttle));
    world.finish_run(9001, "success", "w-1").await;

    // /status says so, on each environment's line, and still answers the rest.
    let status = world.say(TEAM_CHAT, &ALICE, "/status").await.text;
    for env in ["dev", "staging", "prod"] {
        let line = status
            .lines()
            .find(|l| l.starts_with(&format!("<b>{env}</b>")))
            .unwrap_or_else(|| panic!("no {env} line in {status}"));
        assert!(
            line.contains("⚠️ ECS error") && line.contains("Rate exceeded"),
            "{line}"
        );
    }
    assert!(status.contains("Latest release"), "{status}");

    // The monitor backs off: 2, 4, 8 intervals between looks at ECS.
    eventually(
        Duration::from_secs(30),
        "the monitor backing off",
        || async { world.bot_log().contains("failures=3") },
    )
    .await;
    let log = world.bot_log();
    let backoff: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("monitor: backing off ECS") && l.contains("env=dev"))
        .take(3)
        .collect();
    for (line, wait) in backoff.iter().zip(["200ms", "400ms", "800ms"]) {
        assert!(line.contains(&format!("retry_in={wait}")), "{line}");
    }

    // Failing otherwise now (5xx): /status says that instead.
    proxy.fail(Some(EcsFault::ServerError));
    let status = world.say(TEAM_CHAT, &ALICE, "/status").await.text;
    assert!(status.contains("Service unavailable"), "{status}");

    // The deploy rolled out meanwhile; ECS answers again: confirmed, and
    // not one alarm was raised for the outage.
    world.roll_out("dev", "1.3.0").await;
    proxy.fail(None);
    let done = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("✅ <b>dev</b>"))
        .await;
    assert!(done.text.contains("deployed (#1)"), "{}", done.text);
    assert!(proxy.failed() > 0);
    let alerts = store.all_alerts().await.unwrap();
    assert!(
        alerts
            .iter()
            .all(|a| a.kind != "health" && !a.dedup_key.contains("unhealthy")),
        "{:?}",
        alerts.iter().map(|a| &a.dedup_key).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn the_database_drops_off_and_comes_back_the_bot_says_so_and_resumes() {
    let cut = TcpCut::start("127.0.0.1:5432").await;
    let mut world = World::new().await;
    world.use_postgres_through(&cut).await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.start_bot().await;
    let healthz = format!("{}/healthz", world.bot_url());

    // The database drops off the network.
    cut.cut();
    eventually(Duration::from_secs(20), "/healthz reporting it", || async {
        reqwest::get(&healthz)
            .await
            .is_ok_and(|r| r.status() == 503)
    })
    .await;
    // Alive all the same: the image's HEALTHCHECK does not restart it.
    let livez = reqwest::get(format!("{}/livez", world.bot_url()))
        .await
        .unwrap();
    assert_eq!(livez.status(), 200);
    let out = world.cli(&["healthcheck"]).await;
    assert!(out.status.success(), "{out:?}");
    // A command is still answered, and nothing is done.
    let answer = world.say(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0").await.text;
    eprintln!("answer while the database is away: {answer}");
    assert!(
        answer.starts_with("⚠️ My database is not answering right now (ref ")
            && answer.ends_with("nothing was done. Please try again in a minute."),
        "{answer}"
    );
    assert!(world.gh.dispatches().is_empty());

    // It comes back: the bot resumes without a restart.
    cut.restore();
    eventually(Duration::from_secs(20), "/healthz back to 200", || async {
        reqwest::get(&healthz)
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await;
    let texts = world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    assert!(
        texts[1].starts_with("🚀 <b>dev</b> · deploy of <b>1.3.0</b> started (#1)"),
        "{texts:?}"
    );
    assert_eq!(world.gh.dispatches().len(), 1);
}

#[tokio::test]
async fn the_sqlite_file_locked_by_another_process_refuses_changes_clearly_and_then_resumes() {
    use sqlx::Connection;
    let world = world_with_release().await;

    // Another process takes the file's write lock and keeps it.
    let mut holder = sqlx::SqliteConnection::connect(&world.database_url())
        .await
        .unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut holder)
        .await
        .unwrap();
    // Changes are refused, saying why; reading still works (WAL).
    let answer = world.say(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0").await.text;
    assert!(
        answer.starts_with("⚠️ My database is not answering right now (ref "),
        "{answer}"
    );
    assert!(world.gh.dispatches().is_empty());
    let status = world.say(TEAM_CHAT, &ALICE, "/status").await.text;
    assert!(status.contains("<b>dev</b>"), "{status}");

    // The lock goes: the same command works, without a restart.
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    drop(holder);
    let texts = world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    assert!(
        texts[1].starts_with("🚀 <b>dev</b> · deploy of <b>1.3.0</b> started (#1)"),
        "{texts:?}"
    );
    assert_eq!(world.gh.dispatches().len(), 1);
}

#[tokio::test]
async fn a_lock_taken_while_ecs_is_slow_still_stops_the_approval() {
    let proxy = EcsProxy::start().await;
    let mut world = World::new().await;
    world.ecs_endpoint = Some(proxy.url.clone());
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.start_bot().await;
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    assert!(
        prompt.text.contains("Running there now: <b>1.2.3</b>"),
        "{}",
        prompt.text
    );

    // ECS turns slow (200 ms at least, and until released); QA approves,
    // and the approval's re-check waits on ECS.
    proxy.hold(Duration::from_millis(200));
    let tap = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:1:a");
    eventually(
        Duration::from_secs(10),
        "the re-check asking ECS",
        || async { proxy.held() > 0 },
    )
    .await;
    // Meanwhile Bob locks staging, from the on-call chat (the team chat's
    // updates wait for the tap, in order).
    let locked = world
        .say(ONCALL_CHAT, &BOB, "/lock staging maintenance 1h")
        .await
        .text;
    assert_eq!(locked, "🔒 staging is locked; the team chat is told.");
    proxy.release();

    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Approved, but not dispatched: staging was locked by Bob: maintenance.".to_owned(),
            true
        )
    );
    assert!(world.gh.dispatches().is_empty());
    let store = world.store().await;
    assert_eq!(
        store.all_operations().await.unwrap()[0].state,
        OperationState::Cancelled
    );
    // As the on-call chat was promised.
    let told = world.tg.next_message(TEAM_CHAT).await.text;
    assert!(
        told.starts_with("🔒 <b>staging</b> locked by Bob: maintenance"),
        "{told}"
    );
}
