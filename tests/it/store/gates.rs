//! Gate reviews: the first claim of a (run's operation, environment)
//! wins; a claim let go may be taken again; one done stays.

use aletheia_bot::domain::{OperationId, UserId};
use aletheia_bot::store::{AuditEntry, GateReview};

use super::stores;

fn audit() -> AuditEntry {
    AuditEntry {
        actor: Some(UserId(4)),
        chat: None,
        action: "tap:gate".into(),
        outcome: "approved".into(),
        operation: None,
        detail: String::new(),
    }
}

#[tokio::test]
async fn a_gate_is_reviewed_once() {
    for (store, _dir) in stores().await {
        let (op, env) = (OperationId(7), 161_171_787);
        let first = store.claim_gate(op, env, UserId(4), true).await.unwrap();
        let first = first.expect("the first claim");
        // Another environment of the same run is a review of its own.
        let other = store.claim_gate(op, env + 1, UserId(2), false).await;
        assert!(other.unwrap().is_ok());
        assert_eq!(
            store
                .claim_gate(op, env, UserId(2), false)
                .await
                .unwrap()
                .unwrap_err(),
            GateReview {
                by: UserId(4),
                approved: true,
                done: false
            }
        );
        // GitHub refused: let go, and taken by the next tap.
        store.release_gate(first).await.unwrap();
        let second = store.claim_gate(op, env, UserId(2), false).await.unwrap();
        store
            .gate_reviewed(second.expect("claimed again"), &audit(), &[])
            .await
            .unwrap();
        assert_eq!(
            store
                .claim_gate(op, env, UserId(4), true)
                .await
                .unwrap()
                .unwrap_err(),
            GateReview {
                by: UserId(2),
                approved: false,
                done: true
            },
            "{:?}",
            store.backend()
        );
    }
}
