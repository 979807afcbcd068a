//! Polling, the fallback when no webhook arrives: every operation still
//! waiting on its run is looked up on GitHub, approved operations the bot
//! never dispatched are dispatched, and runs nobody told the bot of are
//! listed and adopted.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::CLOCK_SKEW_SECS;
use crate::adapters::github::WorkflowRun;
use crate::alerts::format::from_ms;
use crate::alerts::{self, Rendered};
use crate::domain::runs::{request_id_in, run_fits};
use crate::domain::{AlertKey, AlertKind, OpStep, OperationId, OperationKind, OperationState};
use crate::messages::story as say;
use crate::service::App;
use crate::store::{AuditEntry, OperationRow, Transition};

/// How far back the poller looks for runs it has not listed yet, after
/// a long stop: a run older than this is history (`/status` and
/// `/history` tell it), not news to announce.
const LOOKBACK_CAP_MS: i64 = 24 * 60 * 60 * 1000;

impl App {
    /// One polling pass: asks GitHub about every operation still waiting
    /// on its run.
    pub async fn poll_runs(&self) {
        self.resume_stranded(STRANDED_AFTER_MS).await;
        let ops = match self.store.followed_operations().await {
            Ok(ops) => ops,
            Err(e) => {
                tracing::warn!(error = %e, "follow: store unreadable");
                return;
            }
        };
        for op in ops {
            // A direct ECS rollback has no run to look for.
            if op.direct_ecs {
                self.resume_direct(&op, STRANDED_AFTER_MS).await;
                continue;
            }
            let run = match op.run_id.and_then(|r| u64::try_from(r).ok()) {
                Some(run_id) => self.github.run(run_id).await.map(Some),
                None => self.find_run(&op).await,
            };
            match run {
                Ok(Some(run)) => {
                    if let Err(e) = self.apply_run_to(&run, Some(op.clone())).await {
                        tracing::warn!(error = %e, operation = op.id, "follow: applying a run failed");
                    }
                }
                Ok(None) => self.give_up_if_late(&op).await,
                Err(e) => {
                    tracing::warn!(error = %e, operation = op.id, "follow: GitHub unreachable")
                }
            }
        }
        // After the bot's own runs are matched (a run found by time must
        // not be taken for one started elsewhere): the runs nobody told it of.
        self.discover_runs().await;
    }

    /// Approved operations the bot never claimed (it stopped between the
    /// approval and the dispatch): dispatched now. `approved` means GitHub
    /// was never called, so this cannot dispatch twice.
    pub(super) async fn resume_stranded(&self, stranded_after_ms: i64) {
        let before = crate::store::now_ms() - stranded_after_ms;
        let ops = match self.store.stranded_approvals(before).await {
            Ok(ops) => ops,
            Err(e) => {
                tracing::warn!(error = %e, "follow: store unreadable");
                return;
            }
        };
        for op in ops {
            tracing::info!(
                operation = op.id,
                "resuming an approved operation never dispatched"
            );
            if op.kind == OperationKind::Deploy
                && let Some(cfg) = op
                    .env
                    .clone()
                    .and_then(|e| self.config.environments.get(&e))
            {
                match self.recheck(&op, cfg).await {
                    Ok(()) => {}
                    Err(crate::service::approvals::Recheck::Stale(why)) => {
                        self.stale(&op, "the approver", &why).await;
                        continue;
                    }
                    // Unreadable now: the next pass tries again.
                    Err(crate::service::approvals::Recheck::Unavailable(_)) => continue,
                }
            }
            match self.store.claim_dispatch(OperationId(op.id)).await {
                Ok(Some(claim)) => {
                    let _ = self.dispatch(claim).await;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, operation = op.id, "follow: claim failed"),
            }
        }
    }

    /// A dispatch whose run never showed up within the configured time is
    /// declared failed, loudly, naming its request id.
    async fn give_up_if_late(&self, op: &OperationRow) {
        let limit = self.config.github.find_run_within.as_millis() as i64;
        if op.run_id.is_some() || crate::store::now_ms() - op.updated_at < limit {
            return;
        }
        let text = say::no_run(op, limit / 1000);
        let alerts = alerts::route(
            &self.config,
            &Rendered {
                kind: AlertKind::Failure,
                env: op.env.clone(),
                key: AlertKey::op(OperationId(op.id), OpStep::NoRun),
                text,
            },
        );
        let audit = AuditEntry {
            actor: None,
            chat: None,
            action: format!("run:{}", op.kind),
            outcome: "failed".into(),
            operation: Some(OperationId(op.id)),
            detail: "no run found".into(),
        };
        if let Err(e) = self
            .transition(
                OperationId(op.id),
                Transition::new(&[OperationState::Dispatched], OperationState::Failed)
                    .detail("no run found"),
                &audit,
                &alerts,
            )
            .await
        {
            tracing::warn!(error = %e, operation = op.id, "follow: giving up failed");
        }
    }

    /// The run of an operation GitHub did not name at dispatch: the one
    /// whose title carries its request id.
    async fn find_run(
        &self,
        op: &OperationRow,
    ) -> Result<Option<WorkflowRun>, crate::adapters::github::GithubError> {
        let file = &self.config.github.workflows.of_kind(op.kind).file;
        let runs = self.github.recent_runs(file).await?;
        if let Some(run) = runs.iter().find(|r| {
            r.display_title.as_deref().and_then(request_id_in) == Some(op.request_id.as_str())
        }) {
            return Ok(Some(run.clone()));
        }
        // A workflow whose run-name lacks the request id: the newest
        // dispatched run created since the dispatch that names no other
        // request, no other version or environment, and belongs to no
        // other operation (runs come newest first).
        let since = crate::alerts::format::from_ms(op.updated_at)
            - chrono::TimeDelta::seconds(CLOCK_SKEW_SECS);
        for run in runs.into_iter().filter(|r| r.created_at >= since) {
            if run
                .display_title
                .as_deref()
                .and_then(request_id_in)
                .is_some()
            {
                continue;
            }
            // Someone's run of another version or environment (by hand,
            // meanwhile) is not this dispatch's.
            if run_fits(
                op.kind,
                op.env_name(),
                &op.version,
                run.display_title.as_deref(),
            )
            .is_err()
            {
                continue;
            }
            let taken = match i64::try_from(run.id) {
                Ok(id) => self
                    .store
                    .operation_by_run(id)
                    .await
                    .map(|o| o.is_some())
                    .unwrap_or(true),
                Err(_) => true,
            };
            if !taken {
                tracing::info!(
                    run = run.id,
                    operation = op.id,
                    "run matched by time: its run-name carries no request id"
                );
                return Ok(Some(run));
            }
        }
        Ok(None)
    }

    /// One listing per workflow of the runs created since the last one:
    /// those the bot has no operation for are adopted (the webhook path
    /// does the same; whichever comes first adopts, the other finds the
    /// operation).
    async fn discover_runs(&self) {
        let workflows = &self.config.github.workflows;
        let mut files = vec![
            workflows.deploy.file.as_str(),
            workflows.rollback.file.as_str(),
            workflows.release.file.as_str(),
        ];
        files.dedup();
        for file in files {
            let listed_at = crate::store::now_ms();
            let known = match self.store.run_knowledge(file).await {
                Ok(Some(known)) => known,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "discover: store unreadable");
                    return;
                }
            };
            // Listings overlap by the clock skew GitHub may have, so a run
            // listed late is not missed; what is known is skipped.
            let since = known
                .polled_to
                .max(listed_at - LOOKBACK_CAP_MS)
                .saturating_sub(CLOCK_SKEW_SECS * 1000)
                .max(known.known_since);
            let (runs, total) = match self.github.runs_created_since(file, from_ms(since)).await {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!(error = %e, workflow = file, "discover: GitHub unreachable");
                    continue;
                }
            };
            if total > runs.len() as u64 {
                tracing::warn!(
                    workflow = file,
                    total,
                    "more new runs than one listing holds; the oldest are not followed"
                );
            }
            let mut all_seen = true;
            // Oldest first: adopted in the order they started.
            for run in runs.iter().rev() {
                if run.file() != file || run.created_at.timestamp_millis() < since {
                    continue;
                }
                match self.operation_of(run).await {
                    Ok(Some(_)) => continue,
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, run = run.id, "discover: store unreadable");
                        all_seen = false;
                        continue;
                    }
                }
                if let Err(e) = self.apply_run(run).await {
                    tracing::warn!(error = %e, run = run.id, "discover: adopting a run failed");
                    all_seen = false;
                }
            }
            if all_seen && let Err(e) = self.store.polled_runs_to(file, listed_at).await {
                tracing::warn!(error = %e, "discover: store unwritable");
            }
        }
    }
}

/// How long an approved operation may sit unclaimed before the poller
/// dispatches it (the approving tap normally claims it at once).
const STRANDED_AFTER_MS: i64 = 30_000;

/// Polls GitHub for followed runs every `github.poll_interval` (as the
/// config in force says it) until stopped.
pub async fn follow_loop(app: Arc<App>, stop: CancellationToken) {
    // Leading from now (a start, a takeover): no tap of this instance is
    // between its approval and its claim yet, so an approved operation
    // is stranded however recent (the claim is a compare-and-set anyway).
    app.current().resume_stranded(0).await;
    loop {
        let interval = app.live.load().github.poll_interval;
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        app.current().poll_runs().await;
    }
}
