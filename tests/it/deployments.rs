//! `github.deployments`: every deploy and rollback the bot runs is a
//! GitHub Deployment of its environment with its statuses, so GitHub's
//! Environments page tells the same story as /history — and a GitHub
//! outage or a restart delays that record, never a deploy, and never
//! writes it twice.

use std::time::Duration;

use crate::follow::run_event;
use crate::support::github::{Deployment, OWNER, REPO};
use crate::support::*;

const RECORDED_WITHIN: Duration = Duration::from_secs(30);

fn run_url(run: u64) -> String {
    format!("https://github.com/{OWNER}/{REPO}/actions/runs/{run}")
}

/// Waits until GitHub holds `n` deployments, the last with `states`.
async fn until_recorded(world: &World, n: usize, states: &[&str]) -> Vec<Deployment> {
    eventually(RECORDED_WITHIN, "the deployments on GitHub", || async {
        let all = world.gh.deployments();
        all.len() == n && all.last().is_some_and(|d| d.states() == states)
    })
    .await;
    world.gh.deployments()
}

/// The status of a deployment in this state.
fn status<'a>(d: &'a Deployment, state: &str) -> &'a serde_json::Value {
    d.statuses.iter().find(|s| s["state"] == state).unwrap()
}

#[tokio::test]
async fn deploys_rollbacks_and_failures_are_github_deployments_with_their_statuses() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.github_deployments = true;
    world.start_bot().await;
    world.verified_on_staging("1.3.0").await;

    // Bob deploys 1.3.0 to prod, Dave approves; it runs, rolls out, holds.
    let prompt = world.say(TEAM_CHAT, &BOB, "/deploy prod 1.3.0").await;
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:2:a");
    world.tg.tap_answer(&tap).await;
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.contains("started")
        })
        .await;
    let run = world.gh.set_run(9001, "in_progress", None);
    run_event(&world, "w-1", "in_progress", &run).await;
    world.roll_out("prod", "1.3.0").await;
    world.finish_run(9001, "success", "w-2").await;
    world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("✅ <b>prod</b>"))
        .await;

    // GitHub holds one deployment of prod, its statuses in order.
    let all = until_recorded(&world, 1, &["queued", "in_progress", "success"]).await;
    let deploy = &all[0];
    assert_eq!(deploy.environment, "prod");
    assert_eq!(deploy.git_ref, "v1.3.0");
    assert_eq!(deploy.payload, serde_json::json!({"aletheia_operation": 2}));
    assert_eq!(
        deploy.description,
        "Deploy of 1.3.0 to prod (aletheia-bot operation #2)"
    );
    let success = status(deploy, "success");
    assert_eq!(success["environment_url"], world.health.url_of("prod"));
    assert_eq!(success["log_url"], run_url(9001));
    assert_eq!(success["description"], "Running on ECS and healthy");

    // Bob rolls prod back to 1.2.2, Dave approves: a deployment of its own,
    // and the one it replaced is inactive.
    let prompt = world.say(TEAM_CHAT, &BOB, "/rollback prod 1.2.2").await;
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:3:a");
    world.tg.tap_answer(&tap).await;
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.contains("started")
        })
        .await;
    world.roll_out("prod", "1.2.2").await;
    world.finish_run(9002, "success", "w-3").await;
    world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("✅ <b>prod</b>"))
        .await;
    let all = until_recorded(&world, 2, &["queued", "in_progress", "success"]).await;
    eventually(RECORDED_WITHIN, "1.3.0's deployment inactive", || async {
        world.gh.deployments()[0].states() == ["queued", "in_progress", "success", "inactive"]
    })
    .await;
    let rollback = &all[1];
    assert_eq!(
        (rollback.environment.as_str(), rollback.git_ref.as_str()),
        ("prod", "v1.2.2")
    );
    assert_eq!(
        rollback.description,
        "Rollback of 1.2.2 to prod (aletheia-bot operation #3)"
    );
    assert_eq!(status(rollback, "success")["log_url"], run_url(9002));

    // Alice deploys 1.3.0 to dev; the run fails: its deployment says so,
    // and prod's are left as they are.
    world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    world.finish_run(9003, "failure", "w-4").await;
    world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("❌ <b>dev</b>"))
        .await;
    assert_eq!(
        world.tg.next_message(TEAM_CHAT).await.text,
        "❌ <b>dev</b> · deploy of <b>1.3.0</b> failed (#4) ↑"
    );
    let all = until_recorded(&world, 3, &["queued", "failure"]).await;
    assert_eq!(
        (all[2].environment.as_str(), all[2].git_ref.as_str()),
        ("dev", "v1.3.0")
    );
    assert_eq!(
        status(&all[2], "failure")["environment_url"],
        world.health.url_of("dev")
    );
    assert_eq!(
        all[0].states(),
        ["queued", "in_progress", "success", "inactive"]
    );
    assert_eq!(all[1].states(), ["queued", "in_progress", "success"]);
    // Each deployment made once, each status posted once.
    let posts = world
        .gh
        .requests()
        .into_iter()
        .filter(|r| r.ends_with("/deployments"))
        .count();
    assert_eq!(posts, 3);
}

#[tokio::test]
async fn github_down_delays_the_record_never_the_deploy_and_nothing_is_recorded_twice() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.github_deployments = true;
    world.start_bot().await;
    let deployments = format!("/repos/{OWNER}/{REPO}/deployments");
    world.gh.fail(&deployments, 502);

    // The deploy runs through as ever while GitHub refuses the record.
    world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    world.roll_out("dev", "1.3.0").await;
    world.finish_run(9001, "success", "w-1").await;
    world
        .tg
        .edited(TEAM_CHAT, None, |s| {
            s.text
                .starts_with("✅ <b>dev</b> · <b>1.3.0</b> deployed (#1)")
        })
        .await;
    let tried = || {
        world
            .gh
            .requests()
            .iter()
            .filter(|r| r.starts_with(&deployments))
            .count()
    };
    eventually(RECORDED_WITHIN, "two attempts at the record", || async {
        tried() >= 2
    })
    .await;
    assert!(world.gh.deployments().is_empty());

    // The bot restarts meanwhile; GitHub comes back, but two of its
    // answers are lost after it acted (the deployment, then the
    // in_progress status): the bot finds them there rather than making
    // them again.
    world.restart_bot().await;
    world.gh.lose_answers_to(&["deployment", "in_progress"]);
    world.gh.heal(&deployments);
    let all = until_recorded(&world, 1, &["queued", "in_progress", "success"]).await;
    assert_eq!(
        (all[0].environment.as_str(), all[0].git_ref.as_str()),
        ("dev", "v1.3.0")
    );
    assert_eq!(status(&all[0], "success")["log_url"], run_url(9001));
}
