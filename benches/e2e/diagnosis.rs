//! The `diagnosis` phase: failed deploy runs told by webhook while GitHub
//! and ECS answer in their usual time. Two figures against the incident
//! bar: the webhook to the failure alert (p99 ≤ 50 ms) and to the edit
//! that carries its diagnosis (p99 ≤ 3 s).

use std::time::{Duration, Instant};

use aletheia_bot::store::Store;

use super::support::ecs_proxy::EcsProxy;
use super::support::github::{post_signed_webhook, workflow_run_event};
use super::support::*;
use super::{accepted_in, figure, percentiles, staging_approved, until_state, until_unbound};

/// The bars of the incident issue.
const ALERT_BAR_MS: f64 = 50.0;
const DIAGNOSIS_BAR_MS: f64 = 3000.0;

/// `E2E_LATENCY_MS=<min>-<max>` (100-300): how long the fake GitHub's API
/// and ECS (through the proxy) take to answer each request.
fn latency() -> (Duration, Duration) {
    let range = std::env::var("E2E_LATENCY_MS").unwrap_or_else(|_| "100-300".into());
    let (min, max) = range
        .split_once('-')
        .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
        .filter(|(a, b): &(u64, u64)| a <= b)
        .expect("E2E_LATENCY_MS is <min>-<max> in milliseconds");
    (Duration::from_millis(min), Duration::from_millis(max))
}

/// `n` failed staging deploys, one at a time: each asked in a private
/// chat of its own (512 of them, so no chat's limit binds) and approved
/// there by QA, its run's deploy job failing with a log, then the run told
/// failed by a signed webhook; timed from the POST to the prompt's edit
/// into the failure, and to its edit that carries the diagnosis.
pub async fn diagnosis(n: usize) {
    let proxy = EcsProxy::start().await;
    let mut world = World::new().await;
    world.ecs_endpoint = Some(proxy.url.clone());
    world.skip_unread("a benchmark times the bot; it reads no messages");
    world.log_filter = Some("warn");
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.start_bot().await;
    super::until_ready(&world, 0).await;
    let store = world.store().await;
    let (min, max) = latency();
    world.gh.set_latency(min, max);
    proxy.set_latency(min, max);

    let (mut alerts, mut diagnoses) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let chat = 780_000_000 + (i % 512) as i64;
        let (alert, diagnosis) = one_failure(&world, &store, chat).await;
        alerts.push(alert);
        diagnoses.push(diagnosis);
    }
    let verdict = |samples: Vec<Duration>, bar: f64| {
        let mut v = percentiles(samples);
        v["bar_p99_ms"] = bar.into();
        v["pass"] = (v["p99_ms"].as_f64().unwrap() <= bar).into();
        v["latency_ms"] = format!("{}-{}", min.as_millis(), max.as_millis()).into();
        v
    };
    figure("diagnosis_webhook_to_alert", verdict(alerts, ALERT_BAR_MS));
    figure(
        "diagnosis_webhook_to_edit",
        verdict(diagnoses, DIAGNOSIS_BAR_MS),
    );
}

/// One failed staging deploy: (webhook to its failure alert, webhook to
/// the alert's diagnosis), both in `chat`.
async fn one_failure(world: &World, store: &Store, chat: i64) -> (Duration, Duration) {
    let (id, number, tap, _) = staging_approved(world, store, chat).await;
    let run = 9000 + number as u64;
    until_state(store, id, &["dispatched", "running"]).await;
    // The approval's own edit out first.
    accepted_in(world, chat, world.tg.handed_out(tap).unwrap()).await;
    world
        .gh
        .set_jobs(run, &[("build", "success"), ("deploy", "failure")]);
    let log: String = (1..=40)
        .map(|i| format!("2026-11-25T10:41:{:02}.1234567Z step output {i}\n", i % 60))
        .chain(std::iter::once(
            "2026-11-25T10:41:59.1234567Z Error: service aletheia-api did not stabilize\n".into(),
        ))
        .collect();
    world.gh.set_job_log(run, 1, "Deploy to ECS", &log);
    // A quiet second in the chat: no limit of Telegram's binds there.
    until_unbound(world, chat).await;
    let body = world.gh.set_run(run, "completed", Some("failure"));
    let posted = Instant::now();
    let response = post_signed_webhook(
        &world.bot_url(),
        "workflow_run",
        &format!("fail-{run}"),
        &workflow_run_event("completed", &body),
    )
    .await;
    assert!(response.status().is_success(), "{}", response.status());
    let alert = accepted_in(world, chat, posted).await - posted;
    let diagnosed = diagnosed_in(world, chat).await - posted;
    (alert, diagnosed)
}

/// When the fake first holds a message in `chat` that carries a diagnosis
/// (polled every millisecond).
async fn diagnosed_in(world: &World, chat: i64) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if world
            .tg
            .sent_to(chat)
            .iter()
            .any(|s| s.text.starts_with("❌") && s.text.contains("🔎 <b>Diagnosis</b>"))
        {
            return Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "no diagnosis reached chat {chat}: {:#?}",
            world.tg.sent_to(chat)
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
