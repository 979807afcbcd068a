//! Webhook ingest: a burst of signed deliveries from many connections,
//! every tenth a redelivery, counted as answered and as stored.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aletheia_bot::store::Store;

use super::support::github::{signature, workflow_run_event};
use super::support::*;
use super::{figure, rss, tagged};

/// Ingest: signed `workflow_run` events of a CI workflow (not the bot's)
/// from 32 connections for `secs`; every tenth a redelivery of an earlier
/// one. Counts what was answered and what was stored.
pub(super) async fn ingest(world: &World, store: &Store, secs: u64, backend: &str) {
    let before = store.delivery_count().await.unwrap();
    let client = reqwest::Client::new();
    let url = format!("{}/github/webhook", world.bot_url());
    let next = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let unique_ok = Arc::new(AtomicU64::new(0));
    let begun = Instant::now();
    let until = begun + Duration::from_secs(secs);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let (client, url) = (client.clone(), url.clone());
        let (next, ok, refused, unique_ok) =
            (next.clone(), ok.clone(), refused.clone(), unique_ok.clone());
        tasks.spawn(async move {
            while Instant::now() < until {
                let k = next.fetch_add(1, Ordering::Relaxed);
                // Every tenth: GitHub redelivering the one before it.
                let (delivery, run) = if k % 10 == 9 { (k - 1, k - 1) } else { (k, k) };
                let run = 50_000_000 + run;
                let payload = workflow_run_event(
                    "completed",
                    &serde_json::json!({
                        "id": run, "name": "CI", "path": ".github/workflows/ci.yml",
                        "display_title": format!("CI #{run}"), "event": "push",
                        "head_branch": "main", "status": "completed", "conclusion": "success",
                        "html_url": format!("https://github.com/o/r/actions/runs/{run}"),
                        "created_at": "2026-11-25T00:00:00Z", "run_started_at": "2026-11-25T00:00:00Z",
                        "updated_at": "2026-11-25T00:01:00Z"
                    }),
                );
                let body = serde_json::to_vec(&payload).unwrap();
                let response = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-github-event", "workflow_run")
                    .header("x-github-delivery", format!("ingest-{delivery}"))
                    .header("x-hub-signature-256", signature(github::WEBHOOK_SECRET, &body))
                    .body(body)
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status().is_success() => {
                        ok.fetch_add(1, Ordering::Relaxed);
                        if k % 10 != 9 {
                            unique_ok.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    _ => {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = begun.elapsed().as_secs_f64();
    let stored = store.delivery_count().await.unwrap() - before;
    let ok = ok.load(Ordering::Relaxed);
    println!(
        "{}",
        tagged(
            serde_json::json!({
                "seconds": (elapsed * 10.0).round() / 10.0,
                "answered_2xx": ok,
                "refused_or_failed": refused.load(Ordering::Relaxed),
                "per_second": (ok as f64 / elapsed).round(),
                "unique": unique_ok.load(Ordering::Relaxed),
                "stored": stored,
                "lost": unique_ok.load(Ordering::Relaxed) as i64 - stored,
                "concurrency": 32,
            }),
            "webhook_ingest",
            backend
        )
    );
    let pid = world.bot_pid().unwrap();
    let mut v = rss(pid);
    v["backend"] = backend.into();
    figure("rss_after_ingest", v);
}
