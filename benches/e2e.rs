//! End to end: the release-built bot in the fake world (the scenario
//! tests' fake Telegram and GitHub, moto's ECS), timed from outside.
//! One JSON line per figure on stdout, with the machine's core count.
//!
//! `cargo bench --bench e2e`. `E2E_N=<n>` changes the sample size (1000
//! commands), `E2E_INGEST_SECS` the webhook burst (30 s), `E2E_PHASES` picks
//! phases (footprint,command,alert,ingest,postgres,drain,flood,growth,
//! diagnosis,services; all by default), `E2E_FLOOD_N` the flood phase's
//! samples (20 each way). The diagnosis phase times `E2E_N` failed runs (at
//! most 100 unless `E2E_DIAGNOSIS_N` says how many) with GitHub and ECS
//! answering in `E2E_LATENCY_MS` (`100-300`: each request between 100 and
//! 300 ms). Needs moto like the tests (`.ci/test` installs it into `.venv/`)
//! and, for the postgres phase, PostgreSQL as the tests do.

#[path = "../tests/it/support/mod.rs"]
#[allow(dead_code)]
mod support;

#[path = "e2e/diagnosis.rs"]
mod diagnosis;
#[path = "e2e/footprint.rs"]
mod footprint;
#[path = "e2e/growth.rs"]
mod growth;
#[path = "e2e/ingest.rs"]
mod ingest;
#[path = "e2e/services.rs"]
mod services;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aletheia_bot::domain::{AlertKind, ChatId, OperationId};
use aletheia_bot::store::{NewAlert, Store};
use footprint::{rss, rss_kib};
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

/// Waits until the operation with this id is in one of `states`.
async fn until_state(store: &Store, id: i64, states: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let op = store.operation(OperationId(id)).await.unwrap();
        if op.is_some_and(|o| states.contains(&o.state.as_str())) {
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

fn phase(name: &str) -> bool {
    std::env::var("E2E_PHASES").map_or(true, |p| p.split(',').any(|x| x.trim() == name))
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn tagged(mut v: serde_json::Value, figure: &str, backend: &str) -> serde_json::Value {
    v["figure"] = figure.into();
    v["cores"] = cores().into();
    v["backend"] = backend.into();
    v
}

/// A bot started in a fresh fake world, on SQLite or PostgreSQL.
async fn world_on(postgres: bool) -> World {
    let mut world = World::new().await;
    world.skip_unread("a benchmark times the bot; it reads no messages");
    // `E2E_BOT_LOG` (with `SHOW_BOT_LOG=1`) to see what the bot did.
    world.log_filter = Some(match std::env::var("E2E_BOT_LOG") {
        Ok(filter) => Box::leak(filter.into_boxed_str()),
        Err(_) => "warn",
    });
    if postgres {
        world.use_postgres().await;
    }
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.start_bot().await;
    until_ready(&world, 0).await;
    world
}

/// Waits for the bot's `after`+1-th `getUpdates`: it is up and polling.
async fn until_ready(world: &World, after: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while world.tg.calls("getUpdates").len() <= after {
        assert!(Instant::now() < deadline, "the bot never polled");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Command to dispatch: `/deploy dev` (no approval), `n` times over 512
/// private chats; each run is then failed by webhook so the environment is
/// free for the next. So many chats because the bot answers a chat at most
/// once a second (Telegram's limit) and handles a chat's updates in order:
/// a command typed in a chat the bot answered less than a second ago waits
/// for that second, and that is the limit, not the bot.
async fn command_to_dispatch(
    world: &World,
    store: &Store,
    n: usize,
    first_chat: i64,
) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let chat = first_chat + (i % 512) as i64;
        world
            .tg
            .user_says(chat, ALICE.id, ALICE.name, "/deploy dev 1.3.0");
        let update = world.tg.last_update_id();
        let number = world.gh.dispatch_times().len() + 1;
        let at = dispatch_number(world, number).await;
        let handed = world.tg.handed_out(update).expect("handed out");
        let took = at.saturating_duration_since(handed);
        samples.push(took);
        let id = newest(store).await;
        if took > Duration::from_millis(100) {
            // Where to look in the bot's log (E2E_BOT_LOG, SHOW_BOT_LOG=1).
            figure(
                "command_to_dispatch_slow",
                serde_json::json!({
                    "ms": took.as_millis() as u64, "chat": chat, "update": update,
                    "operation": id, "ended_at": chrono::Utc::now().to_rfc3339(),
                }),
            );
        }
        fail_run(world, store, id, 9000 + number as u64).await;
    }
    samples
}

/// `/deploy staging 1.3.0` in `chat`, then QA's Approve on its prompt,
/// until the dispatch: the operation, the dispatch's number, the tap's
/// update id and when the dispatch came.
async fn staging_approved(world: &World, store: &Store, chat: i64) -> (i64, usize, i64, Instant) {
    world
        .tg
        .user_says(chat, ALICE.id, ALICE.name, "/deploy staging 1.3.0");
    let prompt = world
        .tg
        .next_message_starting(chat, "🚀 <b>Deploy 1.3.0 → staging</b>")
        .await;
    let id = newest(store).await;
    let number = world.gh.dispatch_times().len() + 1;
    world
        .tg
        .user_taps(&prompt, CAROL.id, CAROL.name, &format!("d:{id}:a"));
    let tap = world.tg.last_update_id();
    let at = dispatch_number(world, number).await;
    (id, number, tap, at)
}

/// The newest operation's id.
async fn newest(store: &Store) -> i64 {
    store.history(None, 1).await.unwrap()[0].id
}

/// The first message or edit the fake accepted in `chat` after `since`.
async fn accepted_in(world: &World, chat: i64, since: Instant) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(at) = world.tg.accepted_after(chat, since) {
            return at;
        }
        assert!(Instant::now() < deadline, "nothing reached chat {chat}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Waits until no limit of Telegram's binds a message to `chat`: its last
/// message a second ago (with room), the whole bot under 20 a second.
async fn until_unbound(world: &World, chat: i64) {
    loop {
        let now = Instant::now();
        let accepted = world.tg.accepted();
        let chat_quiet = accepted
            .iter()
            .rev()
            .find(|(c, _)| *c == chat)
            .is_none_or(|(_, at)| now - *at > Duration::from_millis(1100));
        let last_second = accepted
            .iter()
            .rev()
            .take_while(|(_, at)| now - *at < Duration::from_secs(1))
            .count();
        if chat_quiet && last_second < 20 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The least time Telegram's limits allow for `counts[i]` messages to
/// chat `chats[i]` (groups negative), all ready at once: one a second per
/// chat, 20 a minute per group, 30 a second in all, each a sliding window.
/// A greedy schedule, the fullest chat first, in milliseconds, from the
/// first message to the last.
fn least_drain_ms(chats: &[(i64, usize)]) -> u64 {
    let mut left: Vec<usize> = chats.iter().map(|c| c.1).collect();
    let mut sent: Vec<Vec<u64>> = vec![vec![]; chats.len()];
    let mut all: std::collections::VecDeque<u64> = Default::default();
    let mut t = 0u64;
    let mut last = 0;
    while left.iter().any(|n| *n > 0) {
        while all.front().is_some_and(|s| t - s >= 1000) {
            all.pop_front();
        }
        let mut order: Vec<usize> = (0..chats.len()).filter(|i| left[*i] > 0).collect();
        order.sort_by_key(|i| std::cmp::Reverse(left[*i]));
        for i in order {
            if all.len() >= 30 {
                break;
            }
            let mine = &sent[i];
            let free_second = mine.last().is_none_or(|s| t - s >= 1000);
            let free_minute =
                chats[i].0 > 0 || mine.iter().rev().take_while(|s| t - **s < 60_000).count() < 20;
            if free_second && free_minute {
                sent[i].push(t);
                all.push_back(t);
                left[i] -= 1;
                last = t;
            }
        }
        t += 1;
    }
    last
}

#[tokio::main]
async fn main() {
    let n = env_or("E2E_N", 1000);
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_aletheia-bot"));
    figure(
        "binary_size",
        serde_json::json!({"bytes": std::fs::metadata(binary).map(|m| m.len()).unwrap_or(0)}),
    );

    let mut world = world_on(false).await;
    if phase("footprint") {
        // Idle: started, nothing asked yet.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let pid = world.bot_pid().unwrap();
        figure("idle_rss", rss(pid));
        // Start to ready, migrations applied: spawn to the first getUpdates.
        let mut starts = Vec::new();
        for _ in 0..5 {
            world.kill_bot().await;
            let calls = world.tg.calls("getUpdates").len();
            let begun = Instant::now();
            world.start_bot().await;
            until_ready(&world, calls).await;
            starts.push(begun.elapsed());
        }
        figure("start_to_ready", percentiles(starts));
    }
    let store = world.store().await;

    if phase("command") {
        let samples = command_to_dispatch(&world, &store, n, 700_000_000).await;
        println!(
            "{}",
            tagged(percentiles(samples), "command_to_dispatch", "sqlite")
        );

        // Tap to dispatch: /deploy staging, then QA's Approve.
        let mut samples = Vec::with_capacity(n / 4);
        // Chats of their own: the prompt is the next message there.
        for i in 0..(n / 4).max(1) {
            let chat = 710_000_000 + (i % 512) as i64;
            let (id, number, tap, at) = staging_approved(&world, &store, chat).await;
            let handed = world.tg.handed_out(tap).expect("handed out");
            samples.push(at.saturating_duration_since(handed));
            fail_run(&world, &store, id, 9000 + number as u64).await;
        }
        println!(
            "{}",
            tagged(percentiles(samples), "tap_to_dispatch", "sqlite")
        );

        // What the tap waits on that is not the bot: the approval is
        // re-checked against ECS (moto here) before the dispatch.
        let mut samples = Vec::new();
        for _ in 0..(n / 4).max(1) {
            let begun = Instant::now();
            world
                .ecs
                .describe_services()
                .cluster(world.cluster("staging"))
                .services("aletheia-api")
                .send()
                .await
                .unwrap();
            samples.push(begun.elapsed());
        }
        figure("moto_describe_services", percentiles(samples));
        let pid = world.bot_pid().unwrap();
        figure(
            "rss_after_runs",
            serde_json::json!({"kib": rss_kib(pid), "operations": store.all_operations().await.unwrap().len()}),
        );
    }

    if phase("alert") {
        // Webhook to alert: a staging deploy approved and dispatched, its
        // run then failing by webhook; timed from the POST to the edit of
        // the prompt in the chat it was asked in, once no limit binds there.
        // A world of its own: the phases before leave thousands of alerts
        // queued for the team group at its 20 a minute.
        let world = world_on(false).await;
        let store = world.store().await;
        let mut samples = Vec::new();
        for i in 0..(n / 10).max(1) {
            let chat = 720_000_000 + (i % 64) as i64;
            let (id, number, tap, _) = staging_approved(&world, &store, chat).await;
            until_state(&store, id, &["dispatched", "running"]).await;
            // The approval's own edit out first, then a quiet second.
            accepted_in(&world, chat, world.tg.handed_out(tap).unwrap()).await;
            until_unbound(&world, chat).await;
            let posted = Instant::now();
            fail_run(&world, &store, id, 9000 + number as u64).await;
            samples.push(accepted_in(&world, chat, posted).await - posted);
        }
        println!(
            "{}",
            tagged(percentiles(samples), "webhook_to_alert", "sqlite")
        );
    }

    if phase("ingest") {
        let secs = env_or("E2E_INGEST_SECS", 30) as u64;
        ingest::ingest(&world, &store, secs, "sqlite").await;
    }
    drop(world);

    if phase("postgres") {
        let world = world_on(true).await;
        let store = world.store().await;
        let samples = command_to_dispatch(&world, &store, n / 2, 730_000_000).await;
        println!(
            "{}",
            tagged(percentiles(samples), "command_to_dispatch", "postgres")
        );
        let secs = env_or("E2E_INGEST_SECS", 30) as u64;
        ingest::ingest(&world, &store, secs, "postgres").await;
    }

    if phase("drain") {
        // A burst of 1,000 alerts over 20 chats (16 private, 4 groups)
        // against a fake Telegram holding the bot to the published limits.
        let world = world_on(false).await;
        world.tg.strict_limits();
        let store = world.store().await;
        let mut mix: Vec<(i64, usize)> = (0..4).map(|g| (-1_002_000_000 - g, 20)).collect();
        mix.extend((0..16).map(|p| (740_000_000 + p, if p < 8 { 58 } else { 57 })));
        let total: usize = mix.iter().map(|m| m.1).sum();
        assert_eq!(total, 1000);
        let mut alerts = Vec::new();
        // Interleaved, as a storm arrives: every chat's k-th before the (k+1)-th.
        for k in 0..58 {
            for (chat, count) in &mix {
                if k < *count {
                    alerts.push(NewAlert::message(
                        format!("drain-{k}@{chat}"),
                        AlertKind::Deployment,
                        None,
                        ChatId(*chat),
                        format!("alert {k} of {count}"),
                    ));
                }
            }
        }
        let enqueued = Instant::now();
        store.enqueue_alerts(&alerts).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(600);
        let sent = loop {
            let accepted = world.tg.accepted();
            if accepted.len() >= total {
                break accepted;
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {total} alerts out",
                accepted.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let first = sent.first().unwrap().1;
        let last = sent.last().unwrap().1;
        let span = (last - first).as_secs_f64();
        let least = least_drain_ms(&mix) as f64 / 1e3;
        figure(
            "alert_drain",
            serde_json::json!({
                "alerts": total, "chats": mix.len(), "groups": 4,
                "drain_s": (span * 1000.0).round() / 1000.0,
                "least_s": least,
                "ratio": (span / least * 1000.0).round() / 1000.0,
                "first_after_enqueue_ms": (first - enqueued).as_millis() as u64,
                "rate_limited_429": world.tg.rate_limited(),
            }),
        );
    }

    if phase("flood") {
        flood(env_or("E2E_FLOOD_N", 20)).await;
    }

    if phase("growth") {
        growth::growth().await;
    }

    if phase("diagnosis") {
        diagnosis::diagnosis(env_or("E2E_DIAGNOSIS_N", n.min(100))).await;
    }
    if phase("services") {
        services::services(env_or("E2E_SERVICES_N", 20)).await;
    }
}

/// When the update was handed to the bot.
async fn handed(world: &World, update: i64) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(at) = world.tg.handed_out(update) {
            return at;
        }
        assert!(
            Instant::now() < deadline,
            "update {update} never handed out"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// `n` times: a member's `/status` (update handed out to its answer
/// accepted by Telegram, in Alice's private chat once no limit binds
/// there) and a staging deploy's Approve (tap handed out to dispatch).
async fn team_latencies(
    world: &World,
    store: &Store,
    n: usize,
    first_chat: i64,
) -> [Vec<Duration>; 2] {
    let (mut status, mut taps) = (Vec::new(), Vec::new());
    for i in 0..n {
        until_unbound(world, ALICE.id).await;
        world
            .tg
            .user_says(ALICE.id, ALICE.id, ALICE.name, "/status");
        let at = handed(world, world.tg.last_update_id()).await;
        status.push(accepted_in(world, ALICE.id, at).await - at);
        let (id, number, tap, dispatched) =
            staging_approved(world, store, first_chat + i as i64).await;
        taps.push(dispatched.saturating_duration_since(handed(world, tap).await));
        fail_run(world, store, id, 9000 + number as u64).await;
    }
    [status, taps]
}

/// A stranger's group sends 50 commands a second (re-adding the bot
/// whenever it leaves) while the team asks `/status` and approves: the
/// team's latencies idle and under the flood, and their ratio.
async fn flood(n: usize) {
    let world = world_on(false).await;
    let store = world.store().await;
    let [status_idle, taps_idle] = team_latencies(&world, &store, n, 760_000_000).await;
    let sent = AtomicU64::new(0);
    let flooding = async {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        loop {
            tick.tick().await;
            if !world.tg.bot_in(STRANGER_CHAT) {
                world.tg.add_bot_to(STRANGER_CHAT);
            }
            let k = sent.fetch_add(1, Ordering::Relaxed);
            let text = ["/status", "/deploy prod 1.3.0", "/whoami", "/help"][k as usize % 4];
            world
                .tg
                .user_says(STRANGER_CHAT, MALLORY.id, MALLORY.name, text);
        }
    };
    let measured = tokio::select! {
        () = flooding => unreachable!(),
        m = async {
            // A second of flood first: the bot is in it when measured.
            tokio::time::sleep(Duration::from_secs(1)).await;
            team_latencies(&world, &store, n, 770_000_000).await
        } => m,
    };
    let [status_flood, taps_flood] = measured;
    let p50 = |v: &[Duration]| percentiles(v.to_vec())["p50_ms"].as_f64().unwrap();
    let ratio = |a: f64, b: f64| ((a / b) * 1000.0).round() / 1000.0;
    figure(
        "flood",
        serde_json::json!({
            "stranger_commands": sent.load(Ordering::Relaxed),
            "stranger_per_second": 50,
            "stranger_answers": world.tg.sent_to(STRANGER_CHAT).len(),
            "leave_chat_calls": world.tg.calls("leaveChat").len(),
            "status_idle": percentiles(status_idle.clone()),
            "status_flood": percentiles(status_flood.clone()),
            "status_p50_ratio": ratio(p50(&status_flood), p50(&status_idle)),
            "tap_idle": percentiles(taps_idle.clone()),
            "tap_flood": percentiles(taps_flood.clone()),
            "tap_p50_ratio": ratio(p50(&taps_flood), p50(&taps_idle)),
        }),
    );
}
