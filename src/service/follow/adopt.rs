//! Runs of the process's workflows that the bot did not start (the Release
//! workflow's staging deploy, a run from the GitHub UI, other automation):
//! found by webhook or by polling, and adopted as operations followed like
//! the bot's own.

use super::CLOCK_SKEW_SECS;
use crate::adapters::github::WorkflowRun;
use crate::alerts::{self, Rendered};
use crate::domain::runs::{parse_release_title, parse_run_title_as_named};
use crate::domain::{AlertKey, NewOp, OpStep};
use crate::domain::{Env, OperationId, OperationKind, OperationState};
use crate::messages::story as say;
use crate::service::App;
use crate::store::{Adopted, AdoptedRun, AuditEntry, OperationRow, StoreError};

impl App {
    /// A run of one of the process's workflows that the bot did not start
    /// becomes an operation followed like the bot's own, when its run-name
    /// says what it does and it is not older than the bot's knowledge of
    /// its workflow (its first start).
    pub(super) async fn adopt(
        &self,
        run: &WorkflowRun,
    ) -> Result<Option<OperationRow>, StoreError> {
        if run.status.as_deref() == Some("completed") && run.conclusion.is_none() {
            return Ok(None);
        }
        let Some((kind, env, version)) = self.run_says(run) else {
            return Ok(None);
        };
        let env_typed = match &env {
            Some(env) => match Env::parse(env) {
                Ok(e) if self.config.environments.contains_key(&e) => Some(e),
                _ => return Ok(None),
            },
            None => None,
        };
        let title = run.display_title.as_deref().unwrap_or_default();
        // A run from before the bot knew the workflow (a redelivered old
        // webhook, the first listing after the first start) is history.
        let known = self.store.run_knowledge(run.file()).await?;
        if known.is_none_or(|k| run.created_at.timestamp_millis() < k.known_since) {
            tracing::info!(
                run = run.id,
                "a run created before the bot knew its workflow; not followed"
            );
            return Ok(None);
        }
        let Ok(run_id) = i64::try_from(run.id) else {
            return Ok(None);
        };
        // What ran there before, for the lock and incident report of a
        // rollback (ECS may already show the new version: best effort).
        let running = match env_typed
            .as_ref()
            .and_then(|e| self.config.environments.get(e))
        {
            Some(cfg) => self.running_tag(cfg).await.ok().flatten(),
            None => None,
        };
        let alert_kind = crate::domain::runs::alert_kind_of(kind);
        let audit = AuditEntry {
            actor: None,
            chat: None,
            action: "run:adopt".into(),
            outcome: "dispatched".into(),
            operation: None,
            detail: format!("run {} ({title})", run.id),
        };
        let mut adopted = AdoptedRun {
            kind,
            env: env_typed.as_ref(),
            version: &version,
            running: running.as_deref(),
            run_id,
            run_url: &run.html_url,
            alongside: None,
        };
        let mut holder = None;
        // Twice at most: the slot may be freed between the two tries.
        for _ in 0..2 {
            let alerts = alerts::route(
                &self.config,
                &Rendered {
                    kind: alert_kind,
                    env: env_typed.clone(),
                    key: AlertKey::op(NewOp, OpStep::Dispatched),
                    text: say::adopted(
                        kind,
                        env.as_deref(),
                        &version,
                        holder.as_ref(),
                        &run.html_url,
                    ),
                },
            );
            match self.store.adopt_run(&adopted, &audit, &alerts).await? {
                Adopted::New(id) => {
                    self.outbox.notify_one();
                    return self.store.operation(id).await;
                }
                Adopted::Already => return self.store.operation_by_run(run_id).await,
                Adopted::Busy => {}
            }
            let Some(live) = self.store.slot_holder(kind, env_typed.as_ref()).await? else {
                continue;
            };
            if live.run_id == Some(run_id) {
                // Adopted by the other path (webhook or poller) meanwhile.
                return Ok(Some(live));
            }
            if could_be_the_run_of(&live, kind, &version, run) {
                // Most likely that operation's own run, whose run-name
                // carries no request id: the poller matches it by time.
                return Ok(None);
            }
            // It changes what runs there all the same: told and followed,
            // recorded alongside the operation that holds the slot.
            adopted.alongside = Some(OperationId(live.id));
            holder = Some(live);
        }
        Ok(None)
    }

    /// What a run of one of the process's workflows says it does, by its
    /// run-name: the kind, the environment as named, and the version.
    fn run_says(&self, run: &WorkflowRun) -> Option<(OperationKind, Option<String>, String)> {
        let title = run.display_title.as_deref().unwrap_or_default();
        // A version, or where the environment deploys itself (a push to
        // main, say) any image tag.
        let named_in = |prefix: &str| {
            let (named, env) = parse_run_title_as_named(prefix, title)?;
            let auto_deploy = Env::parse(&env)
                .ok()
                .and_then(|e| self.config.environments.get(&e))
                .is_some_and(|c| c.auto_deploy);
            crate::domain::run_version(&named, auto_deploy).map(|v| (v, env))
        };
        let (kind, env, version) = match self.config.github.workflows.kind_of_file(run.file()) {
            Some(OperationKind::Deploy) => match named_in("Deploy ") {
                Some((version, env)) => (OperationKind::Deploy, Some(env), version),
                None => return not_adopted(run, "Deploy"),
            },
            Some(OperationKind::Rollback) => match named_in("Rollback ") {
                Some((version, env)) => (OperationKind::Rollback, Some(env), version),
                None => return not_adopted(run, "Rollback"),
            },
            Some(OperationKind::Release) => match parse_release_title(title) {
                Some(version) => (OperationKind::Release, None, version),
                None => return not_adopted(run, "Release"),
            },
            None => return None,
        };
        Some((kind, env, version))
    }
}

/// Whether `run` may be the live operation's own, not yet matched: that
/// operation was dispatched for the same thing, without a run known yet,
/// and the run was dispatched too, after it.
fn could_be_the_run_of(
    live: &OperationRow,
    kind: OperationKind,
    version: &str,
    run: &WorkflowRun,
) -> bool {
    let dispatched_at = live.dispatched_at.unwrap_or(live.updated_at) - CLOCK_SKEW_SECS * 1000;
    live.run_id.is_none()
        && live.kind == kind
        && live.version == version
        && matches!(
            live.state,
            OperationState::Dispatched | OperationState::Running
        )
        && run
            .event
            .as_deref()
            .is_none_or(|e| e == "workflow_dispatch")
        && run.created_at.timestamp_millis() >= dispatched_at
}

fn not_adopted<T>(run: &WorkflowRun, workflow: &str) -> Option<T> {
    tracing::debug!(
        run = run.id,
        "a {workflow} run whose run-name does not say what it does; not followed"
    );
    None
}

#[cfg(test)]
mod tests {
    use super::could_be_the_run_of;
    use crate::adapters::github::WorkflowRun;
    use crate::domain::{Env, OperationKind, OperationState};

    fn open_deploy(state: OperationState, run_id: Option<i64>) -> crate::store::OperationRow {
        crate::store::OperationRow {
            id: 4,
            kind: OperationKind::Deploy,
            env: Some(Env::parse("staging").unwrap()),
            version: "1.3.0".into(),
            release_type: None,
            state,
            requested_by: 1,
            chat_id: -1,
            request_id: "r".into(),
            run_id,
            run_url: None,
            detail: None,
            created_at: 0,
            updated_at: 1_000_000,
            expires_at: None,
            dispatched_at: Some(1_000_000),
            direct_ecs: false,
        }
    }

    fn run(event: &str, created_ms: i64) -> WorkflowRun {
        WorkflowRun {
            id: 9002,
            name: Some("Deploy".into()),
            path: ".github/workflows/deploy.yml".into(),
            display_title: Some("Deploy 1.3.0 to staging".into()),
            event: Some(event.into()),
            status: Some("queued".into()),
            conclusion: None,
            html_url: "https://github.com/o/r/actions/runs/9002".into(),
            created_at: crate::alerts::format::from_ms(created_ms),
            run_started_at: None,
            updated_at: None,
        }
    }

    #[test]
    fn only_a_dispatched_run_after_an_open_dispatch_of_the_same_may_be_its_own() {
        let mine = |op: &crate::store::OperationRow, r: &WorkflowRun| {
            could_be_the_run_of(op, OperationKind::Deploy, "1.3.0", r)
        };
        let after = run("workflow_dispatch", 1_002_000);
        assert!(mine(&open_deploy(OperationState::Dispatched, None), &after));
        assert!(mine(&open_deploy(OperationState::Running, None), &after));
        // The Release workflow's own deploy, a push: not a dispatch.
        assert!(!mine(
            &open_deploy(OperationState::Dispatched, None),
            &run("workflow_call", 1_002_000)
        ));
        // Created well before the bot dispatched.
        assert!(!mine(
            &open_deploy(OperationState::Dispatched, None),
            &run("workflow_dispatch", 900_000)
        ));
        // Its run is known, or it was never dispatched.
        assert!(!mine(
            &open_deploy(OperationState::Dispatched, Some(9001)),
            &after
        ));
        assert!(!mine(
            &open_deploy(OperationState::AwaitingApproval, None),
            &after
        ));
        assert!(!could_be_the_run_of(
            &open_deploy(OperationState::Dispatched, None),
            OperationKind::Deploy,
            "1.3.1",
            &after
        ));
    }
}
