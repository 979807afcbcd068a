//! GitHub's webhook deliveries: each stored once, with its audit and
//! alerts, and the delivery figures read from them.

use super::*;

#[tokio::test]
async fn delivery_figures_read_the_window_and_the_releases_deployed_in_it() {
    use aletheia_bot::domain::dora::dora;
    const DAY: i64 = 86_400_000;
    for (store, url, _dir) in stores_at().await {
        let now = aletheia_bot::store::now_ms();
        let mut sql = String::new();
        for (n, (kind, env, version, state, days_ago)) in [
            ("release", None, "1.2.0", "succeeded", 50),
            ("release", None, "1.3.0", "succeeded", 40),
            ("deploy", Some("prod"), "1.2.0", "succeeded", 35),
            ("deploy", Some("staging"), "1.3.0", "succeeded", 2),
            ("deploy", Some("prod"), "1.3.0", "succeeded", 1),
            ("release", None, "1.4.0", "failed", 0),
            ("rollback", Some("prod"), "1.2.0", "failed", 0),
        ]
        .into_iter()
        .enumerate()
        {
            let env = env.map_or("NULL".to_owned(), |e| format!("'{e}'"));
            let at = now - days_ago * DAY - 1000 + n as i64;
            sql.push_str(&format!(
                "INSERT INTO operations (kind, env, version, state, requested_by, chat_id, \
                 request_id, created_at, updated_at) \
                 VALUES ('{kind}', {env}, '{version}', '{state}', 1, -5, 'r{n}', {at}, {at});"
            ));
        }
        raw(&store, &url, &sql).await;

        let facts = store
            .delivery_facts(
                &aletheia_bot::domain::Env::parse("prod").unwrap(),
                now - 30 * DAY,
            )
            .await
            .unwrap();
        let read: Vec<(&str, Option<&str>, &str)> = facts
            .iter()
            .map(|f| (f.kind.as_str(), f.env.as_deref(), f.version.as_str()))
            .collect();
        assert_eq!(
            read,
            [
                ("release", None, "1.3.0"),
                ("deploy", Some("prod"), "1.3.0"),
                ("rollback", Some("prod"), "1.2.0"),
            ],
            "{:?}",
            store.backend()
        );
        let figures = dora(&facts, "prod", now, 30);
        assert_eq!(figures.deploys, 1);
        assert_eq!(figures.lead_time_ms, Some(39 * DAY + 3));
    }
}

#[tokio::test]
async fn deliveries_stored_together_are_each_stored_once() {
    for (store, _dir) in stores().await {
        let delivery = |id: &str| Delivery {
            id: id.into(),
            event: "workflow_run".into(),
            action: Some("completed".into()),
            payload: "{}".into(),
            ignored: None,
        };
        let one = |id: &str| (delivery(id), true, audit("webhook:workflow_run"), vec![]);
        store
            .record_delivery(&delivery("a"), true, &audit("webhook:workflow_run"), &[])
            .await
            .unwrap();
        // One seen before, one twice in the same batch, two new.
        let recorded = store
            .record_deliveries(&[one("a"), one("b"), one("b"), one("c")])
            .await
            .unwrap();
        assert_eq!(
            recorded,
            [
                Recorded::Duplicate,
                Recorded::New,
                Recorded::Duplicate,
                Recorded::New
            ],
            "{:?}",
            store.backend()
        );
        assert_eq!(store.delivery_count().await.unwrap(), 3);
        assert_eq!(store.recent_audit(10).await.unwrap().len(), 3);
    }
}

#[tokio::test]
async fn a_webhook_delivery_is_stored_once_with_its_audit_and_alerts() {
    for (store, _dir) in stores().await {
        let delivery = Delivery {
            id: "abc-1".into(),
            event: "release".into(),
            action: Some("published".into()),
            payload: "{}".into(),
            ignored: None,
        };
        let alerts = [alert("release:1", -1), alert("release:1", -2)];
        let first = store
            .record_delivery(&delivery, true, &audit("webhook:release"), &alerts)
            .await
            .unwrap();
        let again = store
            .record_delivery(&delivery, true, &audit("webhook:release"), &alerts)
            .await
            .unwrap();
        assert_eq!(
            (first, again),
            (Recorded::New, Recorded::Duplicate),
            "{:?}",
            store.backend()
        );
        assert_eq!(store.delivery_count().await.unwrap(), 1);
        assert_eq!(store.all_alerts().await.unwrap().len(), 2);
        assert_eq!(
            store.recent_audit(10).await.unwrap().len(),
            1,
            "the duplicate left no audit line"
        );
    }
}
