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
        down,
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
    assert_eq!(world.tg.next_message(TEAM_CHAT).await.text, short);
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
    world.tg.assert_all_read();
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
    world.tg.assert_all_read();
}
