//! Environments of several ECS services: `/status` shows each, and a
//! deploy is confirmed only once every one of them runs the version.

use crate::follow::{run_event, state_of};
use crate::support::ecs_proxy::EcsProxy;
use crate::support::*;

#[tokio::test]
async fn a_deploy_to_two_services_is_confirmed_only_once_both_run_it() {
    let mut world = World::new().await;
    world.extra_services = vec![("dev", "aletheia-worker")];
    world.seed().await;
    world
        .seed_extra_service("dev", "aletheia-worker", "repo/aletheia:1.2.3")
        .await;
    world.gh.add_release("v1.3.0");
    world.confirm_within = "2s";
    world.start_bot().await;

    // The api rolls 1.3.0 out; the worker stays on 1.2.3.
    world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    world.roll_out_service("dev", "aletheia-api", "1.3.0").await;
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
             The deploy run succeeded, but aletheia-worker: ECS runs 1.2.3 ({}-dev-aletheia-worker:1), not 1.3.0 after 2s\n\
             <a href=\"https://github.com/mindburn-labs/aletheia/actions/runs/9001\">Deploy run</a>",
            world.prefix
        )
    );
    assert_eq!(state_of(&world, 0).await, "unhealthy");

    // Again, and this time the worker rolls it out too.
    world
        .roll_out_service("dev", "aletheia-worker", "1.3.0")
        .await;
    world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    let run = world.gh.set_run(9002, "completed", Some("success"));
    run_event(&world, "w-2", "completed", &run).await;
    let done = world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("✅ <b>dev</b>"))
        .await;
    assert!(
        done.text
            .starts_with("✅ <b>dev</b> · <b>1.3.0</b> deployed (#2) in "),
        "{}",
        done.text
    );
    let prefix = &world.prefix;
    assert!(
        done.text.contains(&format!(
            "ECS: 4/4 tasks on {prefix}-dev-api:3, {prefix}-dev-aletheia-worker:2 · health 200\n"
        )),
        "{}",
        done.text
    );
    assert_eq!(state_of(&world, 1).await, "succeeded");
}

#[tokio::test]
async fn status_shows_each_service_and_says_when_they_disagree() {
    let proxy = EcsProxy::start().await;
    let mut world = World::new().await;
    world.ecs_endpoint = Some(proxy.url.clone());
    world.extra_services = vec![("prod", "aletheia-worker"), ("prod", "aletheia-cron")];
    world.seed().await;
    world
        .seed_extra_service("prod", "aletheia-worker", "repo/aletheia:1.2.3")
        .await;
    world
        .seed_extra_service("prod", "aletheia-cron", "repo/aletheia:v1.2.2")
        .await;
    world.start_bot().await;
    let prod_asked = || -> Vec<serde_json::Value> {
        proxy
            .asked("DescribeServices")
            .into_iter()
            .filter(|b| b["services"].to_string().contains("aletheia-worker"))
            .collect()
    };
    // The monitor's first look: prod's services read in one call too.
    eventually(
        std::time::Duration::from_secs(30),
        "the monitor's first look",
        || async { !prod_asked().is_empty() },
    )
    .await;

    let text = world.say(TEAM_CHAT, &ALICE, "/status").await.text;
    // One service: as ever.
    assert!(
        text.contains("<b>staging</b> ✅ <b>1.2.3</b>\n   2/2 tasks · rollout completed · since "),
        "{text}"
    );
    assert!(
        text.contains(
            "<b>prod</b> ⚠️ services disagree: aletheia-api 1.2.2 · aletheia-worker 1.2.3 · aletheia-cron 1.2.2\n   \
             aletheia-api ✅ <b>1.2.2</b> · 2/2 tasks · rollout completed · since "
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "\n   aletheia-worker ✅ <b>1.2.3</b> · 2/2 tasks · rollout completed · since "
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "\n   aletheia-cron ✅ <b>1.2.2</b> · 2/2 tasks · rollout completed · since "
        ),
        "{text}"
    );
    // ECS was asked about prod's three services in one call, by the
    // monitor and by /status alike.
    let one_call = serde_json::json!({
        "cluster": world.cluster("prod"),
        "services": ["aletheia-api", "aletheia-worker", "aletheia-cron"],
    });
    assert_eq!(prod_asked(), [one_call.clone(), one_call]);
}
