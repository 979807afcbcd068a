//! The `growth` phase: `/status` and `/history` as the store grows.

use super::*;

/// `/status` and `/history` as the store grows to 10, 10,000 and
/// 1,000,000 operations (each with an alert sent): answer time, from the
/// update handed out to the answer accepted.
pub(super) async fn growth() {
    // One operation every 10 minutes, the newest now: a million reach 19
    // years back, and /stats 7 reads the 1,008 of its week at most.
    const COMMANDS: [&str; 4] = ["/status", "/history", "/history prod", "/stats 7"];
    let mut world = world_on(false).await;
    let url = world.database_url();
    let mut have = 0u64;
    let mut results = serde_json::Map::new();
    for (level, size) in [10u64, 10_000, 1_000_000].into_iter().enumerate() {
        world.kill_bot().await;
        {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            let now = aletheia_bot::store::now_ms();
            sqlx::query(
                "WITH RECURSIVE n(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM n WHERE i < $2) \
                 INSERT INTO operations (kind, env, version, state, requested_by, chat_id, request_id, \
                   run_id, created_at, updated_at) \
                 SELECT CASE i % 4 WHEN 0 THEN 'release' ELSE 'deploy' END, \
                   CASE i % 4 WHEN 0 THEN NULL WHEN 1 THEN 'dev' WHEN 2 THEN 'staging' ELSE 'prod' END, \
                   '1.' || (i / 1000) || '.' || (i % 1000), \
                   CASE i % 7 WHEN 0 THEN 'failed' ELSE 'succeeded' END, \
                   100000001, 0, 'seed-' || i, 60000000 + i, $3 - ($2 - i) * 600000, $3 - ($2 - i) * 600000 \
                 FROM n",
            )
            .bind(have as i64 + 1)
            .bind(size as i64)
            .bind(now)
            .execute(&mut conn)
            .await
            .unwrap();
            sqlx::query(
                "WITH RECURSIVE n(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM n WHERE i < $2) \
                 INSERT INTO alert_outbox (dedup_key, kind, env, chat_id, text, state, next_attempt_at, \
                   message_id, created_at, sent_at) \
                 SELECT 'seed-' || i, 'deployment', 'dev', -1001000000001, 'seeded alert ' || i, 'sent', 0, \
                   i, $3, $3 FROM n",
            )
            .bind(have as i64 + 1)
            .bind(size as i64)
            .bind(now)
            .execute(&mut conn)
            .await
            .unwrap();
            sqlx::query("ANALYZE").execute(&mut conn).await.unwrap();
        }
        have = size;
        let calls = world.tg.calls("getUpdates").len();
        world.start_bot().await;
        until_ready(&world, calls).await;
        let mut paced = tokio::time::Instant::now();
        for (c, command) in COMMANDS.into_iter().enumerate() {
            let mut samples = Vec::new();
            for i in 0..20 {
                // A chat of its own for each sample, one every 40 ms: no
                // answer waits for its chat's second or for Telegram's 30
                // a second in all (the pacer would hold the 31st).
                tokio::time::sleep_until(paced).await;
                paced = tokio::time::Instant::now() + Duration::from_millis(40);
                let chat = 750_000_000 + (level as i64) * 10_000 + i * 10 + c as i64;
                world.tg.user_says(chat, ALICE.id, ALICE.name, command);
                let update = world.tg.last_update_id();
                let handed = loop {
                    if let Some(at) = world.tg.handed_out(update) {
                        break at;
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                };
                samples.push(accepted_in(&world, chat, handed).await - handed);
            }
            let mut v = percentiles(samples);
            v["command"] = command.into();
            v["operations"] = size.into();
            results.insert(format!("{command} @ {size}"), v.clone());
            println!("{}", tagged(v, "growth", "sqlite"));
        }
    }
    let p50 = |k: &str| results[k]["p50_ms"].as_f64().unwrap();
    for command in COMMANDS {
        figure(
            "growth_ratio",
            serde_json::json!({
                "command": command,
                "p50_1m_over_p50_10": (p50(&format!("{command} @ 1000000")) / p50(&format!("{command} @ 10")) * 100.0).round() / 100.0,
            }),
        );
    }
}
