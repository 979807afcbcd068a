//! End to end: the release-built bot in the fake world (the scenario
//! tests' fake Telegram and GitHub, moto's ECS), timed from outside.
//! One JSON line per figure on stdout, with the machine's core count.
//!
//! `cargo bench --bench e2e` (`E2E_N=<n>` changes the sample size).
//! Needs moto like the tests (`.ci/test` installs it into `.venv/`).

#[path = "../tests/it/support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::time::{Duration, Instant};

use aletheia_bot::store::Store;
use support::github::{post_signed_webhook, workflow_run_event};
use support::*;

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn figure(name: &str, fields: serde_json::Value) {
    let mut line = serde_json::json!({"figure": name, "cores": cores()});
    for (k, v) in fields.as_object().unwrap() {
        line[k] = v.clone();
    }
    println!("{line}");
}

/// p50 and p99 in milliseconds (three decimals).
fn percentiles(mut samples: Vec<Duration>) -> serde_json::Value {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
        (samples[i].as_secs_f64() * 1e6).round() / 1e3
    };
    serde_json::json!({"n": samples.len(), "p50_ms": at(0.50), "p90_ms": at(0.90), "p99_ms": at(0.99), "max_ms": at(1.0)})
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Waits until the operation with this id is in one of `states`.
async fn until_state(store: &Store, id: i64, states: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ops = store.all_operations().await.unwrap();
        if ops
            .iter()
            .any(|o| o.id == id && states.contains(&o.state.as_str()))
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "operation {id} never reached {states:?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Waits for the `n`-th dispatch (1-based) and returns when it came.
async fn dispatch_number(world: &World, n: usize) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(at) = world.gh.dispatch_times().get(n - 1) {
            return *at;
        }
        assert!(Instant::now() < deadline, "dispatch #{n} never came");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Ends operation `id`'s run (run `9000 + dispatch number`) as failed,
/// freeing its environment; returns when the bot has recorded it.
async fn fail_run(world: &World, store: &Store, id: i64, run: u64) {
    let body = world.gh.set_run(run, "completed", Some("failure"));
    let response = post_signed_webhook(
        &world.bot_url(),
        "workflow_run",
        &format!("done-{run}"),
        &workflow_run_event("completed", &body),
    )
    .await;
    assert!(response.status().is_success());
    until_state(store, id, &["failed"]).await;
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("E2E_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_aletheia-bot"));
    figure(
        "binary_size",
        serde_json::json!({"bytes": std::fs::metadata(binary).map(|m| m.len()).unwrap_or(0)}),
    );

    let mut world = World::new().await;
    world.log_filter = Some("warn");
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.start_bot().await;
    // Idle: started, nothing asked yet.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = world.bot_pid().unwrap();
    figure("idle_rss", serde_json::json!({"kib": rss_kib(pid)}));

    // Start to ready, migrations applied: spawn to /healthz answering and
    // the first getUpdates.
    let mut starts = Vec::new();
    for _ in 0..5 {
        world.kill_bot().await;
        let calls = world.tg.calls("getUpdates").len();
        let begun = Instant::now();
        world.start_bot().await;
        while world.tg.calls("getUpdates").len() <= calls {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        starts.push(begun.elapsed());
    }
    figure("start_to_ready", percentiles(starts));

    let store = world.store().await;
    // Private chats (Telegram's limit there is a message a second each),
    // taken in turn so that no answer waits on the one before it.
    let chats: Vec<i64> = (0..64).map(|i| 700_000_000 + i).collect();
    let mut dispatched = 0usize;

    // Command to dispatch: /deploy dev (no approval), N times; each run is
    // then failed by webhook so the environment is free for the next.
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let chat = chats[i % chats.len()];
        world
            .tg
            .user_says(chat, ALICE.id, ALICE.name, "/deploy dev 1.3.0");
        let update = world.tg.last_update_id();
        dispatched += 1;
        let at = dispatch_number(&world, dispatched).await;
        let handed = world.tg.handed_out(update).expect("handed out");
        samples.push(at.saturating_duration_since(handed));
        let id = store.all_operations().await.unwrap().last().unwrap().id;
        fail_run(&world, &store, id, 9000 + dispatched as u64).await;
    }
    println!("{}", {
        let mut v = percentiles(samples);
        v["figure"] = "command_to_dispatch".into();
        v["cores"] = cores().into();
        v["backend"] = "sqlite".into();
        v
    });

    // Tap to dispatch: /deploy staging, then QA's Approve.
    let mut samples = Vec::with_capacity(n / 4);
    // Chats of their own: the prompt is the next message there.
    let chats: Vec<i64> = (0..64).map(|i| 710_000_000 + i).collect();
    for i in 0..(n / 4).max(1) {
        let chat = chats[i % chats.len()];
        world
            .tg
            .user_says(chat, ALICE.id, ALICE.name, "/deploy staging 1.3.0");
        let prompt = world
            .tg
            .next_message_starting(chat, "🚀 <b>Deploy 1.3.0 → staging</b>")
            .await;
        let id = store.all_operations().await.unwrap().last().unwrap().id;
        let data = format!("d:{id}:a");
        world.tg.user_taps(&prompt, CAROL.id, CAROL.name, &data);
        let update = world.tg.last_update_id();
        dispatched += 1;
        let at = dispatch_number(&world, dispatched).await;
        let handed = world.tg.handed_out(update).expect("handed out");
        samples.push(at.saturating_duration_since(handed));
        fail_run(&world, &store, id, 9000 + dispatched as u64).await;
    }
    println!("{}", {
        let mut v = percentiles(samples);
        v["figure"] = "tap_to_dispatch".into();
        v["cores"] = cores().into();
        v["backend"] = "sqlite".into();
        v
    });

    let pid = world.bot_pid().unwrap();
    figure(
        "rss_after_runs",
        serde_json::json!({"kib": rss_kib(pid), "operations": dispatched}),
    );
}
