//! Release checklists on both backends: stored with their release, each
//! tick written once with its audit line and edit, none once the release
//! no longer waits.

use aletheia_bot::domain::{OperationKind, OperationState, ReleaseType, UserId};
use aletheia_bot::store::{Created, NewAlert, Ticked, Transition};

use super::{alert, audit, prod_deploy_awaiting_approval, stores};

fn edit(n: usize) -> impl FnOnce(&[aletheia_bot::domain::Tick]) -> Vec<NewAlert> {
    move |items| {
        vec![NewAlert {
            text: format!(
                "{} ticked",
                items.iter().filter(|i| i.ticked_by.is_some()).count()
            ),
            ..alert(&format!("tick-{n}"), -5)
        }]
    }
}

#[tokio::test]
async fn a_tick_is_written_once_and_only_while_its_release_waits() {
    for (store, _dir) in stores().await {
        let release = aletheia_bot::store::NewOperation {
            kind: OperationKind::Release,
            env: None,
            release_type: Some(ReleaseType::Minor),
            ..prod_deploy_awaiting_approval()
        };
        let items = [
            "Documentation updated".to_owned(),
            "Dependencies reviewed".to_owned(),
        ];
        let Created::New(id) = store
            .create_with_checklist(&release, &items, &audit("operation:release"), &[])
            .await
            .unwrap()
        else {
            panic!("created")
        };
        let listed = store.checklist(id).await.unwrap();
        assert_eq!(
            listed.iter().map(|t| t.item.as_str()).collect::<Vec<_>>(),
            items
        );
        let tick_audit = aletheia_bot::store::AuditEntry {
            operation: Some(id),
            ..audit("tap:tick")
        };
        let tick = |position| store.tick(id, position, UserId(1), &tick_audit, edit(position));
        let Ticked::New(now) = tick(1).await.unwrap() else {
            panic!("first tick")
        };
        assert_eq!(now[1].ticked_by, Some(UserId(1)));
        assert_eq!(now[0].ticked_by, None);
        // Again: nothing written (no second audit line, no second edit).
        assert!(matches!(tick(1).await.unwrap(), Ticked::Already(_)));
        // An item the release does not have.
        assert_eq!(tick(5).await.unwrap(), Ticked::Closed);
        let audit_lines = store.audit_of(&[id.0]).await.unwrap();
        assert_eq!(
            audit_lines
                .iter()
                .filter(|a| a.action == "tap:tick")
                .count(),
            1,
            "{:?}",
            store.backend()
        );
        let texts: Vec<String> = store
            .all_alerts()
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.text)
            .collect();
        assert_eq!(texts, ["1 ticked"]);

        // Once the release moved on, no tick is written.
        store
            .transition(
                id,
                Transition::new(
                    &[OperationState::AwaitingApproval],
                    OperationState::Cancelled,
                ),
                &audit("cancel"),
                &[],
            )
            .await
            .unwrap();
        assert_eq!(tick(0).await.unwrap(), Ticked::Closed);
        assert_eq!(store.ticks_of_release("1.3.0").await.unwrap().len(), 1);
        assert!(store.ticks_of_release("9.9.9").await.unwrap().is_empty());
        // A deploy has no checklist to tick.
        let Created::New(deploy) = store
            .create_operation(&prod_deploy_awaiting_approval(), &audit("deploy"), &[])
            .await
            .unwrap()
        else {
            panic!("created")
        };
        assert_eq!(
            store
                .tick(deploy, 0, UserId(1), &audit("tap:tick"), edit(9))
                .await
                .unwrap(),
            Ticked::Closed
        );
    }
}
