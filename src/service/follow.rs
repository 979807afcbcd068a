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
use crate::domain::{AlertKind, Env, OperationId, OperationState};
use crate::service::Button;
use crate::store::{AuditEntry, NewAlert, OperationRow, StoreError};

/// Reads `Release 1.3.0 (…)`, the Release workflow's `run-name`.
pub fn parse_release_title(title: &str) -> Option<String> {
    let rest = title.strip_prefix("Release ")?;
    let version = rest.split_whitespace().next()?;
    crate::domain::Version::parse(version, true)
        .ok()
        .map(|v| v.to_string())
}

/// `Deploy 1.3.0 to prod (…)` (the `run-name` the README asks the Deploy
/// workflow to have; Rollback alike): the version and the environment.
#[cfg(test)]
fn parse_run_title(prefix: &str, title: &str) -> Option<(String, String)> {
    let (named, env) = parse_run_title_as_named(prefix, title)?;
    crate::domain::run_version(&named, false).map(|v| (v, env))
}

/// `Deploy X to ENV (…)`: X as named (a version, or for an environment
/// that deploys itself any image tag) and the environment.
pub(super) fn parse_run_title_as_named(prefix: &str, title: &str) -> Option<(String, String)> {
    let rest = title.strip_prefix(prefix)?;
    let (named, rest) = rest.split_once(" to ")?;
    let env: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let named = named.trim();
    (!env.is_empty() && !named.is_empty()).then(|| (named.to_owned(), env))
}

/// The first UUID in a run's title: the request id the workflow put into
/// its `run-name`.
pub fn request_id_in(title: &str) -> Option<&str> {
    let bytes = title.as_bytes();
    (0..bytes.len().saturating_sub(35)).find_map(|start| {
        let candidate = &title.get(start..start + 36)?;
        let ok = candidate.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
        ok.then_some(*candidate)
    })
}

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
        let expected = &self.config.github.workflows.of_kind(&op.kind).file;
        if run.file() != expected {
            tracing::warn!(
                run = run.id,
                operation = op.id,
                "run of another workflow names this operation; ignored"
            );
            return Ok(());
        }
        let id = OperationId(op.id);
        let run_id = i64::try_from(run.id).ok();
        let run_ref = run_id.map(|r| (r, run.html_url.as_str()));
        let env = op.env.clone().unwrap_or_default();
        let env_typed = Env::parse(&env).ok();
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
                let (to, alerts) = if op.kind == "release" {
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
                    let edits = self.story_edits(&op, "confirming", &text).await;
                    (OperationState::Confirming, edits)
                };
                let moved = self
                    .store
                    .advance(
                        id,
                        &live,
                        to,
                        run_ref,
                        None,
                        &audit("succeeded", format!("run {}{took}", run.id)),
                        &alerts,
                    )
                    .await?;
                if moved {
                    self.outbox.notify_one();
                    self.confirmer.notify_one();
                }
            }
            (Some("completed"), conclusion) => {
                let conclusion = conclusion.unwrap_or("unknown");
                let jobs = match self.github.failed_jobs(run.id).await {
                    Ok(jobs) => jobs.into_iter().map(|j| j.name).collect::<Vec<_>>(),
                    Err(e) => {
                        tracing::warn!(error = %e, run = run.id, "failed jobs unknown");
                        vec![]
                    }
                };
                let what = super::dispatch::what_of(&op);
                let mut text = format!("❌ {what} failed (#{}): {}", op.id, escape(conclusion));
                if !jobs.is_empty() {
                    text.push_str(&format!(
                        "\nFailed jobs: {}",
                        escape(&crate::alerts::format::clip(&jobs.join(", "), 600))
                    ));
                }
                text.push_str(&format!("\n{}", link(&run.html_url, "Logs")));
                let key = format!("op:{}:failed", op.id);
                let mut alerts = Vec::new();
                let own = super::dispatch::kind_of(&op);
                let routed = alerts::route_kinds(
                    &self.config,
                    &[AlertKind::Failure, own],
                    env_typed.as_ref(),
                    &key,
                    &text,
                );
                let ring = format!("❌ {what} failed (#{}) ↑", op.id);
                alerts.extend(
                    self.story_alerts(&op, "failed", own, &text, routed, Story::Ring(&ring))
                        .await,
                );
                let moved = self
                    .store
                    .advance(
                        id,
                        &live,
                        OperationState::Failed,
                        run_ref,
                        Some(conclusion),
                        &audit("failed", conclusion.to_owned()),
                        &alerts,
                    )
                    .await?;
                if moved {
                    self.outbox.notify_one();
                }
            }
            _ => {
                self.store
                    .advance(
                        id,
                        &[OperationState::Dispatched],
                        OperationState::Running,
                        run_ref,
                        None,
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
                        key: format!("op:{}:succeeded", op.id),
                        text,
                    },
                )
            }
        }
    }

    /// Whether another environment promotes only what was verified here.
    pub(super) fn needs_verification(&self, env: &str) -> bool {
        self.config.environments.values().any(|c| {
            c.approval
                .requires_verified_in
                .as_ref()
                .is_some_and(|e| e.as_str() == env)
        })
    }

    /// "Staging runs 1.3.0 — QA: [Verified] [Found issues]".
    pub(super) fn qa_prompt(&self, op: &OperationRow) -> Vec<NewAlert> {
        let env = op.env.clone().unwrap_or_default();
        let text = format!(
            "🧪 <b>{} runs {}</b> (#{}) — QA: is it good?",
            escape(&capitalise(&env)),
            escape(&op.version),
            op.id
        );
        let buttons = vec![vec![
            Button {
                text: "✅ Verified".into(),
                data: format!("q:{}:v", op.id),
            },
            Button {
                text: "🐞 Found issues".into(),
                data: format!("q:{}:i", op.id),
            },
        ]];
        let buttons = serde_json::to_string(&buttons).expect("buttons serialise");
        alerts::route(
            &self.config,
            &Rendered {
                kind: AlertKind::Approval,
                env: Env::parse(&env).ok(),
                key: format!("op:{}:qa", op.id),
                text,
            },
        )
        .into_iter()
        .map(|a| NewAlert {
            buttons: Some(buttons.clone()),
            ..a
        })
        .collect()
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
            if op.kind == "deploy"
                && let Some(cfg) = op
                    .env
                    .as_deref()
                    .and_then(|e| Env::parse(e).ok())
                    .and_then(|e| self.config.environments.get(&e))
            {
                match self.recheck(&op, cfg).await {
                    Ok(()) => {}
                    Err(super::deploy::Recheck::Stale(why)) => {
                        self.stale(&op, "the approver", &why).await;
                        continue;
                    }
                    // Unreadable now: the next pass tries again.
                    Err(super::deploy::Recheck::Unavailable(_)) => continue,
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
        let env = op.env.clone().unwrap_or_default();
        let text = format!(
            "❌ #{} ({} {}{}): no workflow run with request id <code>{}</code> appeared within {}. \
             Check GitHub Actions before trying again.",
            op.id,
            escape(&op.kind),
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
                env: Env::parse(&env).ok(),
                key: format!("op:{}:no-run", op.id),
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
        match self
            .store
            .advance(
                OperationId(op.id),
                &[OperationState::Dispatched],
                OperationState::Failed,
                None,
                Some("no run found"),
                &audit,
                &alerts,
            )
            .await
        {
            Ok(true) => self.outbox.notify_one(),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, operation = op.id, "follow: giving up failed"),
        }
    }

    /// The run of an operation GitHub did not name at dispatch: the one
    /// whose title carries its request id.
    async fn find_run(
        &self,
        op: &OperationRow,
    ) -> Result<Option<WorkflowRun>, crate::adapters::github::GithubError> {
        let file = &self.config.github.workflows.of_kind(&op.kind).file;
        let runs = self.github.recent_runs(file).await?;
        if let Some(run) = runs.iter().find(|r| {
            r.display_title.as_deref().and_then(request_id_in) == Some(op.request_id.as_str())
        }) {
            return Ok(Some(run.clone()));
        }
        // A workflow whose run-name lacks the request id: the newest
        // dispatched run created since the dispatch that names no other
        // request and belongs to no other operation (runs come newest first).
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

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
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

#[cfg(test)]
mod tests {
    use super::request_id_in;

    #[test]
    fn reads_version_and_environment_from_a_deploy_run_name() {
        let parse_deploy_title = |t: &str| super::parse_run_title("Deploy ", t);
        let pair = |v: &str, e: &str| Some((v.to_owned(), e.to_owned()));
        assert_eq!(
            parse_deploy_title("Deploy 1.3.0 to staging (0f8fad5b-d9cb-469f-a165-70867728950e)"),
            pair("1.3.0", "staging")
        );
        assert_eq!(
            parse_deploy_title("Deploy v1.3.0 to prod ()"),
            pair("1.3.0", "prod")
        );
        assert_eq!(
            parse_deploy_title("Deploy 1.3.0 to staging"),
            pair("1.3.0", "staging")
        );
        assert_eq!(parse_deploy_title("Deploy latest to staging"), None);
        assert_eq!(parse_deploy_title("Release 1.3.0"), None);
        assert_eq!(parse_deploy_title("Deploy 1.3.0 to "), None);
    }

    #[test]
    fn reads_release_and_rollback_run_names() {
        use super::{parse_release_title, parse_run_title};
        assert_eq!(
            parse_release_title("Release 1.3.0 (0f8fad5b-d9cb-469f-a165-70867728950e)"),
            Some("1.3.0".to_owned())
        );
        assert_eq!(
            parse_release_title("Release v1.3.0"),
            Some("1.3.0".to_owned())
        );
        assert_eq!(parse_release_title("Release notes"), None);
        assert_eq!(
            parse_run_title("Rollback ", "Rollback 1.2.2 to prod ()"),
            Some(("1.2.2".to_owned(), "prod".to_owned()))
        );
        assert_eq!(parse_run_title("Rollback ", "Deploy 1.2.2 to prod"), None);
    }

    #[test]
    fn finds_the_request_id_in_a_run_title() {
        let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
        assert_eq!(
            request_id_in(&format!("Deploy 1.3.0 to prod ({id})")),
            Some(id)
        );
        assert_eq!(request_id_in(id), Some(id));
        assert_eq!(request_id_in("Deploy 1.3.0 to prod"), None);
        assert_eq!(request_id_in("0f8fad5b-d9cb-469f-a165-70867728950"), None);
        assert_eq!(
            request_id_in("Déploiement 🚀 0f8fad5b-d9cb-469f-a165-70867728950e"),
            Some(id)
        );
    }
}
