//! Approvals in the store of each backend: which recorded ones count is
//! the caller's rule, applied inside the deciding transaction.

use aletheia_bot::domain::{OperationState, UserId};
use aletheia_bot::store::{Created, Decided, Decision};

use super::{alert, audit, prod_deploy_awaiting_approval, stores};

#[tokio::test]
async fn a_lapsed_approval_leaves_the_count_short_and_says_so_once() {
    for (store, _dir) in stores().await {
        let backend = store.backend();
        let op = prod_deploy_awaiting_approval();
        let Created::New(id) = store
            .create_operation(&op, &audit("operation:deploy"), &[])
            .await
            .unwrap()
        else {
            panic!("{backend:?}: created")
        };
        let decide = |user: i64, counts: &'static (dyn Fn(UserId) -> bool + Send + Sync)| {
            let store = store.clone();
            async move {
                store
                    .decide(
                        id,
                        &Decision {
                            user: UserId(user),
                            approve: true,
                            needed: 2,
                            counts,
                            tally: &|counting| counting.len() as i64,
                            audit: &audit("tap:approve"),
                            alerts_if_moved: &[alert("moved", -5)],
                            alerts_if_lapsed: &[alert(&format!("lapsed-{user}"), -5)],
                            alerts_if_counted: &[],
                        },
                    )
                    .await
                    .unwrap()
            }
        };
        // Bob (2) approves while an approver.
        let first = decide(2, &|_| true).await;
        assert!(
            matches!(&first, Decided::Counted { approvals: 1, lapsed } if lapsed.is_empty()),
            "{backend:?}: {first:?}"
        );
        // Bob is an approver no more: Dave's (4) approval is the only one
        // that counts, and the prompt's edit is written.
        let not_bob: &'static (dyn Fn(UserId) -> bool + Send + Sync) = &|u| u != UserId(2);
        let second = decide(4, not_bob).await;
        assert!(
            matches!(&second, Decided::Counted { approvals: 1, lapsed } if lapsed == &[UserId(2)]),
            "{backend:?}: {second:?}"
        );
        let keys: Vec<String> = store
            .all_alerts()
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.dedup_key)
            .collect();
        assert_eq!(keys, ["lapsed-4@-5"], "{backend:?}");
        assert_eq!(
            store.operation(id).await.unwrap().unwrap().state,
            OperationState::AwaitingApproval,
            "{backend:?}"
        );
        // Erin (6), an approver, completes the count.
        let third = decide(6, not_bob).await;
        assert!(
            matches!(&third, Decided::Claimed(_)),
            "{backend:?}: {third:?}"
        );
        assert_eq!(
            store.operation(id).await.unwrap().unwrap().state,
            OperationState::Dispatched,
            "{backend:?}"
        );
    }
}
