//! Retention in the store of each backend: old webhook payloads emptied
//! (their ids still catching a redelivery), old sent alerts deleted but
//! never one that may still be read, in bounded batches; the audit log
//! kept; every table counted.

use std::time::Duration;

use aletheia_bot::domain::{AlertKind, ChatId, retention_cutoffs};
use aletheia_bot::store::{AuditEntry, Backend, Delivery, NewAlert, Recorded, Store, now_ms};

use super::{fresh_databases, raw, stores_at};

const DAY: i64 = 86_400_000;

/// The shipped defaults: payloads 14 days, sent alerts 30 days.
fn cutoffs() -> aletheia_bot::domain::RetentionCutoffs {
    let day = Duration::from_secs(86_400);
    retention_cutoffs(now_ms(), 14 * day, 30 * day)
}

fn audit() -> AuditEntry {
    AuditEntry {
        actor: None,
        chat: None,
        action: "webhook:workflow_run".into(),
        outcome: "accepted".into(),
        operation: None,
        detail: String::new(),
    }
}

fn delivery(id: &str) -> Delivery {
    Delivery {
        id: id.into(),
        event: "workflow_run".into(),
        action: Some("completed".into()),
        payload: format!(r#"{{"delivery":"{id}"}}"#),
        ignored: None,
    }
}

/// One column of text from a query, on either backend.
async fn texts(store: &Store, url: &str, sql: &str) -> Vec<String> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match store.backend() {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows.into_iter().map(|(t,)| t).collect()
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows.into_iter().map(|(t,)| t).collect()
        }
    }
}

#[tokio::test]
async fn old_webhook_payloads_are_emptied_and_their_ids_still_catch_a_redelivery() {
    for (store, url, _dir) in stores_at().await {
        let backend = store.backend();
        for id in ["old", "old-2", "new", "ancient"] {
            store
                .record_delivery(&delivery(id), true, &audit(), &[])
                .await
                .unwrap();
        }
        // Stored, never processed (cut short): what went wrong stays.
        store
            .record_delivery(&delivery("unfinished"), false, &audit(), &[])
            .await
            .unwrap();
        let now = now_ms();
        raw(
            &store,
            &url,
            &format!(
                "UPDATE webhook_deliveries SET received_at = {} WHERE delivery_id IN ('old', 'old-2', 'unfinished');
                 UPDATE webhook_deliveries SET received_at = {} WHERE delivery_id = 'ancient';",
                now - 15 * DAY,
                now - 31 * DAY
            ),
        )
        .await;
        let cut = cutoffs();

        // Bounded: one statement prunes no more than it is told.
        assert_eq!(
            store
                .prune_delivery_payloads(cut.payloads, 2)
                .await
                .unwrap(),
            2,
            "{backend:?}"
        );
        assert_eq!(
            store
                .prune_delivery_payloads(cut.payloads, 2)
                .await
                .unwrap(),
            1,
            "{backend:?}"
        );
        assert_eq!(
            store
                .prune_delivery_payloads(cut.payloads, 2)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .forget_deliveries(cut.delivery_ids, 1000)
                .await
                .unwrap(),
            1
        );

        let mut kept = texts(
            &store,
            &url,
            "SELECT delivery_id || '=' || payload FROM webhook_deliveries",
        )
        .await;
        kept.sort();
        assert_eq!(
            kept,
            [
                r#"new={"delivery":"new"}"#,
                "old-2=",
                "old=",
                r#"unfinished={"delivery":"unfinished"}"#,
            ],
            "{backend:?}"
        );
        // GitHub redelivers a pruned one: still a duplicate, nothing applied twice.
        assert_eq!(
            store
                .record_delivery(&delivery("old"), true, &audit(), &[])
                .await
                .unwrap(),
            Recorded::Duplicate,
            "{backend:?}"
        );
        assert!(store.is_processed("old").await.unwrap());
        assert_eq!(store.delivery_ignored("ancient").await.unwrap(), None);
        // The audit log is kept whole.
        assert_eq!(
            store.recent_audit(100).await.unwrap().len(),
            5,
            "{backend:?}"
        );
    }
}

/// A sent alert (or, with `edit_of`, an edit) to chat -1.
fn alert(key: &str, edit_of: Option<&str>) -> NewAlert {
    NewAlert {
        edit_of: edit_of.map(str::to_owned),
        ..NewAlert::message(
            key.to_owned(),
            AlertKind::Deployment,
            None,
            ChatId(-1),
            format!("<b>{key}</b>"),
        )
    }
}

#[tokio::test]
async fn old_sent_alerts_go_but_never_one_that_may_still_be_read() {
    for (store, url, _dir) in stores_at().await {
        let backend = store.backend();
        let now = now_ms();
        let (old, recent) = (now - 40 * DAY, now - DAY);
        // #1 ended long ago; #2 is live (a deploy confirming for weeks);
        // #3 ended yesterday; #4 ended long ago but has news on its way.
        let mut sql = String::new();
        for (id, env, state, updated) in [
            (1, "dev", "succeeded", old),
            (2, "staging", "confirming", old),
            (3, "prod", "succeeded", recent),
            (4, "dev", "failed", old),
        ] {
            sql.push_str(&format!(
                "INSERT INTO operations (id, kind, env, version, state, requested_by, chat_id, request_id, created_at, updated_at) \
                 VALUES ({id}, 'deploy', '{env}', '1.2.3', '{state}', 1, -1, 'r{id}', {old}, {updated});\n"
            ));
        }
        raw(&store, &url, &sql).await;

        // (key, edits, state, enqueued)
        let rows: [(&str, Option<&str>, &str, i64); 14] = [
            ("release:1@-1", None, "sent", old),
            ("release:2@-1", None, "sent", recent),
            ("health:prod:1@-1", None, "pending", old),
            ("health:prod:2@-1", None, "failed", old),
            // A message still being edited: an edit pending, or lately sent.
            ("lock:dev:1:locked@-1", None, "sent", old),
            (
                "lock:dev:1:locked@-1:unlocked",
                Some("lock:dev:1:locked@-1"),
                "pending",
                old,
            ),
            ("lock:prod:1:locked@-1", None, "sent", old),
            (
                "lock:prod:1:locked@-1:unlocked",
                Some("lock:prod:1:locked@-1"),
                "sent",
                recent,
            ),
            ("op:1:dispatched@-1", None, "sent", old),
            (
                "op:1:dispatched@-1:succeeded",
                Some("op:1:dispatched@-1"),
                "sent",
                old,
            ),
            ("op:2:prompt@-1", None, "sent", old),
            ("op:3:dispatched@-1", None, "sent", old),
            ("op:4:dispatched@-1", None, "sent", old),
            ("op:4:failed@-1", None, "pending", old),
        ];
        let alerts: Vec<NewAlert> = rows.iter().map(|(k, e, _, _)| alert(k, *e)).collect();
        assert_eq!(store.enqueue_alerts(&alerts).await.unwrap(), 14);
        let mut sql = String::new();
        for (key, _, state, at) in rows {
            let sent_at = if state == "sent" {
                at.to_string()
            } else {
                "NULL".into()
            };
            sql.push_str(&format!(
                "UPDATE alert_outbox SET state = '{state}', created_at = {at}, next_attempt_at = {at}, \
                 sent_at = {sent_at} WHERE dedup_key = '{key}';\n"
            ));
        }
        raw(&store, &url, &sql).await;

        let cut = cutoffs();
        // Bounded: one statement deletes no more than it is told.
        assert_eq!(store.prune_sent_alerts(cut.alerts, 1).await.unwrap(), 1);
        assert_eq!(store.prune_sent_alerts(cut.alerts, 1000).await.unwrap(), 2);
        assert_eq!(store.prune_sent_alerts(cut.alerts, 1000).await.unwrap(), 0);

        let kept: Vec<String> = store
            .all_alerts()
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.dedup_key)
            .collect();
        assert_eq!(
            kept,
            [
                "release:2@-1",
                "health:prod:1@-1",
                "health:prod:2@-1",
                "lock:dev:1:locked@-1",
                "lock:dev:1:locked@-1:unlocked",
                "lock:prod:1:locked@-1",
                "lock:prod:1:locked@-1:unlocked",
                "op:2:prompt@-1",
                "op:3:dispatched@-1",
                "op:4:dispatched@-1",
                "op:4:failed@-1",
            ],
            "{backend:?}"
        );
        // The live operation's story is still told in its message.
        assert!(store.has_alert("op:2:prompt@-1").await.unwrap());
    }
}

#[tokio::test]
async fn alerts_stored_before_the_upgrade_are_tied_to_their_operations() {
    for (url, _dir) in fresh_databases().await {
        let store = Store::connect(&url).await.unwrap();
        let backend = store.backend();
        let folder = match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(folder);
        let migrator = sqlx::migrate::Migrator::new(path).await.unwrap();
        // The schema as it was before retention came.
        match backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                migrator.run_to(15, &pool).await.unwrap();
                pool.close().await;
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&url).await.unwrap();
                migrator.run_to(15, &pool).await.unwrap();
                pool.close().await;
            }
        }
        let mut sql = String::new();
        for key in [
            "op:42:dispatched@-1",
            "op:42:dispatched@-1:succeeded",
            "release:7@-1",
            "lock:dev:1:locked@-1",
        ] {
            sql.push_str(&format!(
                "INSERT INTO alert_outbox (dedup_key, kind, chat_id, text, next_attempt_at, created_at) \
                 VALUES ('{key}', 'deployment', -1, 'x', 0, 0);\n"
            ));
        }
        raw(&store, &url, &sql).await;
        store.migrate().await.unwrap();
        let mut tied = texts(
            &store,
            &url,
            "SELECT dedup_key || '=' || COALESCE(CAST(operation_id AS TEXT), '-') FROM alert_outbox",
        )
        .await;
        tied.sort();
        assert_eq!(
            tied,
            [
                "lock:dev:1:locked@-1=-",
                "op:42:dispatched@-1:succeeded=42",
                "op:42:dispatched@-1=42",
                "release:7@-1=-",
            ],
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn every_table_is_counted() {
    for (store, _url, _dir) in stores_at().await {
        store
            .enqueue_alerts(&[alert("release:1@-1", None), alert("release:2@-1", None)])
            .await
            .unwrap();
        store
            .record_delivery(&delivery("d"), true, &audit(), &[])
            .await
            .unwrap();
        let rows = store.table_rows().await.unwrap();
        let names: Vec<&str> = rows.iter().map(|(t, _)| *t).collect();
        assert_eq!(names, aletheia_bot::store::TABLES);
        let count = |table: &str| rows.iter().find(|(t, _)| *t == table).unwrap().1;
        assert_eq!(count("alert_outbox"), 2, "{:?}", store.backend());
        assert_eq!(count("webhook_deliveries"), 1);
        assert_eq!(count("audit_log"), 1);
        assert_eq!(count("operations"), 0);
    }
}

/// The running bot: its leader prunes when it starts (then hourly), a
/// pruned delivery's redelivery still changes nothing, and `/metrics`
/// shows the tables' rows.
#[tokio::test]
async fn the_leader_prunes_old_rows_and_metrics_show_the_tables() {
    use crate::support::github::{post_signed_webhook, release_published};
    use crate::support::*;

    let mut world = World::new().await;
    world.seed().await;
    world.start_bot().await;
    let url = world.bot_url();
    let answer =
        post_signed_webhook(&url, "release", "gh-1", &release_published(77, "v1.2.9")).await;
    assert!(answer.status().is_success(), "{}", answer.status());
    let told = world.tg.next_message(TEAM_CHAT).await;
    assert!(
        told.text.contains("Release v1.2.9</b> created"),
        "{}",
        told.text
    );
    world
        .until_outbox_sent("the release alert", Duration::from_secs(10))
        .await;

    // Weeks go by while the bot is down.
    world.kill_bot().await;
    let store = world.store().await;
    let now = now_ms();
    raw(
        &store,
        &world.database_url(),
        &format!(
            "UPDATE webhook_deliveries SET received_at = {}; \
             UPDATE alert_outbox SET created_at = {old}, next_attempt_at = {old}, sent_at = {old};",
            now - 15 * DAY,
            old = now - 40 * DAY
        ),
    )
    .await;
    world.start_bot().await;

    eventually(Duration::from_secs(10), "the old alert pruned", || async {
        store.all_alerts().await.unwrap().is_empty()
    })
    .await;
    let payloads = texts(
        &store,
        &world.database_url(),
        "SELECT payload FROM webhook_deliveries",
    )
    .await;
    assert_eq!(payloads, [""], "the payload emptied, the delivery kept");
    eventually(
        Duration::from_secs(10),
        "the table sizes on /metrics",
        || async {
            let metrics = reqwest::get(format!("{url}/metrics"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            metrics.contains(r#"aletheia_table_rows{table="webhook_deliveries"} 1"#)
                && metrics.contains(r#"aletheia_table_rows{table="alert_outbox"} 0"#)
                && metrics.contains(r#"aletheia_table_rows{table="audit_log"} "#)
        },
    )
    .await;

    // GitHub redelivers it: known, acknowledged, told no second time.
    let again =
        post_signed_webhook(&url, "release", "gh-1", &release_published(77, "v1.2.9")).await;
    assert!(again.status().is_success(), "{}", again.status());
    let metrics = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"aletheia_webhook_events_total{event="release",outcome="duplicate"} 1"#),
        "{metrics}"
    );
    assert!(store.all_alerts().await.unwrap().is_empty());
    assert_eq!(world.tg.sent_to(TEAM_CHAT).len(), 1);
}
