//! `/status` of three environments of eight ECS services each, against
//! the same world of one service per environment: ECS is asked once per
//! cluster, the clusters at once, so eight services should cost little
//! more than one.

use std::time::Duration;

use super::support::*;
use super::{accepted_in, figure, handed, percentiles, until_ready, until_unbound};

/// The services each environment runs beside `aletheia-api`.
const EXTRA: [&str; 7] = [
    "svc-1", "svc-2", "svc-3", "svc-4", "svc-5", "svc-6", "svc-7",
];

/// `n` samples of Alice's `/status` (handed out to answer accepted) in a
/// world where each environment runs `1 + extra` services.
async fn status_with(extra: &[&'static str], n: usize) -> Vec<Duration> {
    let mut world = World::new().await;
    world.skip_unread("a benchmark times the bot; it reads no messages");
    world.log_filter = Some("warn");
    world.extra_services = ["dev", "staging", "prod"]
        .into_iter()
        .flat_map(|env| extra.iter().map(move |s| (env, *s)))
        .collect();
    world.seed().await;
    for env in ["dev", "staging", "prod"] {
        for service in extra {
            world
                .seed_extra_service(env, service, "repo/aletheia:1.2.3")
                .await;
        }
    }
    world.start_bot().await;
    until_ready(&world, 0).await;
    let mut samples = Vec::with_capacity(n);
    // The first answer reads every task definition once (then cached):
    // timed apart.
    for _ in 0..=n {
        until_unbound(&world, ALICE.id).await;
        world
            .tg
            .user_says(ALICE.id, ALICE.id, ALICE.name, "/status");
        let at = handed(&world, world.tg.last_update_id()).await;
        samples.push(accepted_in(&world, ALICE.id, at).await - at);
    }
    let first = samples.remove(0);
    figure(
        "status_services_first",
        serde_json::json!({"services_per_env": 1 + extra.len(), "ms": first.as_secs_f64() * 1000.0}),
    );
    samples
}

/// The phase: both worlds, their p50s and the ratio.
pub async fn services(n: usize) {
    let one = percentiles(status_with(&[], n).await);
    let eight = percentiles(status_with(&EXTRA, n).await);
    let ratio = eight["p50_ms"].as_f64().unwrap() / one["p50_ms"].as_f64().unwrap();
    figure(
        "status_services",
        serde_json::json!({
            "one_per_env": one,
            "eight_per_env": eight,
            "p50_ratio": (ratio * 100.0).round() / 100.0,
        }),
    );
}
