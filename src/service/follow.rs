//! Following dispatched runs to their end: `workflow_run` webhooks, and
//! polling as the fallback when none arrive. Both feed [`App::apply_run`],
//! whose moves are compare-and-sets: whichever source is first moves the
//! operation, the other changes nothing, so every alert goes out once.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::App;
use super::story::Story;
use crate::adapters::github::WorkflowRun;
use crate::alerts::format::{escape, link, span};
use crate::alerts::{self, Rendered};
use crate::domain::{AlertKind, OperationId, OperationKind, OperationState};
use crate::store::Transition;
use crate::store::{AuditEntry, NewAlert, OperationRow, StoreError};

use crate::domain::runs::{request_id_in, run_fits};
use crate::domain::{AlertKey, EditStep, OpStep};

impl App {
    pub(super) async fn operation_of(
        &self,
        run: &WorkflowRun,
    ) -> Result<Option<OperationRow>, StoreError> {
        let by_id = match i64::try_from(run.id) {
            Ok(id) => self.store.operation_by_run(id).await?,
            Err(_) => None,
        };
        if by_id.is_some() {
            return Ok(by_id);
        }
        match run.display_title.as_deref().and_then(request_id_in) {
            Some(request) => self.store.operation_by_request(request).await,
            None => Ok(None),
        }
    }

    /// Applies what a run says to the operation it belongs to, if any.
    pub async fn apply_run(&self, run: &WorkflowRun) -> Result<(), StoreError> {
        self.apply_run_to(run, None).await
    }

    /// Like [`Self::apply_run`], for an operation already known to own the run.
    async fn apply_run_to(
        &self,
        run: &WorkflowRun,
        known: Option<OperationRow>,
    ) -> Result<(), StoreError> {
        let found = match known {
            Some(op) => Some(op),
            None => self.operation_of(run).await?,
        };
        let op = match found {
            Some(op) => op,
            None => match self.adopt(run).await? {
                Some(op) => op,
                None => return Ok(()),
            },
        };
        let expected = &self.config.github.workflows.of_kind(op.kind).file;
        if run.file() != expected {
            tracing::warn!(
                run = run.id,
                operation = op.id,
                "run of another workflow names this operation; ignored"
            );
            return Ok(());
        }
        let run_id = i64::try_from(run.id).ok();
        if !is_its_run(&op, run, run_id) {
            return Ok(());
        }
        let id = OperationId(op.id);
        let run_ref = run_id.map(|r| (r, run.html_url.as_str()));
        let live = [OperationState::Dispatched, OperationState::Running];
        let audit = |outcome: &str, detail: String| AuditEntry {
            actor: None,
            chat: None,
            action: format!("run:{}", op.kind),
            outcome: outcome.to_owned(),
            operation: Some(id),
            detail,
        };
        match (run.status.as_deref(), run.conclusion.as_deref()) {
            (Some("completed"), Some("success")) => {
                let took = match (run.run_started_at, run.updated_at) {
                    (Some(a), Some(b)) => format!(" in {}", span((b - a).num_seconds())),
                    _ => String::new(),
                };
                // A release is done when its run is; a deploy or rollback
                // only once ECS and the health URL confirm it (confirm.rs).
                let (to, alerts) = if op.kind == OperationKind::Release {
                    let alerts = self.release_created(&op, run, &took).await;
                    (OperationState::Succeeded, alerts)
                } else {
                    let text = format!(
                        "🔎 {}: the run succeeded{took}; confirming on ECS (#{})\n{}\n{}",
                        super::dispatch::what_of(&op),
                        op.id,
                        self.who_of(&op).await,
                        link(&run.html_url, "Workflow run")
                    );
                    let edits = self.story_edits(&op, EditStep::Confirming, &text).await;
                    (OperationState::Confirming, edits)
                };
                let moved = self
                    .transition(
                        id,
                        Transition::new(&live, to).run(run_ref),
                        &audit("succeeded", format!("run {}{took}", run.id)),
                        &alerts,
                    )
                    .await?;
                if moved {
                    self.confirmer.notify_one();
                }
            }
            (Some("completed"), conclusion) => {
                let conclusion = conclusion.unwrap_or("unknown");
                let alerts = self.run_failed_alerts(&op, run, conclusion).await;
                self.transition(
                    id,
                    Transition::new(&live, OperationState::Failed)
                        .run(run_ref)
                        .detail(conclusion),
                    &audit("failed", conclusion.to_owned()),
                    &alerts,
                )
                .await?;
            }
            _ => {
                self.transition(
                    id,
                    Transition::new(&[OperationState::Dispatched], OperationState::Running)
                        .run(run_ref),
                    &audit("running", format!("run {}", run.id)),
                    &[],
                )
                .await?;
                if run.status.as_deref() == Some("in_progress") {
                    self.show_progress(&op, run.id, &run.html_url).await;
                }
            }
        }
        Ok(())
    }

    /// What a failed run says: the failure alert (its failed jobs, a link
    /// to the logs) to the chats that take it, and the operation's story.
    async fn run_failed_alerts(
        &self,
        op: &OperationRow,
        run: &WorkflowRun,
        conclusion: &str,
    ) -> Vec<NewAlert> {
        let jobs = match self.github.failed_jobs(run.id).await {
            Ok(jobs) => jobs.into_iter().map(|j| j.name).collect::<Vec<_>>(),
            Err(e) => {
                tracing::warn!(error = %e, run = run.id, "failed jobs unknown");
                vec![]
            }
        };
        let what = super::dispatch::what_of(op);
        let mut text = format!("❌ {what} failed (#{}): {}", op.id, escape(conclusion));
        if !jobs.is_empty() {
            text.push_str(&format!(
                "\nFailed jobs: {}",
                escape(&crate::alerts::format::clip(&jobs.join(", "), 600))
            ));
        }
        text.push_str(&format!("\n{}", link(&run.html_url, "Logs")));
        let key = AlertKey::op(OperationId(op.id), OpStep::Failed);
        let own = super::dispatch::kind_of(op);
        let routed = alerts::route_kinds(
            &self.config,
            &[AlertKind::Failure, own],
            op.env.as_ref(),
            &key,
            &text,
        );
        let ring = format!("❌ {what} failed (#{}) ↑", op.id);
        self.story_alerts(op, EditStep::Failed, own, &text, routed, Story::Ring(&ring))
            .await
    }

    /// The "Release created" alert of a successful Release run: the same
    /// message, under the same key, as the `release` webhook's, so the two
    /// sources post it once.
    async fn release_created(
        &self,
        op: &OperationRow,
        run: &WorkflowRun,
        took: &str,
    ) -> Vec<NewAlert> {
        match self.github.release_for(&op.version).await {
            Ok(Some(release)) => alerts::route(
                &self.config,
                &alerts::render(&alerts::Event::ReleasePublished {
                    release_id: release.id,
                    tag: release.tag_name,
                    name: release.name,
                    url: release.html_url,
                    author: None,
                }),
            ),
            other => {
                if let Err(e) = other {
                    tracing::warn!(error = %e, "release look-up after the run failed");
                }
                let text = format!(
                    "📦 <b>Release {}</b>: the Release workflow succeeded (#{}){took}, but GitHub shows no release yet\n{}",
                    escape(&op.version),
                    op.id,
                    link(&run.html_url, "Release run")
                );
                alerts::route(
                    &self.config,
                    &Rendered {
                        kind: AlertKind::Release,
                        env: None,
                        key: AlertKey::op(OperationId(op.id), OpStep::Succeeded),
                        text,
                    },
                )
            }
        }
    }

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
    async fn resume_stranded(&self, stranded_after_ms: i64) {
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
                    Err(super::approvals::Recheck::Stale(why)) => {
                        self.stale(&op, "the approver", &why).await;
                        continue;
                    }
                    // Unreadable now: the next pass tries again.
                    Err(super::approvals::Recheck::Unavailable(_)) => continue,
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
        let env = op.env_name().unwrap_or_default().to_owned();
        let text = format!(
            "❌ #{} ({} {}{}): no workflow run with request id <code>{}</code> appeared within {}. \
             Check GitHub Actions before trying again.",
            op.id,
            escape(op.kind.as_str()),
            escape(&op.version),
            if env.is_empty() {
                String::new()
            } else {
                format!(" → {}", escape(&env))
            },
            escape(&op.request_id),
            span(limit / 1000)
        );
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
}

/// How far GitHub's clock may be behind ours when matching a run by time.
pub(super) const CLOCK_SKEW_SECS: i64 = 30;

/// How long an approved operation may sit unclaimed before the poller
/// dispatches it (the approving tap normally claims it at once).
const STRANDED_AFTER_MS: i64 = 30_000;

/// Polls GitHub for followed runs every `interval` until stopped.
pub async fn follow_loop(app: Arc<App>, interval: Duration, stop: CancellationToken) {
    // Leading from now (a start, a takeover): no tap of this instance is
    // between its approval and its claim yet, so an approved operation
    // is stranded however recent (the claim is a compare-and-set anyway).
    app.resume_stranded(0).await;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        app.poll_runs().await;
    }
}

/// Whether `run` is the operation's own. A run once attached is the
/// operation's for good: another run naming the same request (a copy, a
/// second dispatch by hand) moves nothing; the store holds the same line
/// (`Store::transition`). A run not attached yet must not contradict
/// what the operation does ([`run_fits`]).
fn is_its_run(op: &OperationRow, run: &WorkflowRun, run_id: Option<i64>) -> bool {
    match op.run_id {
        Some(attached) if Some(attached) != run_id => {
            tracing::warn!(
                run = run.id,
                operation = op.id,
                attached,
                "another run names an operation that has its run; ignored"
            );
            false
        }
        Some(_) => true,
        None => match run_fits(
            op.kind,
            op.env_name(),
            &op.version,
            run.display_title.as_deref(),
        ) {
            Ok(()) => true,
            Err(why) => {
                tracing::warn!(
                    run = run.id,
                    operation = op.id,
                    why,
                    "a run that is not this operation's names it; not attached"
                );
                false
            }
        },
    }
}
