//! Diagnosis: the evidence the process's troubleshooting section asks for,
//! gathered by the bot. After a failure alert (a failed run, a deploy
//! that did not hold, a health-monitor alarm) the alert goes out at once
//! and the evidence follows within seconds as its edit: gathered in a
//! task of its own (the alert never waits for it), then enqueued through
//! the outbox like any edit. `/diagnose <env>` runs the same checklist on
//! demand.

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{App, Incoming, Reply};
use crate::adapters::ecs::{image_tag, tag_is_version};
use crate::domain::{AlertKey, EditStep, Env, OpStep, Subject};
use crate::messages::diagnosis::{
    self as say, Evidence, FailedJob, RollbackEvidence, RunEvidence, Stopped,
};
use crate::store::{NewAlert, OperationRow};

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

/// A failure whose alerts wait for their evidence.
#[derive(Debug, Clone)]
struct Job {
    env: Env,
    /// The operation that failed, if one did.
    failed: Option<OperationRow>,
    /// The failed run: its id and page.
    run: Option<(u64, String)>,
    /// The failure's alerts, as enqueued: each copy is edited.
    alerts: Vec<NewAlert>,
}

/// The failures waiting for their diagnosis.
#[derive(Default)]
pub struct DiagnosisQueue {
    jobs: Mutex<Vec<Job>>,
    wake: Notify,
}

impl App {
    /// Gathers the evidence of a failure in the background, then edits
    /// each of its `alerts` to carry it. Called once they are stored. `run`: the
    /// failed run (id, page). Does not wait.
    pub(super) fn diagnose_later(
        &self,
        env: Option<&Env>,
        failed: Option<&OperationRow>,
        run: Option<(u64, &str)>,
        alerts: &[NewAlert],
    ) {
        let Some(env) = env else { return };
        let alerts: Vec<NewAlert> = alerts
            .iter()
            .filter(|a| is_failure_copy(a))
            .cloned()
            .collect();
        if alerts.is_empty() {
            return;
        }
        let job = Job {
            env: env.clone(),
            failed: failed.cloned(),
            run: run.map(|(id, url)| (id, url.to_owned())),
            alerts,
        };
        self.diagnoses
            .jobs
            .lock()
            .expect("the diagnosis queue's lock is never poisoned")
            .push(job);
        self.diagnoses.wake.notify_one();
    }

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

    /// Gathers a job's evidence and enqueues the edits of its alerts.
    async fn diagnose_job(&self, job: Job) {
        let run = job.run.as_ref().map(|(id, url)| (*id, url.as_str()));
        let evidence = self.evidence(&job.env, job.failed.as_ref(), run).await;
        let mut edits = Vec::new();
        for alert in job.alerts {
            // Only copies that were stored (one given up since, or
            // de-duplicated away, has no message to edit).
            if !matches!(self.store.has_alert(&alert.dedup_key).await, Ok(true)) {
                continue;
            }
            let Some(key) = AlertKey::parse(&alert.dedup_key) else {
                continue;
            };
            let original = key.original().unwrap_or(key);
            let text = say::alert_with_evidence(&alert.text, &evidence);
            let text =
                crate::adapters::fit::fit(&text, crate::adapters::fit::MAX_MESSAGE).into_owned();
            edits.push(NewAlert {
                text,
                ..alert.keyed(&original.edited(EditStep::Diagnosis))
            });
        }
        if edits.is_empty() {
            return;
        }
        match self.store.enqueue_alerts(&edits).await {
            Ok(_) => self.outbox.notify_one(),
            Err(e) => tracing::warn!(error = %e, env = %job.env, "diagnosis: not stored"),
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

    /// What ECS says: whether it answers at all, the service's events, the
    /// stopped tasks of its deployments (and of the failed version's task
    /// definition: the circuit breaker may have dropped its deployment
    /// already), and the version it runs.
    async fn ecs_evidence(
        &self,
        cfg: &crate::config::EnvironmentConfig,
        failed: Option<&OperationRow>,
    ) -> EcsEvidence {
        let state = match self.ecs.service_state(cfg).await {
            Ok(state) => state,
            Err(e) => {
                let e = e.to_string();
                return (Err(e.clone()), Err(e.clone()), Err(e), None);
            }
        };
        let stopped = async {
            let mut task_definitions: Vec<String> = state
                .deployments
                .iter()
                .map(|d| d.task_definition.clone())
                .collect();
            if let Some(op) = failed
                && let Ok(Some(name)) = self.carrying(cfg, &op.version).await
            {
                task_definitions.push(name);
            }
            self.ecs
                .stopped_tasks(cfg, &task_definitions)
                .await
                .map(|tasks| tasks.into_iter().map(shown_task).collect())
                .map_err(|e| e.to_string())
        };
        let events = async {
            self.ecs
                .service_events(cfg, say::EVENTS_SHOWN)
                .await
                .map_err(|e| e.to_string())
        };
        let (events, stopped) = tokio::join!(events, stopped);
        let running = state
            .primary()
            .and_then(|d| d.image.as_deref())
            .and_then(image_tag)
            .map(str::to_owned);
        (Ok(()), events, stopped, running)
    }

    /// The newest registered task definition (`family:revision`) whose
    /// image carries `version`.
    async fn carrying(
        &self,
        cfg: &crate::config::EnvironmentConfig,
        version: &str,
    ) -> Result<Option<String>, String> {
        self.ecs
            .revisions(cfg, REVISION_SCAN)
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
        let task_definition = self.carrying(cfg, &version);
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

fn shown_task(t: crate::adapters::ecs::StoppedTask) -> Stopped {
    Stopped {
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

/// Diagnoses the failures handed over, each in a task of its own, until
/// stopped.
pub async fn diagnose_loop(app: Arc<App>, stop: CancellationToken) {
    loop {
        let jobs: Vec<Job> = std::mem::take(
            &mut *app
                .diagnoses
                .jobs
                .lock()
                .expect("the diagnosis queue's lock is never poisoned"),
        );
        for job in jobs {
            let app = app.clone();
            tokio::spawn(async move { app.diagnose_job(job).await });
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = app.diagnoses.wake.notified() => {}
        }
    }
}
