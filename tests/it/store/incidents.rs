//! Failures taken and escalated: the first acknowledgement wins, and an
//! escalation step is written once, by the lease's holder only, and
//! none after the failure was taken.

use super::*;
use aletheia_bot::domain::OperationId;
use aletheia_bot::store::Untaken;

#[tokio::test]
async fn the_first_acknowledgement_wins_with_its_audit_and_edits() {
    for (store, _dir) in stores().await {
        let backend = store.backend();
        let op = OperationId(7);
        assert_eq!(store.acknowledgement(op).await.unwrap(), None);
        let first = store
            .acknowledge(op, UserId(4), &audit("incident:ack"), &|_| {
                vec![alert("taken", -1)]
            })
            .await
            .unwrap();
        assert_eq!(first, None, "{backend:?}");
        // A second tap changes nothing and says who was first.
        let second = store
            .acknowledge(op, UserId(2), &audit("incident:ack"), &|_| {
                vec![alert("again", -1)]
            })
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
                .escalate(
                    Untaken::Operation(OperationId(3)),
                    &audit("incident:escalate"),
                    &step
                )
                .await
                .unwrap()
        );
        assert!(store.all_alerts().await.unwrap().is_empty(), "{backend:?}");
        assert!(store.try_lease("leader", "me", 60_000).await.unwrap());
        assert!(
            leader
                .escalate(
                    Untaken::Operation(OperationId(3)),
                    &audit("incident:escalate"),
                    &step
                )
                .await
                .unwrap()
        );
        // Again (a restart, the next look): no second message, no second line.
        assert!(
            !leader
                .escalate(
                    Untaken::Operation(OperationId(3)),
                    &audit("incident:escalate"),
                    &step
                )
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
            .acknowledge(
                OperationId(3),
                UserId(4),
                &audit("incident:ack"),
                &|_| vec![],
            )
            .await
            .unwrap();
        let next = [alert("op:3:escalated-2", -1)];
        assert!(
            !leader
                .escalate(
                    Untaken::Operation(OperationId(3)),
                    &audit("incident:escalate"),
                    &next
                )
                .await
                .unwrap(),
            "{backend:?}"
        );
        assert_eq!(store.all_alerts().await.unwrap().len(), 2, "{backend:?}");
    }
}

#[tokio::test]
async fn a_diagnosis_is_claimed_once_built_on_the_newest_text_and_taken_over_after_a_crash() {
    for (store, _dir) in stores().await {
        let backend = store.backend();
        let marked = |chat| NewAlert {
            diagnose: true,
            ..alert("op:5:failed", chat)
        };
        let ring = alert("op:5:failed:ring", -1);
        store
            .enqueue_alerts(&[marked(-1), marked(-2), ring])
            .await
            .unwrap();
        // Someone took it in chat -1 meanwhile: that copy's newest text.
        let taken = NewAlert {
            edit_of: Some("op:5:failed@-1".into()),
            text: "<b>failed</b> taken".into(),
            ..alert("op:5:failed@-1:taken", -1)
        };
        store.enqueue_alerts(&[taken]).await.unwrap();
        let now = aletheia_bot::store::now_ms();
        let hour_ago = now - 3_600_000;
        let claimed = store
            .claim_diagnoses(now, hour_ago, now + 60_000, 50)
            .await
            .unwrap();
        let keys: Vec<&str> = claimed.iter().map(|d| d.dedup_key.as_str()).collect();
        assert_eq!(keys, ["op:5:failed@-1", "op:5:failed@-2"], "{backend:?}");
        // Another instance looking meanwhile finds nothing to do…
        let again = store.claim_diagnoses(now + 1, hour_ago, now + 60_001, 50);
        assert!(again.await.unwrap().is_empty(), "{backend:?}");
        // …until the claim ran out (its holder died): then it takes them.
        let later = now + 60_001;
        let claimed = store
            .claim_diagnoses(later, hour_ago, later + 60_000, 50)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 2, "{backend:?}");
        let build = |row: &aletheia_bot::store::OutboxRow| {
            let message = row.edit_of.clone().unwrap_or(row.dedup_key.clone());
            Some(NewAlert {
                dedup_key: format!("{message}:diagnosis"),
                edit_of: Some(message),
                text: format!("{} + evidence", row.text),
                ..alert("unused", row.chat_id)
            })
        };
        let new = store
            .diagnosed(
                &Env::parse("prod").unwrap(),
                Some(OperationId(5)),
                &claimed,
                &build,
            )
            .await
            .unwrap();
        assert_eq!(new, 2, "{backend:?}");
        let texts: Vec<(String, String)> = store
            .all_alerts()
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.dedup_key.ends_with(":diagnosis"))
            .map(|a| (a.dedup_key, a.text))
            .collect();
        assert_eq!(
            texts,
            [
                (
                    "op:5:failed@-1:diagnosis".to_owned(),
                    "<b>failed</b> taken + evidence".to_owned()
                ),
                (
                    "op:5:failed@-2:diagnosis".to_owned(),
                    "<b>op:5:failed</b> + evidence".to_owned()
                ),
            ],
            "{backend:?}"
        );
        // Done: nothing left to claim, however late.
        let far = now + 86_400_000;
        let left = store.claim_diagnoses(far, hour_ago, far + 60_000, 50);
        assert!(left.await.unwrap().is_empty(), "{backend:?}");
        // A mark older than the horizon is given up, not diagnosed.
        store.enqueue_alerts(&[marked(-3)]).await.unwrap();
        let stale = store.claim_diagnoses(far, now + 3_600_000, far + 60_000, 50);
        assert!(stale.await.unwrap().is_empty(), "{backend:?}");
        let after = store.claim_diagnoses(far, hour_ago, far + 60_000, 50);
        assert!(after.await.unwrap().is_empty(), "{backend:?}");
    }
}

#[tokio::test]
async fn failures_are_found_however_many_operations_came_after() {
    use aletheia_bot::domain::OperationState;
    for (store, _dir) in stores().await {
        let backend = store.backend();
        let dev = Env::parse("dev").unwrap();
        let failed = dev_deploy(&store, OperationState::Failed, None).await;
        let unhealthy = dev_deploy(&store, OperationState::Unhealthy, None).await;
        for _ in 0..30 {
            dev_deploy(&store, OperationState::Succeeded, None).await;
        }
        let found: Vec<i64> = store
            .failures_since(&dev, 0)
            .await
            .unwrap()
            .iter()
            .map(|op| op.id)
            .collect();
        assert_eq!(found, [failed.0, unhealthy.0], "{backend:?}");
        let later = aletheia_bot::store::now_ms() + 1;
        assert!(store.failures_since(&dev, later).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn an_automatic_rollback_is_decided_once_and_taken_over_after_a_crash() {
    for (store, _dir) in stores().await {
        let backend = store.backend();
        let deploy = OperationId(9);
        let now = aletheia_bot::store::now_ms();
        assert!(
            store
                .claim_auto_rollback(deploy, now, now + 120_000)
                .await
                .unwrap()
        );
        // Another instance (the leader looking for left-overs) meanwhile: no.
        assert!(
            !store
                .claim_auto_rollback(deploy, now + 1, now + 120_001)
                .await
                .unwrap(),
            "{backend:?}"
        );
        // The first died: once its claim ran out, the leader takes it.
        let later = now + 120_001;
        assert!(
            store
                .claim_auto_rollback(deploy, later, later + 120_000)
                .await
                .unwrap(),
            "{backend:?}"
        );
        // Decided: never again, however late.
        store.auto_rollback_decided(deploy).await.unwrap();
        let far = now + 86_400_000;
        assert!(
            !store
                .claim_auto_rollback(deploy, far, far + 120_000)
                .await
                .unwrap(),
            "{backend:?}"
        );
    }
}
