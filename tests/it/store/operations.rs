//! Operations and dialogues: decided and claimed once under contention,
//! a stranded one reclaimed once, what ran before noted once, a run once
//! attached never replaced.

use aletheia_bot::store::RunKnowledge;

use super::*;

#[tokio::test]
async fn dialogue_state_survives_a_new_connection() {
    use aletheia_bot::store::DialogueStorage;
    use teloxide::dispatching::dialogue::Storage;
    use teloxide::types::ChatId as TgChatId;

    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    enum Flow {
        PickEnv,
        PickVersion { env: String },
    }

    for (store, _dir) in stores().await {
        let storage = DialogueStorage::<Flow>::new(store.clone());
        let chat = TgChatId(-42);
        assert_eq!(storage.clone().get_dialogue(chat).await.unwrap(), None);
        storage
            .clone()
            .update_dialogue(chat, Flow::PickEnv)
            .await
            .unwrap();
        storage
            .clone()
            .update_dialogue(chat, Flow::PickVersion { env: "prod".into() })
            .await
            .unwrap();
        // Another storage on the same database (a restarted bot) sees it.
        let again = DialogueStorage::<Flow>::new(store.clone());
        assert_eq!(
            again.clone().get_dialogue(chat).await.unwrap(),
            Some(Flow::PickVersion { env: "prod".into() }),
            "{:?}",
            store.backend()
        );
        again.clone().remove_dialogue(chat).await.unwrap();
        assert_eq!(storage.get_dialogue(chat).await.unwrap(), None);
    }
}

#[tokio::test]
async fn concurrent_decisions_move_an_operation_once_and_claim_it_once() {
    use aletheia_bot::domain::{OperationState, UserId};
    use aletheia_bot::store::{Created, Decided, Decision, NewOperation};

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
        // A second live operation in the same environment is refused by
        // the database itself.
        let again = NewOperation {
            request_id: uuid::Uuid::new_v4().to_string(),
            ..op.clone()
        };
        assert!(matches!(
            store
                .create_operation(&again, &audit("operation:deploy"), &[])
                .await
                .unwrap(),
            Created::Busy
        ));

        // Twenty approvers (one tapping twice) at once; two approvals needed.
        let mut tasks = Vec::new();
        for user in (10..30).chain([10]) {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .decide(
                        id,
                        &Decision {
                            user: UserId(user),
                            approve: true,
                            needed: 2,
                            counts: &|_| true,
                            tally: &|counting| counting.len() as i64,
                            audit: &audit("tap:approve"),
                            alerts_if_moved: &[alert("moved", -5)],
                            alerts_if_lapsed: &[],
                            alerts_if_counted: &[],
                        },
                    )
                    .await
                    .unwrap()
            }));
        }
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        let moved = outcomes
            .iter()
            .filter(|o| {
                matches!(o, Decided::Claimed(claim)
                    if claim.operation().id == id.0 && claim.operation().state == OperationState::Dispatched)
            })
            .count();
        let counted = outcomes
            .iter()
            .filter(|o| matches!(o, Decided::Counted { .. }))
            .count();
        assert_eq!((moved, counted), (1, 1), "{backend:?}: {outcomes:?}");
        assert!(
            outcomes.iter().all(|o| matches!(
                o,
                Decided::Claimed(_)
                    | Decided::Counted { approvals: 1, .. }
                    | Decided::TooLate(OperationState::Dispatched)
                    | Decided::AlreadyVoted
            )),
            "{backend:?}: {outcomes:?}"
        );
        assert_eq!(
            store.all_alerts().await.unwrap().len(),
            1,
            "{backend:?}: the outcome's alert, once"
        );

        // The last approval claimed it: nobody claims it again.
        assert!(store.claim_dispatch(id).await.unwrap().is_none());
        assert_eq!(
            store.operation(id).await.unwrap().unwrap().state,
            OperationState::Dispatched
        );

        // An operation approved without a tap (no approval needed, or
        // stranded by a crash) is claimed by one of many at once.
        let approved = NewOperation {
            env: Some(Env::parse("staging").unwrap()),
            state: OperationState::Approved,
            request_id: uuid::Uuid::new_v4().to_string(),
            ..op.clone()
        };
        let Created::New(id) = store
            .create_operation(&approved, &audit("operation:deploy"), &[])
            .await
            .unwrap()
        else {
            panic!("{backend:?}: created")
        };
        let mut claims = Vec::new();
        for _ in 0..10 {
            let store = store.clone();
            claims.push(tokio::spawn(async move {
                store.claim_dispatch(id).await.unwrap().is_some()
            }));
        }
        let mut won = 0;
        for claim in claims {
            won += usize::from(claim.await.unwrap());
        }
        assert_eq!(won, 1, "{backend:?}: exactly one dispatch claim");
        assert_eq!(
            store.operation(id).await.unwrap().unwrap().state,
            OperationState::Dispatched
        );
    }
}

#[tokio::test]
async fn a_direct_rollback_stranded_in_dispatched_is_reclaimed_by_one_caller_once_it_is_old_enough()
{
    use aletheia_bot::domain::OperationState;
    use aletheia_bot::store::{Created, NewOperation, now_ms};
    for (store, url, _dir) in stores_at().await {
        let backend = store.backend();
        let op = NewOperation {
            kind: OperationKind::Rollback,
            env: Some(Env::parse("prod").unwrap()),
            version: "1.2.2".into(),
            release_type: None,
            state: OperationState::Dispatched,
            requested_by: UserId(1),
            chat_id: -5,
            request_id: uuid::Uuid::new_v4().to_string(),
            expires_in_ms: None,
            detail: Some("running=1.2.3".into()),
            run: None,
            direct_ecs: true,
            freeze_override: None,
        };
        let Created::New(id) = store
            .create_operation(&op, &audit("operation:rollback"), &[])
            .await
            .unwrap()
        else {
            panic!("{backend:?}: created")
        };
        assert!(store.operation(id).await.unwrap().unwrap().direct_ecs);
        // Claimed just now: not stranded yet.
        let before = now_ms() - 30_000;
        assert!(store.reclaim_direct(id, before).await.unwrap().is_none());
        // A minute later (the bot stopped meanwhile), many pollers at once.
        raw(
            &store,
            &url,
            "UPDATE operations SET updated_at = updated_at - 60000",
        )
        .await;
        let mut claims = Vec::new();
        for _ in 0..10 {
            let store = store.clone();
            claims.push(tokio::spawn(async move {
                store.reclaim_direct(id, now_ms() - 30_000).await.unwrap()
            }));
        }
        let mut won = Vec::new();
        for claim in claims {
            won.extend(claim.await.unwrap());
        }
        assert_eq!(won.len(), 1, "{backend:?}: exactly one reclaim");
        assert_eq!(won[0].operation().id, id.0);
        assert!(won[0].operation().direct_ecs);
        // A deploy (no direct rollback) is never reclaimed this way.
        let deploy = NewOperation {
            kind: OperationKind::Deploy,
            env: Some(Env::parse("dev").unwrap()),
            direct_ecs: false,
            freeze_override: None,
            request_id: uuid::Uuid::new_v4().to_string(),
            ..op
        };
        let Created::New(other) = store
            .create_operation(&deploy, &audit("operation:deploy"), &[])
            .await
            .unwrap()
        else {
            panic!("{backend:?}: created")
        };
        raw(
            &store,
            &url,
            "UPDATE operations SET updated_at = updated_at - 60000",
        )
        .await;
        assert!(
            store
                .reclaim_direct(other, now_ms() - 30_000)
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn what_ran_before_is_noted_once_ahead_of_what_the_detail_says() {
    use aletheia_bot::domain::OperationState;
    for (store, _dir) in stores().await {
        let id = dev_deploy(&store, OperationState::Approved, None).await;
        store.note_ran_before(id, "1.2.3").await.unwrap();
        store.note_ran_before(id, "1.2.9").await.unwrap();
        let op = store.operation(id).await.unwrap().unwrap();
        assert_eq!(op.ran_before(), Some("1.2.3"), "{:?}", store.backend());
        assert_eq!(op.detail.as_deref(), Some("running=1.2.3"));

        // Failed first (its detail the error), noted after: both kept.
        let id = dev_deploy(&store, OperationState::Failed, Some("HTTP 502")).await;
        store.note_ran_before(id, "1.2.3").await.unwrap();
        let op = store.operation(id).await.unwrap().unwrap();
        assert_eq!(op.ran_before(), Some("1.2.3"), "{:?}", store.backend());
        assert_eq!(op.detail.as_deref(), Some("running=1.2.3 · HTTP 502"));
    }
}

#[tokio::test]
async fn what_the_bot_knows_of_a_workflows_runs_starts_once_and_only_moves_on() {
    for (store, _dir) in stores().await {
        assert_eq!(store.run_knowledge("deploy.yml").await.unwrap(), None);
        store.open_run_knowledge(&["deploy.yml"]).await.unwrap();
        let first = store.run_knowledge("deploy.yml").await.unwrap().unwrap();
        assert_eq!(first.known_since, first.polled_to);
        // A restart does not move the start of the bot's knowledge.
        store
            .open_run_knowledge(&["deploy.yml", "release.yml"])
            .await
            .unwrap();
        assert_eq!(
            store.run_knowledge("deploy.yml").await.unwrap(),
            Some(first)
        );
        let later = first.polled_to + 60_000;
        store.polled_runs_to("deploy.yml", later).await.unwrap();
        store
            .polled_runs_to("deploy.yml", first.polled_to)
            .await
            .unwrap();
        assert_eq!(
            store.run_knowledge("deploy.yml").await.unwrap(),
            Some(RunKnowledge {
                known_since: first.known_since,
                polled_to: later
            })
        );
    }
}

#[tokio::test]
async fn a_run_once_attached_is_never_replaced() {
    use aletheia_bot::domain::OperationState;
    let live = [OperationState::Dispatched, OperationState::Running];
    for (store, _dir) in stores().await {
        let backend = store.backend();
        let id = dev_deploy(&store, OperationState::Dispatched, None).await;
        let run = |n: i64| (n, "https://github.com/o/r/actions/runs/n");
        assert!(
            store
                .transition(
                    id,
                    Transition::new(&live, OperationState::Running).run(Some(run(1))),
                    &audit("run"),
                    &[]
                )
                .await
                .unwrap()
        );
        // Another run's end does not move it, and its run stays.
        assert!(
            !store
                .transition(
                    id,
                    Transition::new(&live, OperationState::Failed).run(Some(run(2))),
                    &audit("run"),
                    &[]
                )
                .await
                .unwrap(),
            "{backend:?}"
        );
        // Told again (a dispatch answering late), the run it has stays.
        store
            .record_dispatch(id, Some(3), Some("https://x/3"), &audit("dispatch"), &[])
            .await
            .unwrap();
        let op = store.operation(id).await.unwrap().unwrap();
        assert_eq!(
            (op.state.as_str(), op.run_id),
            ("running", Some(1)),
            "{backend:?}"
        );
        // Its own run moves it.
        assert!(
            store
                .transition(
                    id,
                    Transition::new(&live, OperationState::Failed).run(Some(run(1))),
                    &audit("run"),
                    &[]
                )
                .await
                .unwrap()
        );
    }
}

#[tokio::test]
async fn a_move_tells_what_it_moved_and_only_the_one_that_moved_it() {
    use aletheia_bot::domain::OperationState;
    use aletheia_bot::store::Moved;
    let live = [OperationState::Dispatched, OperationState::Running];
    for (store, _dir) in stores().await {
        let backend = store.backend();
        let id = dev_deploy(&store, OperationState::Dispatched, None).await;
        let end = Transition::new(&live, OperationState::Succeeded);
        assert_eq!(
            store
                .move_operation(id, end, &audit("run"), &[])
                .await
                .unwrap(),
            Some(Moved {
                kind: OperationKind::Deploy,
                env: Some(Env::parse("dev").unwrap()),
            }),
            "{backend:?}"
        );
        // Told again (another instance, a redelivery): nothing moved, so
        // nothing to count.
        assert_eq!(
            store
                .move_operation(id, end, &audit("run"), &[])
                .await
                .unwrap(),
            None,
            "{backend:?}"
        );
    }
}
