//! Ad-hoc freezes on both backends: one per scope, lifted by
//! compare-and-set, each change with its audit line and alerts; and the
//! override a deploy was asked with.

use aletheia_bot::domain::UserId;
use aletheia_bot::store::{Created, NewFreeze};

use super::{alert, audit, prod_deploy_awaiting_approval, stores};

fn freeze(scope: &str, lasts_ms: i64) -> NewFreeze {
    NewFreeze {
        scope: scope.into(),
        frozen_by: UserId(2),
        reason: "release day".into(),
        lasts_ms,
    }
}

#[tokio::test]
async fn one_freeze_per_scope_lifted_once_with_its_alerts() {
    for (store, _dir) in stores().await {
        let backend = store.backend();
        let taken = store
            .freeze(
                &freeze("prod", 3_600_000),
                &audit("freeze"),
                &[alert("freeze:a", -1)],
            )
            .await
            .unwrap();
        assert!(taken.is_none(), "{backend:?}");
        // A second freeze of prod changes nothing and names the first.
        let held = store
            .freeze(
                &freeze("prod", 60_000),
                &audit("freeze"),
                &[alert("freeze:b", -1)],
            )
            .await
            .unwrap()
            .expect("prod is frozen");
        assert_eq!((held.frozen_by, held.reason.as_str()), (2, "release day"));
        assert!(held.until_at - held.frozen_at == 3_600_000, "{backend:?}");
        // Another scope is its own; one whose time is up no longer holds.
        assert!(
            store
                .freeze(&freeze("all", 0), &audit("freeze"), &[])
                .await
                .unwrap()
                .is_none()
        );
        let active = store.active_freezes().await.unwrap();
        assert_eq!(
            active.iter().map(|f| f.scope.as_str()).collect::<Vec<_>>(),
            ["prod"],
            "{backend:?}"
        );
        assert!(
            !store
                .unfreeze("prod", held.frozen_at + 1, &audit("unfreeze"), &[])
                .await
                .unwrap(),
            "not the freeze in force"
        );
        assert!(
            store
                .unfreeze(
                    "prod",
                    held.frozen_at,
                    &audit("unfreeze"),
                    &[alert("freeze:c", -1)]
                )
                .await
                .unwrap()
        );
        assert!(
            !store
                .unfreeze("prod", held.frozen_at, &audit("unfreeze"), &[])
                .await
                .unwrap(),
            "lifted once"
        );
        assert!(store.active_freezes().await.unwrap().is_empty());
        let keys: Vec<String> = store
            .all_alerts()
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.dedup_key)
            .collect();
        assert_eq!(keys, ["freeze:a@-1", "freeze:c@-1"], "{backend:?}");
        let actions: Vec<String> = store
            .recent_audit(10)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.action)
            .collect();
        assert_eq!(actions, ["freeze", "freeze", "unfreeze"], "{backend:?}");
    }
}

#[tokio::test]
async fn a_deploy_keeps_the_freeze_override_it_was_asked_with() {
    for (store, _dir) in stores().await {
        let overridden = aletheia_bot::store::NewOperation {
            freeze_override: Some("checkout fix".into()),
            ..prod_deploy_awaiting_approval()
        };
        let Created::New(id) = store
            .create_operation(&overridden, &audit("operation:deploy"), &[])
            .await
            .unwrap()
        else {
            panic!("created")
        };
        assert_eq!(
            store.freeze_override(id).await.unwrap().as_deref(),
            Some("checkout fix")
        );
        store
            .transition(
                id,
                aletheia_bot::store::Transition::new(
                    &[aletheia_bot::domain::OperationState::AwaitingApproval],
                    aletheia_bot::domain::OperationState::Cancelled,
                ),
                &audit("operation:withdraw"),
                &[],
            )
            .await
            .unwrap();
        let Created::New(plain) = store
            .create_operation(
                &prod_deploy_awaiting_approval(),
                &audit("operation:deploy"),
                &[],
            )
            .await
            .unwrap()
        else {
            panic!("created")
        };
        assert_eq!(store.freeze_override(plain).await.unwrap(), None);
    }
}
