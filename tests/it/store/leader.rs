//! The leader's lease: one holder until it expires, each update taken once.

use super::*;

#[tokio::test]
async fn the_leader_lease_has_one_holder_until_it_expires_and_updates_are_taken_once() {
    for (store, _dir) in stores().await {
        assert!(store.try_lease("leader", "a", 60_000).await.unwrap());
        // Renewed by its holder, refused to another while it runs.
        assert!(store.try_lease("leader", "a", 60_000).await.unwrap());
        assert!(!store.try_lease("leader", "b", 60_000).await.unwrap());
        assert_eq!(
            store.lease_holder("leader").await.unwrap().as_deref(),
            Some("a")
        );
        // Given up: the next one takes it at once.
        store.release_lease("leader", "b").await.unwrap();
        assert!(!store.try_lease("leader", "b", 60_000).await.unwrap());
        store.release_lease("leader", "a").await.unwrap();
        assert!(store.try_lease("leader", "b", 1).await.unwrap());
        // Expired (1 ms): taken over.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !store.try_lease("leader", "a", 60_000).await.unwrap() {
            assert!(
                std::time::Instant::now() < deadline,
                "an expired lease is taken over"
            );
        }
        assert!(!store.try_lease("leader", "b", 60_000).await.unwrap());

        assert!(store.first_sight(42).await.unwrap());
        assert!(!store.first_sight(42).await.unwrap());
        assert!(store.first_sight(43).await.unwrap());
        assert_eq!(store.forget_updates(i64::MAX).await.unwrap(), 2);
        assert!(store.first_sight(42).await.unwrap());
    }
}

#[tokio::test]
async fn a_fenced_store_writes_nothing_once_its_holder_has_lost_the_lease() {
    use aletheia_bot::domain::OperationState;
    use aletheia_bot::store::{Created, NewOperation};

    for (store, _dir) in stores().await {
        let backend = store.backend();
        store.enqueue_alerts(&[alert("x", -1)]).await.unwrap();
        let id = store.due_alerts(10, 10).await.unwrap()[0].id;
        let approved = NewOperation {
            state: OperationState::Approved,
            ..prod_deploy_awaiting_approval()
        };
        let Created::New(op) = store
            .create_operation(&approved, &audit("operation:deploy"), &[])
            .await
            .unwrap()
        else {
            panic!("{backend:?}: created")
        };
        let old = store.fenced("old");
        let new = store.fenced("new");

        // Nobody holds the lease: the fenced store changes nothing.
        assert!(
            !old.lease_alert(id, 60_000, "old").await.unwrap(),
            "{backend:?}"
        );
        // The old holder took it once; the new one took it over since.
        assert!(store.try_lease("leader", "old", 1).await.unwrap());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !store.try_lease("leader", "new", 60_000).await.unwrap() {
            assert!(
                std::time::Instant::now() < deadline,
                "{backend:?}: taken over"
            );
        }
        assert!(
            !old.lease_alert(id, 60_000, "old").await.unwrap(),
            "{backend:?}"
        );
        old.alert_sent(id, 9).await.unwrap();
        old.alert_skipped(id, "late").await.unwrap();
        assert!(
            old.claim_dispatch(op).await.unwrap().is_none(),
            "{backend:?}"
        );
        let t = Transition::new(&[OperationState::Approved], OperationState::Failed);
        assert!(!old.transition(op, t, &audit("expire"), &[]).await.unwrap());
        let pending = &store.all_alerts().await.unwrap()[0];
        assert_eq!(pending.state, "pending", "{backend:?}");
        assert_eq!(
            store.operation(op).await.unwrap().unwrap().state,
            OperationState::Approved,
            "{backend:?}"
        );

        // The holder's own writes go through.
        assert!(
            new.lease_alert(id, 60_000, "new").await.unwrap(),
            "{backend:?}"
        );
        new.alert_sent(id, 9).await.unwrap();
        assert_eq!(store.all_alerts().await.unwrap()[0].state, "sent");
        assert!(
            new.claim_dispatch(op).await.unwrap().is_some(),
            "{backend:?}"
        );
        // Unfenced (commands, taps): as ever.
        assert!(store.claim_dispatch(op).await.unwrap().is_none());
    }
}
