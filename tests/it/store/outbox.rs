//! The alert outbox: each alert once, leased to one sender, kept out of a
//! muted chat (never a prod failure or a prompt), fair between chats.

use super::*;

#[tokio::test]
async fn outbox_deduplicates_and_tracks_delivery() {
    for (store, _dir) in stores().await {
        let backend = store.backend();
        assert_eq!(
            store
                .enqueue_alerts(&[alert("x", -1), alert("y", -1)])
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            store.enqueue_alerts(&[alert("x", -1)]).await.unwrap(),
            0,
            "{backend:?}: same key twice"
        );

        let due = store.due_alerts(10, 10).await.unwrap();
        let keys: Vec<&str> = due.iter().map(|a| a.dedup_key.as_str()).collect();
        assert_eq!(keys, ["x@-1", "y@-1"], "{backend:?}: oldest first");
        assert_eq!(due[0].thread_id, Some(7));
        assert_eq!(due[0].env.as_deref(), Some("prod"));

        store.alert_sent(due[0].id, 555).await.unwrap();
        // y fails once, to be retried far in the future: not due now.
        let later = aletheia_bot::store::now_ms() + 3_600_000;
        store
            .alert_attempt_failed(due[1].id, "HTTP 502", later, false)
            .await
            .unwrap();
        assert!(
            store.due_alerts(10, 10).await.unwrap().is_empty(),
            "{backend:?}"
        );
        assert_eq!(store.next_alert_due().await.unwrap(), Some(later));

        let stats = store.outbox_stats().await.unwrap();
        assert_eq!((stats.pending, stats.failed), (1, 0), "{backend:?}");

        store
            .alert_attempt_failed(due[1].id, "HTTP 502", later, true)
            .await
            .unwrap();
        let stats = store.outbox_stats().await.unwrap();
        assert_eq!((stats.pending, stats.failed), (0, 1), "{backend:?}");
        let rows = store.all_alerts().await.unwrap();
        assert_eq!(rows[0].message_id, Some(555));
        assert_eq!(rows[1].attempts, 2);
        assert_eq!(rows[1].last_error.as_deref(), Some("HTTP 502"));
        assert_eq!(store.next_alert_due().await.unwrap(), None);
    }
}

#[tokio::test]
async fn an_alert_is_leased_to_one_sender_at_a_time() {
    for (store, _dir) in stores().await {
        store.enqueue_alerts(&[alert("x", -1)]).await.unwrap();
        let id = store.due_alerts(10, 10).await.unwrap()[0].id;
        assert!(
            store.lease_alert(id, 60_000, "a").await.unwrap(),
            "{:?}",
            store.backend()
        );
        assert!(
            !store.lease_alert(id, 60_000, "a").await.unwrap(),
            "{:?}: taken twice",
            store.backend()
        );
        assert!(
            store.due_alerts(10, 10).await.unwrap().is_empty(),
            "a leased alert is not due"
        );
    }
}

#[tokio::test]
async fn a_mute_keeps_alerts_out_of_one_chat_but_never_prod_failures_or_prompts() {
    for (store, _dir) in stores().await {
        let backend = store.backend();
        let mute = |target: &str| aletheia_bot::store::MuteRow {
            chat_id: -1,
            target: target.into(),
            until: aletheia_bot::store::now_ms() + 3_600_000,
            muted_by: 2,
            spare_env: Some("prod".into()),
        };
        store.mute(&mute("prod"), &audit("mute")).await.unwrap();
        store.mute(&mute("failure"), &audit("mute")).await.unwrap();
        // Muting the same target again replaces the mute.
        store.mute(&mute("failure"), &audit("mute")).await.unwrap();
        let make = |key: &str, kind: AlertKind, env: Option<&str>, chat: i64| NewAlert {
            kind,
            env: env.map(|e| Env::parse(e).unwrap()),
            ..alert(key, chat)
        };
        let inserted = store
            .enqueue_alerts(&[
                make("deployed", AlertKind::Deployment, Some("prod"), -1),
                make("staging-failed", AlertKind::Failure, Some("staging"), -1),
                make("prod-failed", AlertKind::Failure, Some("prod"), -1),
                make("prompt", AlertKind::Approval, Some("prod"), -1),
                make("elsewhere", AlertKind::Deployment, Some("prod"), -2),
                make(
                    "staging-deployed",
                    AlertKind::Deployment,
                    Some("staging"),
                    -1,
                ),
                make("prod-health", AlertKind::Health, Some("prod"), -1),
                NewAlert {
                    urgent: true,
                    ..make(
                        "prod-failed-as-deployment",
                        AlertKind::Deployment,
                        Some("prod"),
                        -1,
                    )
                },
            ])
            .await
            .unwrap();
        let mut keys: Vec<String> = store
            .all_alerts()
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.dedup_key)
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "elsewhere@-2",
                "prod-failed-as-deployment@-1",
                "prod-failed@-1",
                "prod-health@-1",
                "prompt@-1",
                "staging-deployed@-1"
            ],
            "{backend:?}"
        );
        assert_eq!(inserted, 6, "{backend:?}");
        assert!(store.unmute(-1, "prod", &audit("unmute")).await.unwrap());
        assert!(!store.unmute(-1, "prod", &audit("unmute")).await.unwrap());
        store
            .enqueue_alerts(&[make("deployed", AlertKind::Deployment, Some("prod"), -1)])
            .await
            .unwrap();
        assert_eq!(store.all_alerts().await.unwrap().len(), 7, "{backend:?}");
    }
}

#[tokio::test]
async fn progress_is_enqueued_only_while_the_operation_runs() {
    use aletheia_bot::domain::OperationState;
    for (store, _dir) in stores().await {
        let id = dev_deploy(&store, OperationState::Dispatched, None).await;
        let live = [OperationState::Dispatched, OperationState::Running];
        let progress = |n: u32| NewAlert {
            edit_of: Some("op:1:dispatched@-5".into()),
            ..alert(&format!("op:1:dispatched:jobs-{n}of3"), -5)
        };
        assert!(
            store
                .enqueue_while(id, &live, &[progress(1)])
                .await
                .unwrap()
        );
        // The run ends: progress told after the outcome would be old news.
        assert!(
            store
                .transition(
                    id,
                    Transition::new(&live, OperationState::Failed),
                    &audit("run:deploy"),
                    &[]
                )
                .await
                .unwrap()
        );
        assert!(
            !store
                .enqueue_while(id, &live, &[progress(2)])
                .await
                .unwrap()
        );
        let keys: Vec<String> = store
            .all_alerts()
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.dedup_key)
            .collect();
        assert_eq!(keys, ["op:1:dispatched:jobs-1of3@-5"]);
    }
}

#[tokio::test]
async fn a_chat_with_a_backlog_does_not_starve_the_others() {
    for (store, _dir) in stores().await {
        for chat in [-100, -200] {
            let storm: Vec<NewAlert> = (0..5).map(|i| alert(&format!("storm-{i}"), chat)).collect();
            store.enqueue_alerts(&storm).await.unwrap();
        }
        store.enqueue_alerts(&[alert("prompt", 42)]).await.unwrap();
        let due = |limit| {
            let store = store.clone();
            async move {
                store
                    .due_alerts(limit, 2)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|a| a.dedup_key)
                    .collect::<Vec<String>>()
            }
        };
        // Every chat's first before any chat's second: however small the
        // batch, the storms fill it no more than the prompt's chat.
        assert_eq!(due(3).await, ["storm-0@-100", "storm-0@-200", "prompt@42"]);
        assert_eq!(
            due(10).await,
            [
                "storm-0@-100",
                "storm-0@-200",
                "prompt@42",
                "storm-1@-100",
                "storm-1@-200"
            ]
        );
    }
}

#[tokio::test]
async fn approval_prompts_go_before_routine_alerts_of_their_chat_but_edits_keep_their_place() {
    for (store, _dir) in stores().await {
        let backend = store.backend();
        let prompt = NewAlert {
            kind: AlertKind::Approval,
            ..alert("prompt", -1)
        };
        let prompt_edit = NewAlert {
            kind: AlertKind::Approval,
            edit_of: Some("prompt@-1".into()),
            ..alert("prompt-edit", -1)
        };
        store
            .enqueue_alerts(&[alert("x", -1), alert("y", -1), alert("z", -2)])
            .await
            .unwrap();
        store.enqueue_alerts(&[prompt_edit, prompt]).await.unwrap();
        let keys = |rows: Vec<aletheia_bot::store::OutboxRow>| -> Vec<String> {
            rows.into_iter().map(|a| a.dedup_key).collect()
        };
        assert_eq!(
            keys(store.due_alerts(10, 10).await.unwrap()),
            // Each chat's first before any chat's second, as ever.
            ["z@-2", "prompt@-1", "x@-1", "y@-1", "prompt-edit@-1"],
            "{backend:?}"
        );
        assert_eq!(
            store
                .due_approval_in(-1)
                .await
                .unwrap()
                .map(|a| a.dedup_key)
                .as_deref(),
            Some("prompt@-1"),
            "{backend:?}"
        );
        assert!(store.due_approval_in(-2).await.unwrap().is_none());
    }
}
