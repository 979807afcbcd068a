//! Environments of several ECS services, beyond `/status` and the
//! confirmation: a rollback straight on ECS points every service at its
//! own task definition, and the monitor watches each service.

use aletheia_bot::domain::{Env, OperationState, UserId};

use crate::support::ecs_proxy::EcsProxy;
use crate::support::*;

/// Prod of two services, the api and the worker, each of its own task
/// definition family: the api ran 1.2.2 and runs 1.2.3; the worker runs
/// 1.2.3, after 1.2.2 too when `worker_ran_1_2_2`. The bot's history says
/// prod ran both; then GitHub goes down, so a rollback runs on ECS.
async fn prod_of_two_services(world: &mut World, proxy: &EcsProxy, worker_ran_1_2_2: bool) {
    world.ecs_endpoint = Some(proxy.url.clone());
    world.prod_break_glass = true;
    world.extra_services = vec![("prod", "aletheia-worker")];
    world.seed().await;
    world.roll_out("prod", "1.2.3").await;
    if worker_ran_1_2_2 {
        world
            .seed_extra_service("prod", "aletheia-worker", "repo/aletheia:1.2.2")
            .await;
        world
            .roll_out_service("prod", "aletheia-worker", "1.2.3")
            .await;
    } else {
        world
            .seed_extra_service("prod", "aletheia-worker", "repo/aletheia:1.2.3")
            .await;
    }
    let store = world.store().await;
    store.migrate().await.unwrap();
    for version in ["1.2.2", "1.2.3"] {
        store
            .record_succeeded_deploy(&Env::parse("prod").unwrap(), version, UserId(ALICE.id))
            .await
            .unwrap();
    }
    world.start_bot().await;
    world.gh.set_down(true);
}

/// The task definition ARN a service of prod points at in moto.
async fn task_definition_arn(world: &World, service: &str) -> String {
    let described = world
        .ecs
        .describe_services()
        .cluster(world.cluster("prod"))
        .services(service)
        .send()
        .await
        .unwrap();
    described.services()[0]
        .task_definition()
        .unwrap()
        .to_owned()
}

/// The task definition (`family:revision`) a service of prod points at.
async fn runs(world: &World, service: &str) -> String {
    let arn = task_definition_arn(world, service).await;
    arn.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_rollback_on_ecs_points_each_service_at_its_own_task_definition_and_names_each() {
    let proxy = EcsProxy::start().await;
    let mut world = World::new().await;
    prod_of_two_services(&mut world, &proxy, true).await;
    let api = world.family("prod", "aletheia-api");
    let worker = world.family("prod", "aletheia-worker");

    let texts = world
        .say_and_read(
            TEAM_CHAT,
            &BOB,
            "/rollback prod 1.2.2 --break-glass db on fire",
            3,
        )
        .await;
    assert!(
        texts[0].contains(&format!(
            "The rollback runs <b>directly on ECS</b> (each service is pointed at its own task definition: \
             aletheia-api at <code>{api}:1</code>, aletheia-worker at <code>{worker}:1</code>), \
             not through the Rollback workflow.\n"
        )),
        "{texts:?}"
    );
    assert!(
        texts[0].ends_with(&format!(
            "\nECS is rolling back to 1.2.2 ({api}:1, {worker}:1)."
        )),
        "{texts:?}"
    );
    let started = format!(
        "⏪ <b>prod</b> · rollback to <b>1.2.2</b> started <b>directly on ECS</b> (#3) on each service. \
         <b>This bypassed the Rollback workflow</b>: GitHub was unreachable when it was asked for.\n\
         • aletheia-api: now points at {api}:1\n\
         • aletheia-worker: now points at {worker}:1\n\
         Asked by Bob"
    );
    assert_eq!(texts[1], started);
    assert!(texts[2].starts_with("🚨 <b>BREAK-GLASS</b>"), "{texts:?}");
    let mut oncall = [
        world.tg.next_message(ONCALL_CHAT).await.text,
        world.tg.next_message(ONCALL_CHAT).await.text,
    ];
    oncall.sort();
    assert_eq!(oncall[0], started);

    assert_eq!(runs(&world, "aletheia-api").await, format!("{api}:1"));
    assert_eq!(runs(&world, "aletheia-worker").await, format!("{worker}:1"));
    let mut updated: Vec<String> = proxy
        .asked("UpdateService")
        .iter()
        .map(|b| b["service"].as_str().unwrap().to_owned())
        .collect();
    updated.sort();
    assert_eq!(updated, ["aletheia-api", "aletheia-worker"]);
    let audit = world.store().await.recent_audit(30).await.unwrap();
    for service in ["aletheia-api", "aletheia-worker"] {
        assert!(
            audit.iter().any(|a| a.action == "dispatch:rollback"
                && a.outcome == "service_updated"
                && a.operation_id == Some(3)
                && a.detail.starts_with(&format!("{service}: "))
                // By name: the audit reaches the incident report.
                && !a.detail.contains("arn:")),
            "{service}: {audit:?}"
        );
    }

    // Confirmed once both services run it.
    for service in ["aletheia-api", "aletheia-worker"] {
        let arn = task_definition_arn(&world, service).await;
        moto::roll_out(&world.ecs, &world.cluster("prod"), service, &arn).await;
    }
    let done = world.tg.next_message(TEAM_CHAT).await;
    assert!(
        done.text
            .starts_with("✅ <b>prod</b> · rolled back to <b>1.2.2</b> (#3) in "),
        "{}",
        done.text
    );
}

#[tokio::test]
async fn a_rollback_on_ecs_is_refused_naming_the_service_without_the_version_and_changes_nothing() {
    let proxy = EcsProxy::start().await;
    let mut world = World::new().await;
    prod_of_two_services(&mut world, &proxy, false).await;
    let api = world.family("prod", "aletheia-api");

    let text = world
        .say(
            TEAM_CHAT,
            &BOB,
            "/rollback prod 1.2.2 --break-glass db on fire",
        )
        .await
        .text;
    assert_eq!(
        text,
        "⛔ GitHub is unreachable, so the rollback would run directly on ECS, but not every service \
         has a task definition carrying 1.2.2:\n\
         aletheia-worker: no task definition carries 1.2.2\n\
         Nothing was done."
    );
    assert_eq!(
        proxy.asked("UpdateService"),
        Vec::<serde_json::Value>::new()
    );
    assert_eq!(runs(&world, "aletheia-api").await, format!("{api}:3"));
    let ops = world.store().await.all_operations().await.unwrap();
    assert_eq!(ops.len(), 2, "no rollback was recorded: {ops:?}");
}

#[tokio::test]
async fn a_rollback_on_ecs_that_only_some_services_take_fails_as_a_partial_rollback() {
    let proxy = EcsProxy::start().await;
    let mut world = World::new().await;
    prod_of_two_services(&mut world, &proxy, true).await;
    let api = world.family("prod", "aletheia-api");
    let worker = world.family("prod", "aletheia-worker");
    // The bot's IAM role may update the api's service, not the worker's.
    proxy.deny_on("UpdateService", "aletheia-worker");

    let texts = world
        .say_and_read(
            TEAM_CHAT,
            &BOB,
            "/rollback prod 1.2.2 --break-glass db on fire",
            3,
        )
        .await;
    assert!(
        texts[0].ends_with(
            "\n❌ The rollback on ECS failed: only some services took the update (a partial rollback)."
        ),
        "{texts:?}"
    );
    let partial = format!(
        "❌ <b>prod</b> · rollback to <b>1.2.2</b> directly on ECS (#3) failed part-way: a <b>partial rollback</b>. \
         Some services were pointed back and others were not, so they now run different versions: check them by hand.\n\
         • aletheia-api: now points at {api}:1\n\
         • aletheia-worker: <b>not updated</b>: ECS did not take the update\n\
         Asked by Bob"
    );
    assert_eq!(texts[1], partial);
    assert!(texts[2].starts_with("🚨 <b>BREAK-GLASS</b>"), "{texts:?}");
    let mut oncall = vec![
        world.tg.next_message(ONCALL_CHAT).await.text,
        world.tg.next_message(ONCALL_CHAT).await.text,
    ];
    oncall.sort();
    assert_eq!(oncall[0], partial);
    for text in texts.iter().chain(&oncall) {
        assert!(!text.contains("arn:"), "{text}");
    }
    assert_eq!(runs(&world, "aletheia-api").await, format!("{api}:1"));
    assert_eq!(runs(&world, "aletheia-worker").await, format!("{worker}:2"));
    let store = world.store().await;
    assert_eq!(
        store.all_operations().await.unwrap()[2].state,
        OperationState::Failed
    );
    let audit = store.recent_audit(30).await.unwrap();
    let of = |outcome: &str| {
        audit
            .iter()
            .filter(|a| a.action == "dispatch:rollback" && a.outcome == outcome)
            .map(|a| a.detail.clone())
            .collect::<Vec<_>>()
    };
    assert!(
        matches!(of("service_updated").as_slice(),
            [d] if d.starts_with("aletheia-api: ") && !d.contains("arn:")),
        "{audit:?}"
    );
    assert!(
        matches!(of("service_not_updated").as_slice(), [d] if d.starts_with("aletheia-worker: AccessDeniedException")),
        "{audit:?}"
    );
    assert_eq!(of("failed"), ["partial rollback: 1 of 2 services updated"]);

    // ECS rolls the api back to 1.2.2; the worker stays on 1.2.3: asked
    // again, once allowed, the rollback is not "already done", and
    // finishes the job.
    let arn = task_definition_arn(&world, "aletheia-api").await;
    moto::roll_out(&world.ecs, &world.cluster("prod"), "aletheia-api", &arn).await;
    proxy.allow_all();
    let texts = world
        .say_and_read(
            TEAM_CHAT,
            &BOB,
            "/rollback prod 1.2.2 --break-glass worker still on 1.2.3",
            3,
        )
        .await;
    let started = format!(
        "⏪ <b>prod</b> · rollback to <b>1.2.2</b> started <b>directly on ECS</b> (#4) on each service. \
         <b>This bypassed the Rollback workflow</b>: GitHub was unreachable when it was asked for.\n\
         • aletheia-api: now points at {api}:1\n\
         • aletheia-worker: now points at {worker}:1\n\
         Asked by Bob"
    );
    assert_eq!(texts[1], started, "{texts:?}");
    assert!(texts[2].starts_with("🚨 <b>BREAK-GLASS</b>"), "{texts:?}");
    let mut oncall = [
        world.tg.next_message(ONCALL_CHAT).await.text,
        world.tg.next_message(ONCALL_CHAT).await.text,
    ];
    oncall.sort();
    assert_eq!(oncall[0], started);
    assert_eq!(runs(&world, "aletheia-worker").await, format!("{worker}:1"));
}

#[tokio::test]
async fn the_monitor_watches_each_service_and_names_the_one_that_changed_or_lacks_tasks() {
    let mut world = World::new().await;
    world.extra_services = vec![("dev", "aletheia-worker")];
    world.monitor_interval = "100ms";
    world.seed().await;
    world
        .seed_extra_service("dev", "aletheia-worker", "repo/aletheia:1.2.3")
        .await;
    world.start_bot().await;
    // The first look only learns what runs.
    eventually(
        std::time::Duration::from_secs(30),
        "a first look",
        || async { world.health.hits("dev") >= 2 },
    )
    .await;

    // Someone deploys the worker around the bot; the api stays.
    world
        .roll_out_service("dev", "aletheia-worker", "1.2.4")
        .await;
    let worker = world.family("dev", "aletheia-worker");
    assert_eq!(
        world.tg.next_message(TEAM_CHAT).await.text,
        format!(
            "👀 <b>dev</b> · the service aletheia-worker changed from {worker}:1 to {worker}:2 \
             (image tag 1.2.4) without the bot: someone deployed around it."
        )
    );

    // The worker wants 3 tasks but 2 run: after the grace (1 s), one
    // alert naming it; then the recovery.
    moto::want_tasks(&world.ecs, &world.cluster("dev"), "aletheia-worker", 3).await;
    let short = world.tg.next_message(TEAM_CHAT).await.text;
    assert!(
        short.starts_with("⚠️ <b>dev</b> · aletheia-worker: only 2 of 3 tasks running, for "),
        "{short}"
    );
    moto::want_tasks(&world.ecs, &world.cluster("dev"), "aletheia-worker", 2).await;
    assert_eq!(
        world.tg.next_message(TEAM_CHAT).await.text,
        "✅ <b>dev</b> · aletheia-worker: 2 of 2 tasks running again."
    );

    // A while later, nothing more was said: each change once.
    let polls = world.health.hits("dev");
    eventually(std::time::Duration::from_secs(30), "more looks", || async {
        world.health.hits("dev") >= polls + 5
    })
    .await;
}

#[tokio::test]
async fn diagnose_reads_the_events_and_stopped_tasks_of_each_service() {
    let proxy = EcsProxy::start().await;
    let mut world = World::new().await;
    world.ecs_endpoint = Some(proxy.url.clone());
    world.extra_services = vec![("prod", "aletheia-worker")];
    world.seed().await;
    world
        .seed_extra_service("prod", "aletheia-worker", "repo/aletheia:1.2.2")
        .await;
    world.start_bot().await;
    let cluster = world.cluster("prod");
    proxy.service_event(
        &cluster,
        "aletheia-api",
        "(service aletheia-api) has reached a steady state.",
    );
    for event in [
        "(service aletheia-worker) has started 1 tasks: (task 4e8c9a7d).",
        "(service aletheia-worker) has stopped 1 running tasks: (task 4e8c9a7d).",
    ] {
        proxy.service_event(&cluster, "aletheia-worker", event);
    }
    // A task of what the worker runs was killed for its memory.
    crate::support::moto::stopped_task(
        &world.ecs,
        &cluster,
        &format!("{}:1", world.family("prod", "aletheia-worker")),
        "OutOfMemoryError: Container killed due to memory usage",
    )
    .await;

    let text = world.say(TEAM_CHAT, &BOB, "/diagnose prod").await.text;
    // Each service's newest event in turn, then the next.
    assert!(
        text.contains(
            "ECS events, newest first:\
             \n• (service aletheia-api) has reached a steady state.\
             \n• (service aletheia-worker) has stopped 1 running tasks: (task 4e8c9a7d).\
             \n• (service aletheia-worker) has started 1 tasks: (task 4e8c9a7d).\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "Stopped tasks of the last deployment: 1\
             \n• aletheia-worker: OutOfMemoryError: Container killed due to memory usage"
        ),
        "{text}"
    );
}
