//! GitHub deployment statuses queued with the moves of deploys and
//! rollbacks (`github.deployments`), on both backends.

use aletheia_bot::domain::{OperationId, OperationState};
use aletheia_bot::store::{Created, NewOperation, Store, Transition};

use super::{audit, prod_deploy_awaiting_approval, stores};

use OperationState::*;

/// An approved prod deploy, claimed (dispatched).
async fn dispatched(store: &Store) -> OperationId {
    let op = NewOperation {
        state: Approved,
        request_id: uuid::Uuid::new_v4().to_string(),
        ..prod_deploy_awaiting_approval()
    };
    let Created::New(id) = store
        .create_operation(&op, &audit("operation:deploy"), &[])
        .await
        .unwrap()
    else {
        panic!("created")
    };
    assert!(store.claim_dispatch(id).await.unwrap().is_some());
    id
}

async fn moved(store: &Store, id: OperationId, from: OperationState, to: OperationState) {
    let from = [from];
    let t = Transition::new(&from, to);
    assert!(store.transition(id, t, &audit("move"), &[]).await.unwrap());
}

/// The pending steps: (operation, status), oldest first.
async fn queued(store: &Store) -> Vec<(i64, &'static str)> {
    store
        .pending_deployment_steps(100)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.operation.0, s.status.as_str()))
        .collect()
}

#[tokio::test]
async fn each_move_queues_its_statuses_once_in_order_and_only_when_recording() {
    for (plain, _dir) in stores().await {
        let backend = plain.backend();
        // Not recording: a deploy's moves queue nothing.
        let a = dispatched(&plain).await;
        moved(&plain, a, Dispatched, Failed).await;
        assert!(queued(&plain).await.is_empty(), "{backend:?}");

        let store = plain.clone().recording_deployments(true);
        let b = dispatched(&store).await;
        moved(&store, b, Dispatched, Running).await;
        moved(&store, b, Running, Running).await;
        moved(&store, b, Running, Succeeded).await;
        // Straight from dispatched to succeeded: in_progress still comes
        // first, and the deploy it replaced becomes inactive.
        let c = dispatched(&store).await;
        moved(&store, c, Dispatched, Succeeded).await;
        // Failed before it went out: nothing to record.
        let d = dispatched(&plain).await;
        moved(&store, d, Dispatched, Failed).await;
        let (b, c) = (b.0, c.0);
        assert_eq!(
            queued(&store).await,
            [
                (b, "queued"),
                (b, "in_progress"),
                (b, "success"),
                (c, "queued"),
                (c, "in_progress"),
                (c, "success"),
                (b, "inactive"),
            ],
            "{backend:?}"
        );

        // Posted: gone from the queue, and the deployment noted once.
        let steps = store.pending_deployment_steps(100).await.unwrap();
        assert!(store.start_deployment_step(steps[0].id).await.unwrap());
        store
            .note_github_deployment(OperationId(b), 701)
            .await
            .unwrap();
        store
            .note_github_deployment(OperationId(b), 702)
            .await
            .unwrap();
        store.deployment_step_done(steps[0].id).await.unwrap();
        let left = store.pending_deployment_steps(100).await.unwrap();
        assert_eq!(left.len(), 6);
        assert_eq!((left[0].deployment_id, left[0].attempts), (Some(701), 0));
        // Refused for good: that operation's steps are given up.
        store
            .drop_deployment_steps(OperationId(b), None, "422")
            .await
            .unwrap();
        assert_eq!(
            queued(&store).await,
            [(c, "queued"), (c, "in_progress"), (c, "success")],
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn an_adopted_run_is_recorded_a_release_never() {
    use aletheia_bot::domain::{Env, OperationKind};
    use aletheia_bot::store::{Adopted, AdoptedRun};
    for (store, _dir) in stores().await {
        let store = store.recording_deployments(true);
        let staging = Env::parse("staging").unwrap();
        let mut ids = Vec::new();
        for (kind, env, run_id) in [
            (OperationKind::Release, None, 9001),
            (OperationKind::Rollback, Some(&staging), 9002),
        ] {
            let run = AdoptedRun {
                kind,
                env,
                version: "1.3.0",
                running: None,
                run_id,
                run_url: "https://github.com/o/r/actions/runs/1",
                alongside: None,
            };
            let Adopted::New(id) = store
                .adopt_run(&run, &audit("run:adopt"), &[])
                .await
                .unwrap()
            else {
                panic!("adopted")
            };
            ids.push(id);
        }
        moved(&store, ids[0], Dispatched, Running).await;
        moved(&store, ids[1], Dispatched, Running).await;
        assert_eq!(
            queued(&store).await,
            [(ids[1].0, "queued"), (ids[1].0, "in_progress")],
            "{:?}",
            store.backend()
        );
        let steps = store.pending_deployment_steps(100).await.unwrap();
        assert_eq!(steps[0].env, staging);
        assert_eq!(
            steps[0].run_url.as_deref(),
            Some("https://github.com/o/r/actions/runs/1")
        );
    }
}
