//! What a run says, applied to the operation it belongs to (adopting the
//! run first when the bot did not start it). The moves are
//! compare-and-sets: whichever source (webhook, poller) is first moves
//! the operation, the other changes nothing, so every alert goes out once.

use tracing::Instrument;

use crate::adapters::github::WorkflowRun;
use crate::alerts::{self, Rendered};
use crate::domain::runs::{alert_kind_of, request_id_in, run_fits};
use crate::domain::{AlertKey, EditStep, OpStep};
use crate::domain::{AlertKind, OperationId, OperationKind, OperationState};
use crate::messages::story as say;
use crate::service::App;
use crate::service::story::Story;
use crate::store::Transition;
use crate::store::{AuditEntry, NewAlert, OperationRow, StoreError};

/// How long a failed release's alert waits for GitHub to list its failed
/// jobs before it goes out without them.
const JOBS_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

impl App {
    /// The operation a run belongs to: the one it is attached to, else
    /// the one whose request id its title carries.
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
    pub(super) async fn apply_run_to(
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
        let span = crate::service::operation_span(&op);
        self.apply_run_to_op(run, op).instrument(span).await
    }

    /// Applies a run to the operation it belongs to.
    async fn apply_run_to_op(&self, run: &WorkflowRun, op: OperationRow) -> Result<(), StoreError> {
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
                let took_secs = match (run.run_started_at, run.updated_at) {
                    (Some(a), Some(b)) => Some((b - a).num_seconds()),
                    _ => None,
                };
                let took = took_secs
                    .map(|s| format!(" in {}", crate::alerts::format::span(s)))
                    .unwrap_or_default();
                // A release is done when its run is; a deploy or rollback
                // only once ECS and the health URL confirm it (confirm.rs).
                let (to, alerts) = if op.kind == OperationKind::Release {
                    let alerts = self.release_created(&op, run, took_secs).await;
                    (OperationState::Succeeded, alerts)
                } else {
                    let who = self.who_of(&op).await;
                    let text = say::confirming(&op, took_secs, &who, &run.html_url);
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
                let moved = self
                    .transition(
                        id,
                        Transition::new(&live, OperationState::Failed)
                            .run(run_ref)
                            .detail(conclusion),
                        &audit("failed", conclusion.to_owned()),
                        &alerts,
                    )
                    .await?;
                if moved {
                    self.diagnoser.notify_one();
                    self.roll_back_automatically(&op, OperationState::Failed)
                        .await;
                }
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
                match run.status.as_deref() {
                    Some("in_progress") => self.show_progress(&op, run.id, &run.html_url).await,
                    // Held by an environment's required reviewers.
                    Some("waiting") => self.prompt_gates(&op, run).await,
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// What a failed run says: the failure alert (a link to the logs; the
    /// failed jobs of a release) to the chats that take it, and the
    /// operation's story.
    async fn run_failed_alerts(
        &self,
        op: &OperationRow,
        run: &WorkflowRun,
        conclusion: &str,
    ) -> Vec<NewAlert> {
        let jobs = self.failed_job_names(op, run).await;
        let text = say::failed(op, conclusion, &jobs, &run.html_url);
        let key = AlertKey::op(OperationId(op.id), OpStep::Failed);
        let own = alert_kind_of(op.kind);
        let mut routed = alerts::route_kinds(
            &self.config,
            &[AlertKind::Failure, own],
            op.env.as_ref(),
            &key,
            &text,
        );
        self.with_alert_buttons(op, &mut routed).await;
        let ring = say::failed_ring(op);
        let mut alerts = self
            .story_alerts(op, EditStep::Failed, own, &text, routed, Story::Ring(&ring))
            .await;
        super::super::diagnose::mark_for_diagnosis(&mut alerts);
        alerts
    }

    /// The failed jobs the failure alert names. A deploy's or rollback's
    /// are none: its diagnosis follows within seconds with them, their
    /// failed steps and the log, and the alert waits on no GitHub call.
    /// A release has no diagnosis: its alert names them, if GitHub says
    /// within [`JOBS_WAIT`].
    async fn failed_job_names(&self, op: &OperationRow, run: &WorkflowRun) -> Vec<String> {
        if op.env.is_some() {
            return Vec::new();
        }
        match tokio::time::timeout(JOBS_WAIT, self.github.failed_jobs(run.id)).await {
            Ok(Ok(jobs)) => jobs.into_iter().map(|j| j.name).collect(),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, run = run.id, "failed jobs unknown");
                Vec::new()
            }
            Err(_) => {
                tracing::warn!(run = run.id, "failed jobs: GitHub too slow, not named");
                Vec::new()
            }
        }
    }

    /// The "Release created" alert of a successful Release run: the same
    /// message, under the same key, as the `release` webhook's, so the two
    /// sources post it once.
    async fn release_created(
        &self,
        op: &OperationRow,
        run: &WorkflowRun,
        took_secs: Option<i64>,
    ) -> Vec<NewAlert> {
        match self.github.release_for(&op.version).await {
            Ok(Some(release)) => alerts::route(
                &self.config,
                &alerts::render(&alerts::Event::ReleasePublished {
                    release_id: release.id,
                    checklist: self.release_ticks(&release.tag_name).await,
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
                let text = say::release_not_listed(op, took_secs, &run.html_url);
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
