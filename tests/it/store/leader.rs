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
