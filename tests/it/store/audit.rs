//! The audit log: kept in order, its times never going back.

use super::*;

#[tokio::test]
async fn audit_log_keeps_order() {
    for (store, _dir) in stores().await {
        for action in ["a", "b", "c"] {
            store.audit(&audit(action)).await.unwrap();
        }
        let rows = store.recent_audit(2).await.unwrap();
        let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(actions, ["b", "c"], "{:?}", store.backend());
        assert_eq!(rows[0].actor, Some(1));
        assert_eq!(rows[0].chat_id, Some(-5));
    }
}

#[tokio::test]
async fn audit_times_never_go_back_along_the_log() {
    for (store, url, _dir) in stores_at().await {
        // A line stamped an hour ahead, as a writer that read the clock
        // later but took the write lock first (or a clock stepped back)
        // leaves it.
        let ahead = aletheia_bot::store::now_ms() + 3_600_000;
        raw(
            &store,
            &url,
            &format!(
                "INSERT INTO audit_log (at, action, outcome, detail) VALUES ({ahead}, 'ahead', 'ok', '')"
            ),
        )
        .await;
        store.audit(&audit("after")).await.unwrap();
        let rows = store.recent_audit(2).await.unwrap();
        assert_eq!(rows[0].action, "ahead");
        assert_eq!(rows[1].action, "after");
        assert_eq!(rows[1].at, ahead, "{:?}", store.backend());

        // Once the clock is past the last line, lines take the clock again.
        raw(&store, &url, "DELETE FROM audit_log").await;
        let before = aletheia_bot::store::now_ms();
        store.audit(&audit("now")).await.unwrap();
        let last = store.recent_audit(1).await.unwrap().remove(0);
        assert!(
            last.at >= before && last.at < ahead,
            "{:?}",
            store.backend()
        );
    }
}
