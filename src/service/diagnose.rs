//! Diagnosis: the evidence the process's troubleshooting section asks for,
//! gathered by the bot. After a failure alert (a failed run, a deploy
//! that did not hold, a health-monitor alarm) the alert goes out at once
//! and the evidence follows within seconds as its edit: gathered in a
//! task of its own (the alert never waits for it), then enqueued through
//! the outbox like any edit. `/diagnose <env>` runs the same checklist on
//! demand.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{App, Incoming, Reply};
use crate::adapters::ecs::{image_tag, tag_is_version};
use crate::domain::{AlertKey, AlertKind, ChatId, EditStep, Env, OpStep, OperationId, Subject};
use crate::messages::diagnosis::{
    self as say, Evidence, FailedJob, RollbackEvidence, RunEvidence, Stopped,
};
use crate::store::{NewAlert, OperationRow, OutboxRow, PendingDiagnosis, now_ms};

/// How many of an environment's services a diagnosis reads the events
/// and stopped tasks of (each costs a few ECS calls).
const DIAGNOSED_SERVICES: usize = 4;

/// How many of a family's newest revisions are searched for the rollback
/// target's task definition.
const REVISION_SCAN: usize = 50;

/// What ECS said: whether it answered, its events, the stopped tasks,
/// the version it runs.
type EcsEvidence = (
    Result<(), String>,
    Result<Vec<String>, String>,
    Result<Vec<Stopped>, String>,
    Option<String>,
);

/// How long an instance holds the copies it diagnoses: another takes
/// them over after this, should it die half-way.
const CLAIM_MS: i64 = 60_000;

/// A failure's copies written longer ago than this get no diagnosis (the
/// evidence would tell of another moment).
const STALE_MS: i64 = 3_600_000;

/// How many copies an instance takes at once.
const CLAIM_BATCH: i64 = 50;

/// How often copies left over (by an instance that died) are looked for.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Marks the copies of a failure in `alerts` (not the short messages that
/// ring phones after it) for diagnosis. Stored with them, the marks make
/// the diagnosis as durable as the alert.
pub(super) fn mark_for_diagnosis(alerts: &mut [NewAlert]) {
    for alert in alerts.iter_mut() {
        alert.diagnose = alert.env.is_some() && is_failure_copy(alert);
    }
}

impl App {
    /// `/diagnose <env>`: the checklist, now.
    pub(super) async fn diagnose(&self, msg: &Incoming, env: &Env) -> (String, Option<Reply>) {
        let roles = self
            .config
            .user(msg.user)
            .map(|u| u.roles.clone())
            .unwrap_or_default();
        let requesters = self
            .config
            .environments
            .get(env)
            .map(|c| c.requesters.as_slice());
        if let Err(refusal) =
            crate::domain::may_diagnose(&roles, &self.config.incident.roles, requesters)
        {
            // Who may: the incident roles, and the environment's requesters.
            let mut roles: Vec<&str> = refusal.roles.iter().map(|r| r.as_str()).collect();
            for role in requesters.unwrap_or_default() {
                if !roles.contains(&role.as_str()) {
                    roles.push(role.as_str());
                }
            }
            return (
                format!("refused:{}", refusal.code()),
                Some(Reply::new(crate::messages::incident::not_your_role(
                    "Diagnosing",
                    &roles,
                ))),
            );
        }
        let evidence = self.evidence(env, None, None).await;
        (
            "answered".into(),
            Some(Reply::new(say::checklist(&evidence))),
        )
    }

    /// Gathers the evidence of one failure (`pending`: its copies, all
    /// about one environment and operation) and enqueues the edit of each
    /// message they show in, built on the message's newest text (a "Taken
    /// by" line and the buttons left stay).
    async fn diagnose_failure(&self, pending: Vec<PendingDiagnosis>) {
        let Some(first) = pending.first() else { return };
        let Some(env) = first.env.as_deref().and_then(|e| Env::parse(e).ok()) else {
            return;
        };
        let op_id = first.operation_id.map(OperationId);
        let failed = match op_id {
            Some(id) => self.store.operation(id).await.ok().flatten(),
            None => None,
        };
        // A failed run's jobs and log; a deploy that did not hold has none.
        let run = failed.as_ref().and_then(|op| {
            let failed_run = op.state == crate::domain::OperationState::Failed;
            match (failed_run, op.run_id, op.run_url.as_deref()) {
                (true, Some(id), Some(url)) => Some((id as u64, url)),
                _ => None,
            }
        });
        let evidence = self.evidence(&env, failed.as_ref(), run).await;
        let build = |row: &OutboxRow| edit_with_evidence(row, &evidence);
        match self.store.diagnosed(&env, op_id, &pending, &build).await {
            Ok(n) if n > 0 => self.outbox.notify_one(),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, env = %env, "diagnosis: not stored"),
        }
    }

    /// Every source of the checklist, read at once.
    async fn evidence(
        &self,
        env: &Env,
        failed: Option<&OperationRow>,
        run: Option<(u64, &str)>,
    ) -> Evidence {
        let run_evidence = async {
            match run {
                Some((id, url)) => Some(self.run_evidence(id, url).await),
                None => None,
            }
        };
        let Some(cfg) = self.config.environments.get(env) else {
            return Evidence {
                env: env.to_string(),
                run: run_evidence.await,
                aws: Err("environment not configured".into()),
                events: Err("environment not configured".into()),
                stopped: Err("environment not configured".into()),
                health: None,
                rollback: RollbackEvidence::NoTarget,
            };
        };
        let ecs = self.ecs_evidence(cfg, failed);
        let health = async {
            let url = cfg.health_url.as_ref()?;
            let started = std::time::Instant::now();
            Some(match self.health.probe(url).await {
                Ok(status) => Ok((status, started.elapsed().as_millis() as u64)),
                Err(crate::domain::health::ProbeFailure::Status(status)) => {
                    Ok((status, started.elapsed().as_millis() as u64))
                }
                Err(failure) => Err(crate::adapters::health::describe(url, &failure)),
            })
        };
        let ((aws, events, stopped, running), health, run) =
            tokio::join!(ecs, health, run_evidence);
        let rollback = self
            .rollback_evidence(env, cfg, failed, running.as_deref())
            .await;
        Evidence {
            env: env.to_string(),
            run,
            aws,
            events,
            stopped,
            health,
            rollback,
        }
    }

    /// What ECS says: whether it answers at all, the services' events, the
    /// stopped tasks of their deployments (and of the failed version's
    /// task definition: the circuit breaker may have dropped its
    /// deployment already), and the version the first service runs. Of
    /// an environment of several services, the first
    /// [`DIAGNOSED_SERVICES`] are read, their events and stopped tasks
    /// taken in turn so that each shows.
    async fn ecs_evidence(
        &self,
        cfg: &crate::config::EnvironmentConfig,
        failed: Option<&OperationRow>,
    ) -> EcsEvidence {
        let services = cfg.services();
        let states = match services.len() {
            1 => vec![self.ecs.service_state(cfg.first_service()).await],
            _ => self.ecs.services_state(cfg).await,
        };
        let several = services.len() > 1;
        let read: Vec<_> = services
            .iter()
            .zip(&states)
            .take(DIAGNOSED_SERVICES)
            .filter_map(|(service, state)| match state {
                Ok(state) => Some((service, state)),
                Err(e) => {
                    tracing::warn!(error = %e, service = service.name(), "diagnosis: ECS unreadable");
                    None
                }
            })
            .collect();
        if read.is_empty() {
            let e = states
                .iter()
                .find_map(|s| s.as_ref().err())
                .map_or_else(|| "no service could be read".to_owned(), |e| e.to_string());
            return (Err(e.clone()), Err(e.clone()), Err(e), None);
        }
        let gathered = futures::future::join_all(read.iter().map(|(service, state)| {
            let name = several.then(|| service.name());
            self.service_evidence(service, state, name, failed)
        }))
        .await;
        let (events, stopped): (Vec<_>, Vec<_>) = gathered.into_iter().unzip();
        let running = states
            .first()
            .and_then(|s| s.as_ref().ok())
            .and_then(|s| s.primary())
            .and_then(|d| d.image.as_deref())
            .and_then(image_tag)
            .map(str::to_owned);
        (Ok(()), in_turn(events), in_turn(stopped), running)
    }

    /// One service's events and the stopped tasks of its deployments (and
    /// of the failed version's task definition in its family); `name`
    /// marks its stopped tasks when the environment has several.
    async fn service_evidence(
        &self,
        service: &crate::config::ServiceConfig,
        state: &crate::adapters::ecs::ServiceState,
        name: Option<&str>,
        failed: Option<&OperationRow>,
    ) -> (Result<Vec<String>, String>, Result<Vec<Stopped>, String>) {
        let stopped = async {
            let mut task_definitions: Vec<String> = state
                .deployments
                .iter()
                .map(|d| d.task_definition.clone())
                .collect();
            if let Some(op) = failed
                && let Ok(Some(carrying)) = self.carrying(service, &op.version).await
            {
                task_definitions.push(carrying);
            }
            self.ecs
                .stopped_tasks(service, &task_definitions)
                .await
                .map(|tasks| tasks.into_iter().map(|t| shown_task(t, name)).collect())
                .map_err(|e| e.to_string())
        };
        let events = async {
            self.ecs
                .service_events(service, say::EVENTS_SHOWN)
                .await
                .map_err(|e| e.to_string())
        };
        tokio::join!(events, stopped)
    }

    /// The newest registered task definition (`family:revision`) of the
    /// service's family whose image carries `version`.
    async fn carrying(
        &self,
        service: &crate::config::ServiceConfig,
        version: &str,
    ) -> Result<Option<String>, String> {
        self.ecs
            .revisions(service, REVISION_SCAN)
            .await
            .map(|revisions| {
                revisions.into_iter().find_map(|r| {
                    let tag = image_tag(r.image.as_deref()?)?;
                    tag_is_version(tag, version).then_some(r.name)
                })
            })
            .map_err(|e| e.to_string())
    }

    /// A failed run's failed jobs and steps, and its first failed job's
    /// log's tail.
    async fn run_evidence(&self, run_id: u64, url: &str) -> RunEvidence {
        let jobs = match self.github.failed_jobs(run_id).await {
            Ok(jobs) => jobs,
            Err(e) => {
                return RunEvidence {
                    url: url.to_owned(),
                    failed: Err(e.to_string()),
                    log_tail: None,
                };
            }
        };
        let log_tail = match jobs.iter().find(|j| j.id != 0) {
            Some(job) => Some(
                self.github
                    .job_log(job.id)
                    .await
                    .map(|log| say::log_tail(&log, say::LOG_TAIL_LINES))
                    .map_err(|e| e.to_string()),
            ),
            None => None,
        };
        RunEvidence {
            url: url.to_owned(),
            failed: Ok(jobs
                .into_iter()
                .map(|j| FailedJob {
                    steps: j
                        .steps
                        .iter()
                        .filter(|s| s.failed())
                        .map(|s| s.name.clone())
                        .collect(),
                    name: j.name,
                })
                .collect()),
            log_tail,
        }
    }

    /// The way back: the last version confirmed healthy before the failure
    /// (or, asked on demand, other than what runs now), whether a task
    /// definition still carries it, the migrations added since.
    async fn rollback_evidence(
        &self,
        env: &Env,
        cfg: &crate::config::EnvironmentConfig,
        failed: Option<&OperationRow>,
        running: Option<&str>,
    ) -> RollbackEvidence {
        let target = match failed {
            Some(op) => self.last_healthy_before(env, op).await,
            None => self
                .store
                .succeeded_in(env, 50)
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|op| op.version)
                .find(|v| running.is_none_or(|r| !tag_is_version(r, v))),
        };
        let Some(version) = target else {
            return RollbackEvidence::NoTarget;
        };
        let head = failed
            .map(|op| op.version.clone())
            .or(running.map(str::to_owned));
        // The line names one task definition: the first service's.
        let task_definition = self.carrying(cfg.first_service(), &version);
        let (task_definition, migrations) = tokio::join!(
            task_definition,
            self.migrations_between(&version, head.as_deref())
        );
        RollbackEvidence::Target {
            version,
            task_definition,
            migrations,
        }
    }

    /// The migration files added between two versions' releases.
    async fn migrations_between(
        &self,
        base: &str,
        head: Option<&str>,
    ) -> Result<Vec<String>, String> {
        let Some(head) = head else {
            return Err("what runs now is unknown".into());
        };
        let tag_of = |version: String| async move {
            match self.github.release_for(&version).await {
                Ok(Some(release)) => Ok(release.tag_name),
                Ok(None) => Ok(version),
                Err(e) => Err(e.to_string()),
            }
        };
        let (base, head) = tokio::join!(tag_of(base.to_owned()), tag_of(head.to_owned()));
        let path = &self.config.github.migrations_path;
        self.github
            .compare(&base?, &head?)
            .await
            .map(|c| {
                c.added_files
                    .into_iter()
                    .filter(|f| f.starts_with(path.as_str()))
                    .collect()
            })
            .map_err(|e| e.to_string())
    }
}

/// Whether an alert is a copy of the failure itself (not the short
/// message that rings phones after it).
fn is_failure_copy(alert: &NewAlert) -> bool {
    !matches!(
        AlertKey::parse(&alert.dedup_key).map(|k| k.subject),
        Some(Subject::Op {
            step: OpStep::Ring(_),
            ..
        }) | None
    )
}

/// Each service's items taken in turn (each list newest first), so the
/// few shown include every service's newest; `Err` only when no service's
/// could be read.
fn in_turn<T>(lists: Vec<Result<Vec<T>, String>>) -> Result<Vec<T>, String> {
    let mut error = None;
    let mut lists: Vec<std::vec::IntoIter<T>> = lists
        .into_iter()
        .filter_map(|l| l.map_err(|e| error.get_or_insert(e).clone()).ok())
        .map(Vec::into_iter)
        .collect();
    if lists.is_empty() {
        return Err(error.unwrap_or_default());
    }
    let mut out = Vec::new();
    loop {
        let before = out.len();
        out.extend(lists.iter_mut().filter_map(Iterator::next));
        if out.len() == before {
            return Ok(out);
        }
    }
}

fn shown_task(t: crate::adapters::ecs::StoppedTask, service: Option<&str>) -> Stopped {
    Stopped {
        service: service.map(str::to_owned),
        stop_code: t.stop_code,
        reason: t.stopped_reason,
        containers: t
            .containers
            .into_iter()
            .map(|c| say::Exited {
                name: c.name,
                exit_code: c.exit_code,
                reason: c.reason,
                memory_mib: c.memory_mib,
            })
            .collect(),
    }
}

/// The edit of a message (`row`: its newest version) carrying the
/// evidence; `None` when it carries it already.
fn edit_with_evidence(row: &OutboxRow, evidence: &Evidence) -> Option<NewAlert> {
    let key = AlertKey::parse(&row.dedup_key)?;
    if key.edit == Some(EditStep::Diagnosis) {
        return None;
    }
    let message = key.original().unwrap_or(key);
    let text = say::alert_with_evidence(&row.text, evidence);
    let text = crate::adapters::fit::fit(&text, crate::adapters::fit::MAX_MESSAGE).into_owned();
    Some(NewAlert {
        thread_id: row.thread_id.and_then(|t| i32::try_from(t).ok()),
        buttons: row.buttons.clone(),
        ..NewAlert::edit(
            &message,
            EditStep::Diagnosis,
            AlertKind::parse(&row.kind).unwrap_or(AlertKind::Failure),
            row.env.as_deref().and_then(|e| Env::parse(e).ok()),
            ChatId(row.chat_id),
            text,
        )
    })
}

/// Diagnoses the failures stored on any instance, each in a task of its
/// own, until stopped: woken when this instance stores one, and every
/// [`SWEEP_EVERY`] for those an instance that died left.
pub async fn diagnose_loop(app: Arc<App>, stop: CancellationToken) {
    loop {
        let now = now_ms();
        match app
            .store
            .claim_diagnoses(now, now - STALE_MS, now + CLAIM_MS, CLAIM_BATCH)
            .await
        {
            Ok(claimed) => {
                for failure in by_failure(claimed) {
                    let app = app.current();
                    tokio::spawn(async move { app.diagnose_failure(failure).await });
                }
            }
            Err(e) => tracing::warn!(error = %e, "diagnosis: store unreadable"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = app.diagnoser.notified() => {}
            () = tokio::time::sleep(SWEEP_EVERY) => {}
        }
    }
}

/// Claimed copies grouped by the failure they show: one environment and
/// operation (or health alarm) each.
fn by_failure(claimed: Vec<PendingDiagnosis>) -> Vec<Vec<PendingDiagnosis>> {
    let mut groups: Vec<Vec<PendingDiagnosis>> = Vec::new();
    for d in claimed {
        let failure = failure_of(&d);
        match groups.iter_mut().find(|g| failure_of(&g[0]) == failure) {
            Some(group) => group.push(d),
            None => groups.push(vec![d]),
        }
    }
    groups
}

/// The failure a copy shows: its operation, or the moment the health
/// monitor raised its alarms about the environment.
fn failure_of(d: &PendingDiagnosis) -> (Option<&str>, Option<i64>, Option<i64>) {
    let alarm = match AlertKey::parse(&d.dedup_key).map(|k| k.subject) {
        Some(Subject::Health { at_ms, .. }) => Some(at_ms),
        _ => None,
    };
    (d.env.as_deref(), d.operation_id, alarm)
}
