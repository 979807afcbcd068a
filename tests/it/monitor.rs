//! The health monitor: transitions, each alerted once.

use crate::support::*;

#[tokio::test]
async fn the_monitor_says_each_change_once_failing_health_missing_tasks_and_unannounced_deploys() {
    let mut world = World::new().await;
    world.seed().await;
    world.monitor_interval = "100ms";
    world.start_bot().await;

    // Staging's health URL fails: after 2 failures in a row, one alert.
    world.health.answer("staging", 503);
    let down = world.tg.next_message(TEAM_CHAT).await.text;
    assert_eq!(
        undiagnosed(&down),
        format!(
            "🔴 <b>staging</b> · health check failing 2 times in a row: {} answered 503",
            world.health.url_of("staging")
        )
    );
    let polls = world.health.hits("staging");
    eventually(
        std::time::Duration::from_secs(30),
        "more probes",
        || async { world.health.hits("staging") >= polls + 3 },
    )
    .await;
    world.health.answer("staging", 200);
    let up = world.tg.next_message(TEAM_CHAT).await.text;
    assert_eq!(up, "🟢 <b>staging</b> · health check passes again (200).");

    // Prod wants 3 tasks but 2 run: after the grace (1 s), one alert, to
    // the on-call chat as well; then the recovery.
    moto::want_tasks(&world.ecs, &world.cluster("prod"), "aletheia-api", 3).await;
    let short = world.tg.next_message(ONCALL_CHAT).await.text;
    assert!(
        short.starts_with("⚠️ <b>prod</b> · only 2 of 3 tasks running, for "),
        "{short}"
    );
    assert_eq!(
        undiagnosed(&world.tg.next_message(TEAM_CHAT).await.text),
        undiagnosed(&short)
    );
    moto::want_tasks(&world.ecs, &world.cluster("prod"), "aletheia-api", 2).await;
    let back = "✅ <b>prod</b> · 2 of 2 tasks running again.";
    assert_eq!(world.tg.next_message(ONCALL_CHAT).await.text, back);
    assert_eq!(world.tg.next_message(TEAM_CHAT).await.text, back);

    // Someone deploys to dev around the bot.
    world.roll_out("dev", "1.2.4").await;
    let around = world.tg.next_message(TEAM_CHAT).await.text;
    assert_eq!(
        around,
        format!(
            "👀 <b>dev</b> · the service changed from {p}-dev-api:2 to {p}-dev-api:3 (image tag 1.2.4) without the bot: someone deployed around it.",
            p = world.prefix
        )
    );

    // A while later, nothing more was said: each change once.
    let polls = world.health.hits("dev");
    eventually(std::time::Duration::from_secs(30), "more looks", || async {
        world.health.hits("dev") >= polls + 5
    })
    .await;
}

/// The lines of one environment in a `/status` answer.
fn env_block<'a>(status: &'a str, env: &str) -> Vec<&'a str> {
    let head = format!("<b>{env}</b>");
    status
        .lines()
        .skip_while(|l| !l.starts_with(&head))
        .enumerate()
        .take_while(|(i, l)| *i == 0 || l.starts_with("   "))
        .map(|(_, l)| l)
        .collect()
}

#[tokio::test]
async fn status_shows_the_health_urls_answers_and_a_failing_prod_is_not_all_well() {
    let mut world = World::new().await;
    world.seed().await;
    world.monitor_interval = "100ms";
    world.health.answer("prod", 503);
    world.start_bot().await;

    // The monitor has probed prod, failing, twice in a row: it said so.
    let down = world.tg.next_message(ONCALL_CHAT).await.text;
    assert!(
        down.starts_with("🔴 <b>prod</b> · health check failing 2 times in a row: "),
        "{down}"
    );
    assert_eq!(
        undiagnosed(&world.tg.next_message(TEAM_CHAT).await.text),
        undiagnosed(&down)
    );

    let status = world.say(TEAM_CHAT, &BOB, "/status").await.text;
    // ECS is content with prod (2/2 tasks); its health URL is not: no ✅.
    let prod = env_block(&status, "prod");
    assert!(
        prod[0].starts_with("<b>prod</b> 🔴 <b>1.2.2</b>"),
        "{status}"
    );
    assert!(!prod.iter().any(|l| l.contains('✅')), "{status}");
    let health = prod
        .iter()
        .find(|l| l.starts_with("   🔴 health: 503 · "))
        .unwrap_or_else(|| panic!("no health line for prod in {status}"));
    let (_, streak) = health
        .split_once(" · failing ")
        .unwrap_or_else(|| panic!("{health}"));
    let (n, since) = streak.split_once(" in a row since ").unwrap();
    assert!(n.parse::<u32>().unwrap() >= 2, "{health}");
    assert!(since.ends_with(" UTC"), "{health}");
    // A healthy environment shows its 200, and stays ✅.
    let dev = env_block(&status, "dev");
    assert!(dev[0].starts_with("<b>dev</b> ✅ <b>1.2.3</b>"), "{status}");
    assert!(
        dev.iter().any(|l| l.starts_with("   health: 200 · ")),
        "{status}"
    );

    // /status prod alone says the same.
    let status = world.say(TEAM_CHAT, &BOB, "/status prod").await.text;
    assert!(
        env_block(&status, "prod")
            .iter()
            .any(|l| l.starts_with("   🔴 health: 503 · ") && l.contains(" in a row since ")),
        "{status}"
    );
}

#[tokio::test]
async fn status_asks_the_health_url_itself_when_the_monitors_view_is_old() {
    use aletheia_bot::domain::health::{LastProbe, Watch};
    let mut world = World::new().await;
    world.seed().await;
    // The monitor looks once at start, then not for an hour.
    world.start_bot().await;
    let store = world.store().await;
    eventually(
        std::time::Duration::from_secs(30),
        "the monitor's first look",
        || async { store.env_health("staging").await.unwrap().is_some() },
    )
    .await;
    let (json, at) = store.env_health("staging").await.unwrap().unwrap();

    // Its view says staging answered 200, three hours ago (a stalled
    // leader); staging fails now.
    let mut old: Watch = serde_json::from_str(&json).unwrap();
    old.last_probe = Some(LastProbe {
        at_ms: at - 3 * 3_600_000,
        answer: Ok(200),
    });
    let saved = store
        .save_env_health(
            "staging",
            Some(at),
            &serde_json::to_string(&old).unwrap(),
            &[],
            None,
        )
        .await
        .unwrap();
    assert!(saved);
    world.health.answer("staging", 503);
    let probes = world.health.hits("staging");

    let status = world.say(TEAM_CHAT, &BOB, "/status staging").await.text;
    let staging = env_block(&status, "staging");
    assert!(
        staging[0].starts_with("<b>staging</b> 🔴 <b>1.2.3</b>"),
        "{status}"
    );
    assert!(
        staging.contains(&"   🔴 health: 503 · asked just now"),
        "{status}"
    );
    assert_eq!(world.health.hits("staging"), probes + 1);
}

#[tokio::test]
async fn dev_deploying_itself_from_main_is_a_deploy_not_a_change_around_the_bot() {
    let mut world = World::new().await;
    world.seed().await;
    world.dev_auto_deploy = true;
    world.monitor_interval = "100ms";
    world.start_bot().await;
    let looks = world.health.hits("dev");
    eventually(
        std::time::Duration::from_secs(30),
        "a first look",
        || async { world.health.hits("dev") >= looks + 2 },
    )
    .await;

    // A push to main rolls a new image out on dev, no bot involved.
    world.roll_out("dev", "main-1a2b3c4").await;
    let deployed = world.tg.next_message(TEAM_CHAT).await.text;
    assert_eq!(
        deployed,
        "✅ <b>dev</b> now runs <b>main-1a2b3c4</b>, deployed automatically"
    );

    // /status shows the tag as it is, and the deploy as the last one.
    let status = world.say(TEAM_CHAT, &BOB, "/status dev").await.text;
    assert!(
        status.contains("\n<b>dev</b> ✅ <b>main-1a2b3c4</b>\n"),
        "{status}"
    );
    assert!(
        status.contains("\n   Last deploy: main-1a2b3c4 by GitHub Actions · "),
        "{status}"
    );

    // A while later, nothing more was said: no "around the bot".
    let looks = world.health.hits("dev");
    eventually(std::time::Duration::from_secs(30), "more looks", || async {
        world.health.hits("dev") >= looks + 5
    })
    .await;
}
