//! Failures taken and escalated: the first acknowledgement wins, and an
//! escalation step is written once, by the lease's holder only, and
//! none after the failure was taken.

use super::*;
use aletheia_bot::domain::OperationId;

#[tokio::test]
async fn the_first_acknowledgement_wins_with_its_audit_and_edits() {
    for (store, _dir) in stores().await {
        let backend = store.backend();
        let op = OperationId(7);
        assert_eq!(store.acknowledgement(op).await.unwrap(), None);
        let first = store
            .acknowledge(op, UserId(4), &audit("incident:ack"), &[alert("taken", -1)])
            .await
            .unwrap();
        assert_eq!(first, None, "{backend:?}");
        // A second tap changes nothing and says who was first.
        let second = store
            .acknowledge(op, UserId(2), &audit("incident:ack"), &[alert("again", -1)])
            .await
            .unwrap()
            .expect("already taken");
        assert_eq!(second.by, UserId(4), "{backend:?}");
        assert_eq!(store.acknowledgement(op).await.unwrap(), Some(second));
        let audit = store.recent_audit(10).await.unwrap();
        assert_eq!(audit.len(), 1, "{backend:?}");
        let alerts = store.all_alerts().await.unwrap();
        assert_eq!(alerts.len(), 1, "{backend:?}");
        assert_eq!(alerts[0].dedup_key, "taken@-1");
    }
}

#[tokio::test]
async fn an_escalation_step_is_written_once_and_only_by_the_leader() {
    for (store, _dir) in stores().await {
        let backend = store.backend();
        let step = [alert("op:3:escalated-1", -1), alert("op:3:escalated-1", -2)];
        let leader = store.fenced("me");
        // Without the lease: nothing.
        assert!(
            !leader
                .escalate(OperationId(3), &audit("incident:escalate"), &step)
                .await
                .unwrap()
        );
        assert!(store.all_alerts().await.unwrap().is_empty(), "{backend:?}");
        assert!(store.try_lease("leader", "me", 60_000).await.unwrap());
        assert!(
            leader
                .escalate(OperationId(3), &audit("incident:escalate"), &step)
                .await
                .unwrap()
        );
        // Again (a restart, the next look): no second message, no second line.
        assert!(
            !leader
                .escalate(OperationId(3), &audit("incident:escalate"), &step)
                .await
                .unwrap()
        );
        assert_eq!(store.all_alerts().await.unwrap().len(), 2, "{backend:?}");
        assert_eq!(
            store.recent_audit(10).await.unwrap().len(),
            1,
            "{backend:?}"
        );
        // Once someone took it, no further step is written.
        store
            .acknowledge(OperationId(3), UserId(4), &audit("incident:ack"), &[])
            .await
            .unwrap();
        let next = [alert("op:3:escalated-2", -1)];
        assert!(
            !leader
                .escalate(OperationId(3), &audit("incident:escalate"), &next)
                .await
                .unwrap(),
            "{backend:?}"
        );
        assert_eq!(store.all_alerts().await.unwrap().len(), 2, "{backend:?}");
    }
}
