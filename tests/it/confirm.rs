//! After a deploy's run succeeds: ECS and the health URL must confirm it
//! before it is "deployed", else it is "deployed but unhealthy".

use std::time::Duration;

use crate::follow::{run_event, state_of};
use crate::support::*;

#[tokio::test]
async fn a_deploy_ecs_or_health_does_not_confirm_is_deployed_but_unhealthy() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.confirm_within = "2s";
    world.start_bot().await;

    // The workflow says success, but ECS still runs 1.2.3.
    world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    let run = world.gh.set_run(9001, "completed", Some("success"));
    run_event(&world, "w-1", "completed", &run).await;
    let alert = world
        .tg
        .edited(TEAM_CHAT, None, |s| {
            s.text
                .starts_with("⚠️ <b>dev</b> · <b>1.3.0</b> deployed but unhealthy (#1)")
        })
        .await;
    assert_eq!(
        world.tg.next_message(TEAM_CHAT).await.text,
        "⚠️ <b>dev</b> · <b>1.3.0</b> deployed but unhealthy (#1) ↑"
    );
    assert_eq!(
        undiagnosed(&alert.text),
        format!(
            "⚠️ <b>dev</b> · <b>1.3.0</b> deployed but unhealthy (#1)\n\
             The deploy run succeeded, but ECS runs 1.2.3 ({}-dev-api:2), not 1.3.0 after 2s\n\
             <a href=\"https://github.com/mindburn-labs/aletheia/actions/runs/9001\">Deploy run</a>",
            world.prefix
        )
    );
    assert_eq!(state_of(&world, 0).await, "unhealthy");

    // Again: ECS rolls it out this time, but the health URL answers 503.
    world.health.answer("dev", 503);
    world.roll_out("dev", "1.3.0").await;
    world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    let run = world.gh.set_run(9002, "completed", Some("success"));
    run_event(&world, "w-2", "completed", &run).await;
    let alert = world
        .tg
        .edited(TEAM_CHAT, None, |s| {
            s.text
                .starts_with("⚠️ <b>dev</b> · <b>1.3.0</b> deployed but unhealthy (#2)")
        })
        .await;
    assert_eq!(
        world.tg.next_message(TEAM_CHAT).await.text,
        "⚠️ <b>dev</b> · <b>1.3.0</b> deployed but unhealthy (#2) ↑"
    );
    assert_eq!(
        undiagnosed(&alert.text),
        format!(
            "⚠️ <b>dev</b> · <b>1.3.0</b> deployed but unhealthy (#2)\n\
             The deploy run succeeded, but health check: {} answered 503 after 2s\n\
             <a href=\"https://github.com/mindburn-labs/aletheia/actions/runs/9002\">Deploy run</a>",
            world.health.url_of("dev")
        )
    );
    assert_eq!(state_of(&world, 1).await, "unhealthy");
}

#[tokio::test]
async fn a_health_url_that_recovers_in_time_confirms_the_deploy() {
    let world = world_with_release().await;
    world.health.answer("dev", 502);
    world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    world.roll_out("dev", "1.3.0").await;
    let run = world.gh.set_run(9001, "completed", Some("success"));
    run_event(&world, "w-1", "completed", &run).await;
    eventually(
        Duration::from_secs(30),
        "a probe of the health URL",
        || async { world.health.hits("dev") > 0 },
    )
    .await;
    // Until the bot has made up its mind, dev takes no other deploy.
    assert_eq!(state_of(&world, 0).await, "confirming");
    let busy = world.say(TEAM_CHAT, &BOB, "/deploy dev 1.2.2").await.text;
    assert_eq!(
        busy,
        "⏳ dev already has #1 (deploy 1.3.0) confirming. One operation at a time per environment."
    );

    world.health.answer("dev", 200);
    let done = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("✅ <b>dev</b>"))
        .await;
    assert!(
        done.text
            .starts_with("✅ <b>dev</b> · <b>1.3.0</b> deployed (#1) in "),
        "{}",
        done.text
    );
    assert!(done.text.contains(" · health 200\n"), "{}", done.text);
    assert_eq!(state_of(&world, 0).await, "succeeded");
    // `github.deployments` is off unless asked for: GitHub hears nothing
    // of the record.
    assert!(
        world
            .gh
            .requests()
            .iter()
            .all(|r| !r.contains("/deployments")),
        "{:?}",
        world.gh.requests()
    );
}
