//! Diagnosis, what ECS says: the service's events (which moto keeps none
//! of: the ECS proxy adds them as ECS returns them), a rollback target
//! whose task definition is gone, and an ECS that refuses the bot.

use crate::follow::run_event;
use crate::support::ecs_proxy::EcsProxy;
use crate::support::*;

/// A failure alert's line that starts with `prefix`, whole.
fn line_of<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in {text}"))
}

/// Every text the chats were shown, edits' earlier texts too.
fn everything_shown(world: &World) -> String {
    [TEAM_CHAT, ONCALL_CHAT]
        .iter()
        .flat_map(|chat| world.tg.sent_to(*chat))
        .flat_map(|s| std::iter::once(s.text).chain(s.edits))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_deploy_confirmed_unhealthy_names_the_services_events() {
    let proxy = EcsProxy::start().await;
    let mut world = World::new().await;
    world.ecs_endpoint = Some(proxy.url.clone());
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.confirm_within = "2s";
    world.start_bot().await;
    // A task of what dev runs stopped, with why…
    let cluster = world.cluster("dev");
    crate::support::moto::stopped_task(
        &world.ecs,
        &cluster,
        &format!("{}-dev-api:2", world.prefix),
        "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/api-dev/73e2d6bc24d8a067)",
    )
    .await;
    // …and ECS tells the story in the service's events (oldest first
    // here; ECS returns them newest first). Another environment's service
    // of the same name has events of its own.
    let events = [
        "(service aletheia-api) was unable to place a task because no container instance met all of its \
         requirements. Reason: No Container Instances were found in your cluster.",
        "(service aletheia-api) has started 1 tasks: (task 4e8c9a7d0b2f4d3e8a1c6b5f9e0d7a2b).",
        "(service aletheia-api) (port 8080) is unhealthy in (target-group \
         arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/api-dev/73e2d6bc24d8a067) \
         due to (reason Health checks failed).",
    ];
    for event in events {
        proxy.service_event(&cluster, "aletheia-api", event);
    }
    proxy.service_event(
        &world.cluster("prod"),
        "aletheia-api",
        "(service aletheia-api) has reached a steady state.",
    );

    // The run succeeds, but ECS still runs 1.2.3: deployed but unhealthy.
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
    let diagnosed = world
        .tg
        .edited(TEAM_CHAT, Some(alert.message_id), |s| {
            s.text.contains("🔎 <b>Diagnosis</b>")
        })
        .await
        .text;
    // The events, newest first, the target group named by its resource:
    // the account stays out of the chat.
    assert!(
        diagnosed.contains(
            "\nECS events, newest first:\
             \n• (service aletheia-api) (port 8080) is unhealthy in (target-group \
             targetgroup/api-dev/73e2d6bc24d8a067) due to (reason Health checks failed).\
             \n• (service aletheia-api) has started 1 tasks: (task 4e8c9a7d0b2f4d3e8a1c6b5f9e0d7a2b).\
             \n• (service aletheia-api) was unable to place a task because no container instance met all of \
             its requirements. Reason: No Container Instances were found in your cluster.\n"
        ),
        "{diagnosed}"
    );
    assert!(!diagnosed.contains("steady state"), "{diagnosed}");
    assert!(
        diagnosed.contains(
            "\nStopped tasks of the last deployment: 1\n• Task failed ELB health checks in \
             (target-group targetgroup/api-dev/73e2d6bc24d8a067)"
        ),
        "{diagnosed}"
    );
    let shown = everything_shown(&world);
    assert!(!shown.contains("arn:"), "{shown}");
    assert!(!shown.contains("123456789012"), "{shown}");
}

#[tokio::test]
async fn a_rollback_target_whose_task_definition_is_gone_is_said_in_one_line() {
    let world = world_with_release().await;
    // Prod ran 1.2.2, confirmed healthy; since then its task definition
    // (revision 1 of prod's family) was deregistered.
    let store = world.store().await;
    let prod = aletheia_bot::domain::Env::parse("prod").unwrap();
    store
        .record_succeeded_deploy(&prod, "1.2.2", aletheia_bot::domain::UserId(BOB.id))
        .await
        .unwrap();
    world
        .ecs
        .deregister_task_definition()
        .task_definition(format!("{}-prod-api:1", world.prefix))
        .send()
        .await
        .unwrap();

    world
        .start_run_outside("deploy.yml", "Deploy 1.3.0 to prod ()")
        .await;
    world.tg.next_message(TEAM_CHAT).await;
    world.gh.set_jobs(9001, &[("deploy", "failure")]);
    world.finish_run(9001, "failure", "w-2").await;
    let failed = world.tg.next_message(ONCALL_CHAT).await;
    world.tg.next_message(TEAM_CHAT).await;
    let diagnosed = world
        .tg
        .edited(ONCALL_CHAT, Some(failed.message_id), |s| {
            s.text.contains("🔎 <b>Diagnosis</b>")
        })
        .await
        .text;
    assert_eq!(
        line_of(&diagnosed, "Rollback"),
        "Rollback to <b>1.2.2</b>: no task definition carries it any more; no migrations since",
        "{diagnosed}"
    );
}

#[tokio::test]
async fn a_failure_diagnosed_while_aws_refuses_the_bot_names_the_error_code_only() {
    let proxy = EcsProxy::start().await;
    let mut world = World::new().await;
    world.ecs_endpoint = Some(proxy.url.clone());
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.start_bot().await;
    // The bot's role lost every ECS permission it had.
    for operation in [
        "DescribeServices",
        "ListTasks",
        "DescribeTasks",
        "ListTaskDefinitions",
        "DescribeTaskDefinition",
    ] {
        proxy.deny(operation);
    }

    world
        .start_run_outside("deploy.yml", "Deploy 1.3.0 to prod ()")
        .await;
    world.tg.next_message(TEAM_CHAT).await;
    world.gh.set_jobs(9001, &[("deploy", "failure")]);
    world.finish_run(9001, "failure", "w-2").await;
    let failed = world.tg.next_message(ONCALL_CHAT).await;
    world.tg.next_message(TEAM_CHAT).await;
    let diagnosed = world
        .tg
        .edited(ONCALL_CHAT, Some(failed.message_id), |s| {
            s.text.contains("🔎 <b>Diagnosis</b>")
        })
        .await
        .text;
    // One line, the error's code and where to look; the job's evidence
    // (GitHub answers) is there as ever.
    let aws = line_of(&diagnosed, "AWS credentials: ");
    let reference = aws
        .strip_prefix(
            "AWS credentials: ECS refuses (AccessDeniedException (details in the bot's log, ref ",
        )
        .and_then(|r| r.strip_suffix("))"))
        .unwrap_or_else(|| panic!("{aws}"));
    assert!(
        reference.len() == 8 && reference.chars().all(|c| c.is_ascii_hexdigit()),
        "{aws}"
    );
    assert!(
        diagnosed.contains("\nFailed: job <b>deploy</b>\n"),
        "{diagnosed}"
    );
    // Neither the role's nor the service's ARN, nor the account, in any
    // chat.
    let shown = everything_shown(&world);
    assert!(!shown.contains("arn:"), "{shown}");
    assert!(!shown.contains("123456789012"), "{shown}");
    assert!(!shown.contains("assumed-role"), "{shown}");
}
