//! Outbox throughput: how fast alerts go into the store, and how fast the
//! deliverer's store work (due → lease → sent) drains them, on SQLite (a
//! temporary file) and on PostgreSQL when one answers at BENCH_POSTGRES_URL
//! (default postgres://postgres@127.0.0.1:5432/test, a fresh schema).
//! Telegram is not in the loop: its limits (20 a minute per group) are
//! thousands of times slower, so the store is never what holds alerts back.
//!
//! Run: `cargo bench --bench outbox` (prints alerts per second).

use std::time::Instant;

use aletheia_bot::domain::{AlertKind, ChatId};
use aletheia_bot::store::{NewAlert, Store};

const ALERTS: usize = 5_000;
const BATCH: usize = 100;
const CHATS: i64 = 10;

fn alerts(round: usize) -> Vec<NewAlert> {
    (0..ALERTS)
        .map(|n| {
            NewAlert::message(
                format!("bench:{round}:{n}"),
                AlertKind::Deployment,
                None,
                ChatId(-1_003_000_000_000 - (n as i64 % CHATS)),
                format!("✅ <b>prod</b> · <b>1.3.{n}</b> deployed (#{n}) in 4m 12s"),
            )
        })
        .collect()
}

async fn run(name: &str, store: &Store) {
    let batch = alerts(0);
    let start = Instant::now();
    for chunk in batch.chunks(BATCH) {
        store.enqueue_alerts(chunk).await.unwrap();
    }
    let enqueue = start.elapsed();

    let start = Instant::now();
    let mut sent = 0;
    loop {
        let due = store.due_alerts(BATCH as i64, BATCH as i64).await.unwrap();
        if due.is_empty() {
            break;
        }
        for row in due {
            assert!(store.lease_alert(row.id, 60_000, "bench").await.unwrap());
            store.alert_sent(row.id, row.id).await.unwrap();
            sent += 1;
        }
    }
    let drain = start.elapsed();
    assert_eq!(sent, ALERTS);
    let rate = |d: std::time::Duration| ALERTS as f64 / d.as_secs_f64();
    println!(
        "{name:<10} enqueue {:>8.0} alerts/s ({} per transaction) · drain (due, lease, sent) {:>7.0} alerts/s",
        rate(enqueue),
        BATCH,
        rate(drain)
    );
}

#[tokio::main]
async fn main() {
    println!(
        "outbox bench: {ALERTS} alerts to {CHATS} chats on {} CPU(s)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open(&format!(
        "sqlite://{}",
        dir.path().join("bench.db").display()
    ))
    .await
    .unwrap();
    run("sqlite", &sqlite).await;

    let url = std::env::var("BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
    match sqlx::PgPool::connect(&url).await {
        Ok(admin) => {
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&admin)
                .await
                .unwrap();
            let sep = if url.contains('?') { '&' } else { '?' };
            let pg = Store::open(&format!("{url}{sep}options=-csearch_path%3D{schema}"))
                .await
                .unwrap();
            run("postgres", &pg).await;
            pg.close().await;
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&admin)
                .await
                .unwrap();
        }
        Err(e) => println!("postgres   skipped: {e}"),
    }
}
