//! Diagnosis: the evidence gathered after a failure lands in its alert
//! within seconds; `/diagnose <env>` runs the same checklist on demand.

use crate::follow::run_event;
use crate::support::ecs_proxy::EcsProxy;
use crate::support::*;

#[tokio::test]
async fn a_failed_prod_deploy_is_edited_with_the_failed_step_and_its_logs_tail() {
    let world = world_with_release().await;
    world
        .start_run_outside("deploy.yml", "Deploy 1.3.0 to prod ()")
        .await;
    let started = world.tg.next_message(TEAM_CHAT).await.text;
    assert!(started.starts_with("🚀 <b>prod</b> · deploy of <b>1.3.0</b> started"));

    // The deploy job fails in its migrations; its log (with GitHub's
    // timestamps) ends in the error.
    world
        .gh
        .set_jobs(9001, &[("build", "success"), ("deploy", "failure")]);
    let mut log: String = (1..=30)
        .map(|i| format!("2026-11-25T10:41:{i:02}.1234567Z line {i}\n"))
        .collect();
    log.push_str("2026-11-25T10:41:31.1234567Z Error: relation \"users\" already exists\n");
    world.gh.set_job_log(9001, 1, "Run migrations", &log);
    world.finish_run(9001, "failure", "w-2").await;

    // The alert goes out at once, as ever…
    let failed = world.tg.next_message(ONCALL_CHAT).await;
    let alert = undiagnosed(&failed.text).to_owned();
    assert!(
        alert.starts_with("❌ <b>prod</b> · deploy of <b>1.3.0</b> failed (#1): failure"),
        "{alert}"
    );
    assert_eq!(
        world.tg.next_message(TEAM_CHAT).await.text,
        "❌ <b>prod</b> · deploy of <b>1.3.0</b> failed (#1) ↑"
    );
    // …then is edited to carry the evidence: the failed step and the last
    // 15 lines of its log, timestamps left out.
    let diagnosed = world
        .tg
        .edited(ONCALL_CHAT, Some(failed.message_id), |s| {
            s.text.contains("🔎 <b>Diagnosis</b>")
        })
        .await;
    assert!(diagnosed.text.starts_with(&alert), "{}", diagnosed.text);
    assert!(
        diagnosed
            .text
            .contains("\nFailed: job <b>deploy</b>, step <b>Run migrations</b>\n"),
        "{}",
        diagnosed.text
    );
    let tail: Vec<String> = (17..=30).map(|i| format!("line {i}")).collect();
    assert!(
        diagnosed.text.contains(&format!(
            "\nLast 15 lines of its log:\n<pre>{}\nError: relation &quot;users&quot; already exists</pre>",
            tail.join("\n")
        )),
        "{}",
        diagnosed.text
    );
    assert!(
        diagnosed.text.contains("\nAWS credentials: ECS answers\n"),
        "{}",
        diagnosed.text
    );
    // The team chat's copy (its "started" message) is edited the same way.
    let team = world
        .tg
        .edited(TEAM_CHAT, None, |s| {
            s.text.starts_with("❌") && s.text.contains("🔎 <b>Diagnosis</b>")
        })
        .await;
    assert_eq!(team.text, diagnosed.text);
}

#[tokio::test]
async fn a_deploy_confirmed_unhealthy_names_why_its_tasks_stopped() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.confirm_within = "2s";
    world.start_bot().await;
    // A task of what dev runs (1.2.3) was killed for its memory.
    let cluster = world.cluster("dev");
    crate::support::moto::stopped_task(
        &world.ecs,
        &cluster,
        &format!("{}-dev-api:2", world.prefix),
        "OutOfMemoryError: Container killed due to memory usage",
    )
    .await;

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
        .await;
    assert!(
        diagnosed.text.contains(
            "\nStopped tasks of the last deployment: 1\n• OutOfMemoryError: Container killed due to memory usage"
        ),
        "{}",
        diagnosed.text
    );
}

#[tokio::test]
async fn diagnose_answers_its_checklist_to_those_who_answer_for_the_environment() {
    let world = world_with_release().await;
    let text = world.say(TEAM_CHAT, &BOB, "/diagnose prod").await.text;
    assert!(
        text.starts_with("🔎 <b>Diagnosis of prod</b>\n✅ AWS credentials: ECS answers\n"),
        "{text}"
    );
    assert!(
        text.contains("\n✅ Stopped tasks of the last deployment: none\n"),
        "{text}"
    );
    assert!(text.contains("\n✅ Health URL: 200 in "), "{text}");

    // QA neither holds an incident role nor deploys to prod.
    let text = world.say(TEAM_CHAT, &CAROL, "/diagnose prod").await.text;
    assert_eq!(
        text,
        "⛔ Diagnosing is for: senior, developer. You hold none of these roles."
    );
    // Someone not in the team is refused as for any command.
    let text = world.say(TEAM_CHAT, &MALLORY, "/diagnose prod").await.text;
    assert!(text.contains(&MALLORY.id.to_string()), "{text}");
}

#[tokio::test]
async fn a_health_monitor_alarm_is_edited_with_the_evidence() {
    let mut world = World::new().await;
    world.seed().await;
    world.monitor_interval = "100ms";
    world.start_bot().await;

    world.health.answer("staging", 503);
    let down = world.tg.next_message(TEAM_CHAT).await;
    assert!(
        undiagnosed(&down.text)
            .starts_with("🔴 <b>staging</b> · health check failing 2 times in a row: "),
        "{}",
        down.text
    );
    let diagnosed = world
        .tg
        .edited(TEAM_CHAT, Some(down.message_id), |s| {
            s.text.contains("🔎 <b>Diagnosis</b>")
        })
        .await;
    assert!(
        diagnosed.text.starts_with(undiagnosed(&down.text)),
        "{}",
        diagnosed.text
    );
    assert!(
        diagnosed.text.contains("\nHealth URL: 503 in "),
        "{}",
        diagnosed.text
    );
    assert!(
        diagnosed.text.contains("\nAWS credentials: ECS answers\n"),
        "{}",
        diagnosed.text
    );
}

#[tokio::test]
async fn diagnose_names_the_aws_error_when_the_bots_credentials_are_refused() {
    let proxy = EcsProxy::start().await;
    let mut world = World::new().await;
    world.ecs_endpoint = Some(proxy.url.clone());
    world.seed().await;
    world.start_bot().await;
    // The bot's role lost its ECS permissions.
    proxy.deny("DescribeServices");
    let text = world.say(TEAM_CHAT, &BOB, "/diagnose prod").await.text;
    // The error's code, not the ARNs it names (they stay in the log).
    assert!(
        text.starts_with(
            "🔎 <b>Diagnosis of prod</b>\n❌ AWS credentials: ECS refuses (AccessDeniedException (details in the bot's log, ref "
        ),
        "{text}"
    );
    assert!(!text.contains("arn:"), "{text}");
    assert!(
        text.contains("\n❌ Stopped tasks could not be read (AccessDeniedException"),
        "{text}"
    );
}

#[tokio::test]
async fn a_failed_rollback_is_edited_with_its_failed_step_and_its_logs_tail() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.roll_out("prod", "1.3.0").await;
    world.start_bot().await;
    // Mid-incident, a senior runs the Rollback workflow from GitHub's UI.
    world
        .start_run_outside("rollback.yml", "Rollback 1.2.2 to prod ()")
        .await;
    let started = world.tg.next_message(TEAM_CHAT).await.text;
    assert!(
        started.starts_with("⏪ <b>prod</b> · rollback to <b>1.2.2</b> started (#1)"),
        "{started}"
    );

    // Its ECS step fails: the service cannot take the old task definition.
    world.gh.set_jobs(9001, &[("rollback", "failure")]);
    let log = "2026-11-25T10:41:01.1234567Z Updating service aletheia-api\n\
               2026-11-25T10:41:02.1234567Z Error: ClientException: TaskDefinition is inactive\n";
    world.gh.set_job_log(9001, 0, "Update ECS service", log);
    world.finish_run(9001, "failure", "w-2").await;
    let failed = world.tg.next_message(ONCALL_CHAT).await;
    assert!(
        undiagnosed(&failed.text)
            .starts_with("❌ <b>prod</b> · rollback to <b>1.2.2</b> failed (#1): failure"),
        "{}",
        failed.text
    );
    world.tg.next_message(TEAM_CHAT).await;
    let diagnosed = world
        .tg
        .edited(ONCALL_CHAT, Some(failed.message_id), |s| {
            s.text.contains("🔎 <b>Diagnosis</b>")
        })
        .await;
    assert!(
        diagnosed.text.contains(
            "\nFailed: job <b>rollback</b>, step <b>Update ECS service</b>\
             \nLast 2 lines of its log:\n<pre>Updating service aletheia-api\
             \nError: ClientException: TaskDefinition is inactive</pre>\n"
        ),
        "{}",
        diagnosed.text
    );
    // The team chat's copy (its "started" message) carries it too.
    world
        .tg
        .edited(TEAM_CHAT, None, |s| {
            s.text.starts_with("❌") && s.text == diagnosed.text
        })
        .await;
}

/// A world whose GitHub gives the bot a minute to answer (longer than
/// any test waits), with prod's 1.3.0 released.
async fn world_with_a_patient_github() -> World {
    let mut world = World::new().await;
    world.github_timeout = "60s";
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.start_bot().await;
    world
}

/// Requests for run 9001's jobs wait until the guard is dropped.
fn hold_run_jobs(world: &World) -> crate::support::github::Held {
    world.gh.hold(&format!(
        "/repos/{}/{}/actions/runs/9001/jobs",
        crate::support::github::OWNER,
        crate::support::github::REPO
    ))
}

#[tokio::test]
async fn a_failure_alert_goes_out_while_github_stalls_and_its_diagnosis_follows() {
    let world = world_with_a_patient_github().await;
    world
        .start_run_outside("deploy.yml", "Deploy 1.3.0 to prod ()")
        .await;
    world.tg.next_message(TEAM_CHAT).await;

    // GitHub stalls on the run's jobs (for longer than the test waits
    // for any message) as the run's end is told: the alert waits on
    // nothing of GitHub's.
    world.gh.set_jobs(9001, &[("deploy", "failure")]);
    let jobs = hold_run_jobs(&world);
    world.finish_run(9001, "failure", "w-2").await;
    let failed = world.tg.next_message(ONCALL_CHAT).await;
    assert_eq!(
        undiagnosed(&failed.text),
        "❌ <b>prod</b> · deploy of <b>1.3.0</b> failed (#1): failure\n\
         <a href=\"https://github.com/mindburn-labs/aletheia/actions/runs/9001\">Logs</a>"
    );
    world.tg.next_message(TEAM_CHAT).await;
    // The failed jobs come with the diagnosis, once GitHub answers.
    drop(jobs);
    let diagnosed = world
        .tg
        .edited(ONCALL_CHAT, Some(failed.message_id), |s| {
            s.text.contains("🔎 <b>Diagnosis</b>")
        })
        .await;
    assert!(
        diagnosed.text.contains("\nFailed: job <b>deploy</b>"),
        "{}",
        diagnosed.text
    );
}

#[tokio::test]
async fn a_failed_releases_alert_goes_without_its_jobs_when_github_stalls() {
    let world = world_with_a_patient_github().await;
    world
        .start_run_outside("release.yml", "Release 1.4.0 (manual)")
        .await;
    world.tg.next_message(TEAM_CHAT).await;

    // A release has no diagnosis to follow: its alert names the failed
    // jobs when GitHub lists them in time (a second), and goes without
    // when it stalls (for longer than the test waits for any message).
    world.gh.set_jobs(9001, &[("build", "failure")]);
    let jobs = hold_run_jobs(&world);
    world.finish_run(9001, "failure", "w-2").await;
    let failed = world.tg.next_message(ONCALL_CHAT).await;
    assert_eq!(
        failed.text,
        "❌ <b>Release 1.4.0</b> failed (#1): failure\n\
         <a href=\"https://github.com/mindburn-labs/aletheia/actions/runs/9001\">Logs</a>"
    );
    world.tg.next_message(TEAM_CHAT).await;
    drop(jobs);
}
