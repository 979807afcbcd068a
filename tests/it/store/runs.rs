//! Runs started outside the bot, in the store of each backend: the slot
//! they take or run alongside, once per run, and what the bot knows of
//! each workflow's runs.

use aletheia_bot::domain::{Env, OperationId, OperationKind, OperationState};
use aletheia_bot::store::{Adopted, AdoptedRun, AuditEntry};

use super::stores;

fn run(run_id: i64, env: Option<&Env>, alongside: Option<i64>) -> AdoptedRun<'_> {
    AdoptedRun {
        kind: if env.is_some() {
            OperationKind::Deploy
        } else {
            OperationKind::Release
        },
        env,
        version: "1.3.0",
        running: None,
        run_id,
        run_url: "https://github.com/o/r/actions/runs/1",
        alongside: alongside.map(OperationId),
    }
}

fn audit() -> AuditEntry {
    AuditEntry {
        actor: None,
        chat: None,
        action: "run:adopt".into(),
        outcome: "dispatched".into(),
        operation: None,
        detail: String::new(),
    }
}

#[tokio::test]
async fn a_run_found_while_the_slot_is_held_is_recorded_alongside_once() {
    let (staging, dev) = (Env::parse("staging").unwrap(), Env::parse("dev").unwrap());
    for (store, _dir) in stores().await {
        let adopt = |r| {
            let store = store.clone();
            async move { store.adopt_run(&r, &audit(), &[]).await.unwrap() }
        };
        assert_eq!(
            adopt(run(9001, Some(&staging), None)).await,
            Adopted::New(OperationId(1))
        );
        assert_eq!(adopt(run(9002, Some(&staging), None)).await, Adopted::Busy);
        let holder = store
            .slot_holder(OperationKind::Deploy, Some(&staging))
            .await
            .unwrap();
        assert_eq!(holder.map(|o| o.id), Some(1));
        // (A refused insert may use up an id: PostgreSQL's sequences.)
        assert!(matches!(
            adopt(run(9002, Some(&staging), Some(1))).await,
            Adopted::New(_)
        ));
        // The webhook and the poller at once: one operation for the run.
        assert_eq!(
            adopt(run(9002, Some(&staging), Some(1))).await,
            Adopted::Already
        );
        // The slot is still the first one's; another env's is free.
        let holder = store
            .slot_holder(OperationKind::Deploy, Some(&staging))
            .await
            .unwrap();
        assert_eq!(holder.map(|o| o.id), Some(1));
        assert!(matches!(
            adopt(run(9003, Some(&dev), None)).await,
            Adopted::New(_)
        ));
        // Releases have one slot of their own.
        assert!(matches!(
            adopt(run(9004, None, None)).await,
            Adopted::New(_)
        ));
        assert_eq!(adopt(run(9005, None, None)).await, Adopted::Busy);
        let ops = store.all_operations().await.unwrap();
        assert_eq!(ops.len(), 4);
        assert!(ops.iter().all(|o| o.state == OperationState::Dispatched));
    }
}
