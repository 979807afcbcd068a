//! A live deploy's or rollback's run, told as its jobs finish: "running
//! (3/5 jobs)" edited into the operation's messages.

use crate::domain::{AlertKey, EditStep, OperationId, OperationKind, OperationState};
use crate::messages::story as say;
use crate::service::App;
use crate::store::{OperationRow, StoreError};

impl App {
    /// A `workflow_job` event: the progress of the run's operation, if live.
    pub(in crate::service) async fn job_changed(&self, run_id: u64) -> Result<(), StoreError> {
        let Ok(id) = i64::try_from(run_id) else {
            return Ok(());
        };
        if let Some(op) = self.store.operation_by_run(id).await?
            && matches!(
                op.state,
                OperationState::Dispatched | OperationState::Running
            )
        {
            let url = op.run_url.clone().unwrap_or_default();
            self.show_progress(&op, run_id, &url).await;
        }
        Ok(())
    }

    /// "running (3/5 jobs)": a live deploy's or rollback's run, edited
    /// into its messages as its jobs finish (never a new message, never
    /// after the outcome).
    pub(super) async fn show_progress(&self, op: &OperationRow, run_id: u64, run_url: &str) {
        if op.kind == OperationKind::Release {
            return;
        }
        let jobs = match self.github.jobs(run_id).await {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::debug!(error = %e, run = run_id, "progress: jobs unknown");
                return;
            }
        };
        if jobs.is_empty() {
            return;
        }
        let done = jobs.iter().filter(|j| j.is_done()).count();
        let total = jobs.len();
        let failed: Vec<&str> = jobs
            .iter()
            .filter(|j| j.failed())
            .map(|j| j.name.as_str())
            .collect();
        let who = self.who_of(op).await;
        let text = say::running(op, done, total, &failed, &who, run_url);
        // Two job events read at once may be stored out of order: a count
        // below one already told is old news.
        let told = self
            .store
            .alert_keys_of(OperationId(op.id))
            .await
            .unwrap_or_default();
        let most = told
            .iter()
            .filter_map(|k| AlertKey::parse(k)?.jobs_done())
            .max();
        if most.is_some_and(|m| m > done) {
            return;
        }
        let step = EditStep::Jobs { done, total };
        let edits = self.story_edits(op, step, &text).await;
        if edits.is_empty() {
            return;
        }
        let live = [OperationState::Dispatched, OperationState::Running];
        match self
            .store
            .enqueue_while(OperationId(op.id), &live, &edits)
            .await
        {
            Ok(true) => self.outbox.notify_one(),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, operation = op.id, "progress: store"),
        }
    }
}
