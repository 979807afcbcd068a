//! Runs of the process's workflows that the bot did not start (the Release
//! workflow's staging deploy, a run from the GitHub UI, other automation):
//! found by webhook or by polling, and adopted as operations followed like
//! the bot's own.

use super::App;
use super::follow::CLOCK_SKEW_SECS;
use crate::adapters::github::WorkflowRun;
use crate::alerts::format::{escape, from_ms, link};
use crate::alerts::{self, Rendered};
use crate::domain::runs::{parse_release_title, parse_run_title_as_named};
use crate::domain::{AlertKey, NewOp, OpStep};
use crate::domain::{AlertKind, Env, OperationId, OperationKind, OperationState};
use crate::store::{Adopted, AdoptedRun, AuditEntry, OperationRow, StoreError};

/// How far back the poller looks for runs it has not listed yet, after
/// a long stop: a run older than this is history (`/status` and
/// `/history` tell it), not news to announce.
const LOOKBACK_CAP_MS: i64 = 24 * 60 * 60 * 1000;

/// "🚀 <b>staging</b> · deploy of <b>1.3.0</b> started (#{op}) outside the
/// bot", and, when another live operation holds the environment, which.
fn adopted_text(what: &str, alongside: Option<&OperationRow>, run_url: &str) -> String {
    let mut text = format!("{what} started (#{{op}}) outside the bot");
    if let Some(live) = alongside {
        text.push_str(&format!(
            "\n⚠️ #{} ({}, {}) is still open there",
            live.id,
            super::dispatch::what_of(live),
            escape(&live.state.to_string())
        ));
    }
    text.push_str(&format!("\n{}", link(run_url, "Workflow run")));
    text
}

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
                None => return Ok(not_adopted(run, "Deploy")),
            },
            Some(OperationKind::Rollback) => match named_in("Rollback ") {
                Some((version, env)) => (OperationKind::Rollback, Some(env), version),
                None => return Ok(not_adopted(run, "Rollback")),
            },
            Some(OperationKind::Release) => match parse_release_title(title) {
                Some(version) => (OperationKind::Release, None, version),
                None => return Ok(not_adopted(run, "Release")),
            },
            None => return Ok(None),
        };
        let env_typed = match &env {
            Some(env) => match Env::parse(env) {
                Ok(e) if self.config.environments.contains_key(&e) => Some(e),
                _ => return Ok(None),
            },
            None => None,
        };
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
        let env_html = escape(env.as_deref().unwrap_or_default());
        let (what, alert_kind) = match kind {
            OperationKind::Deploy => (
                format!(
                    "🚀 <b>{env_html}</b> · deploy of <b>{}</b>",
                    escape(&version)
                ),
                AlertKind::Deployment,
            ),
            OperationKind::Rollback => (
                format!(
                    "⏪ <b>{env_html}</b> · rollback to <b>{}</b>",
                    escape(&version)
                ),
                AlertKind::Rollback,
            ),
            OperationKind::Release => (
                format!("📦 <b>Release {}</b>", escape(&version)),
                AlertKind::Release,
            ),
        };
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
                    text: adopted_text(&what, holder.as_ref(), &run.html_url),
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

    /// One listing per workflow of the runs created since the last one:
    /// those the bot has no operation for are adopted (the webhook path
    /// does the same; whichever comes first adopts, the other finds the
    /// operation).
    pub(super) async fn discover_runs(&self) {
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

fn not_adopted(run: &WorkflowRun, workflow: &str) -> Option<OperationRow> {
    tracing::debug!(
        run = run.id,
        "a {workflow} run whose run-name does not say what it does; not followed"
    );
    None
}

#[cfg(test)]
mod tests {
    use super::{adopted_text, could_be_the_run_of};
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

    #[test]
    fn a_run_adopted_while_another_operation_is_open_says_which() {
        let live = crate::store::OperationRow {
            id: 4,
            kind: OperationKind::Deploy,
            env: Some(Env::parse("staging").unwrap()),
            version: "1.2.9".into(),
            release_type: None,
            state: OperationState::AwaitingApproval,
            requested_by: 1,
            chat_id: -1,
            request_id: "r".into(),
            run_id: None,
            run_url: None,
            detail: None,
            created_at: 0,
            updated_at: 0,
            expires_at: None,
            dispatched_at: None,
            direct_ecs: false,
        };
        let what = "🚀 <b>staging</b> · deploy of <b>1.3.0</b>";
        let url = "https://github.com/o/r/actions/runs/9002";
        insta::assert_snapshot!(
            "adopted",
            adopted_text(what, None, url).replace("{op}", "5")
        );
        insta::assert_snapshot!(
            "adopted_alongside",
            adopted_text(what, Some(&live), url).replace("{op}", "5")
        );
    }
}
