//! `/status`: what runs where (ECS), the latest release and main's CI
//! (GitHub), pending operations and locks (store). Each source fails on its
//! own line; the command itself never fails.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::App;
use crate::adapters::ecs::ServiceState;
use crate::adapters::github::{CiState, Release};
use crate::alerts::format::from_ms;
use crate::config::EnvironmentConfig;
use crate::domain::Env;
use crate::domain::freeze::{Frozen, Upcoming};
use crate::domain::health::{ProbeFailure, Watch};
use crate::store::{LockRow, OperationRow, VerdictRow, now_ms};

/// How long `/status` waits for any one source.
const SOURCE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long `/status` waits for a health URL it asks itself: it is asked
/// alongside ECS, and must not make the answer slow.
const LIVE_PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Everything `/status` shows, gathered.
#[derive(Debug, Clone)]
pub struct StatusReport {
    pub now: DateTime<Utc>,
    pub repo: String,
    pub repo_url: String,
    pub git_ref: String,
    pub release: Result<Option<Release>, String>,
    pub ci: Result<CiState, String>,
    pub envs: Vec<EnvStatus>,
    /// Store problems (the store could not be read).
    pub store_error: Option<String>,
    /// Alerts that could not be delivered.
    pub failed_alerts: i64,
}

/// One environment's lines.
#[derive(Debug, Clone)]
pub struct EnvStatus {
    pub env: Env,
    /// Each of its ECS services, in the configured order.
    pub services: Vec<ServiceStatus>,
    pub lock: Option<(LockRow, String)>,
    /// The freeze holding it now (a window of bot.toml or `/freeze`).
    pub freeze: Option<Frozen>,
    /// The configured window that starts next.
    pub next_freeze: Option<Upcoming>,
    /// Live operations, with the requester's name.
    pub operations: Vec<(OperationRow, String)>,
    /// The latest successful deploy, with who asked.
    pub last_deploy: Option<(OperationRow, String)>,
    /// QA's latest verdict here, with who gave it.
    pub verdict: Option<(VerdictRow, String)>,
    /// The environment deploys itself: any image tag is a version.
    pub auto_deploy: bool,
    /// The health URL's last answer; `None` without a health URL.
    pub health: Option<HealthStatus>,
}

/// One ECS service of an environment, as `/status` shows it.
#[derive(Debug, Clone)]
pub struct ServiceStatus {
    /// The service's name (not its ARN).
    pub name: String,
    pub state: Result<ServiceState, String>,
}

/// The health URL as `/status` shows it.
#[derive(Debug, Clone)]
pub struct HealthStatus {
    pub answer: Result<u16, ProbeFailure>,
    pub at: DateTime<Utc>,
    /// Asked by this `/status` itself: the monitor's view was missing or old.
    pub live: bool,
    /// The monitor's failed probes in a row, and since when (unknown in
    /// a view stored before it was kept).
    pub failing: Option<(u32, Option<DateTime<Utc>>)>,
}

async fn within<T, E: ToString>(fut: impl Future<Output = Result<T, E>>) -> Result<T, String> {
    match tokio::time::timeout(SOURCE_TIMEOUT, fut).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no answer within {}s", SOURCE_TIMEOUT.as_secs())),
    }
}

impl App {
    /// The health monitor's view of an environment's health URL, or, when
    /// it has not looked for two intervals (just started, a stalled
    /// leader), the URL's answer now. A round of the monitor takes longer
    /// than its interval, so one interval would ask again needlessly.
    async fn health_status(&self, env: &Env, cfg: &EnvironmentConfig) -> Option<HealthStatus> {
        let url = cfg.health_url.as_ref()?;
        let view = match self.store.env_health(env.as_str()).await {
            Ok(Some((json, _))) => serde_json::from_str::<Watch>(&json).ok(),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "status: health view unreadable");
                None
            }
        };
        let failing = view
            .as_ref()
            .filter(|w| w.probe_failures > 0)
            .map(|w| (w.probe_failures, w.failing_since.map(from_ms)));
        let fresh_ms = 2 * i64::try_from(self.config.monitor.interval.as_millis()).unwrap_or(0);
        match view.and_then(|w| w.last_probe) {
            Some(p) if now_ms() - p.at_ms <= fresh_ms => Some(HealthStatus {
                answer: p.answer,
                at: from_ms(p.at_ms),
                live: false,
                failing,
            }),
            _ => {
                let answer = tokio::time::timeout(LIVE_PROBE_TIMEOUT, self.health.probe(url))
                    .await
                    .unwrap_or(Err(ProbeFailure::Timeout));
                Some(HealthStatus {
                    answer,
                    at: Utc::now(),
                    live: true,
                    failing: failing.filter(|_| answer.is_err()),
                })
            }
        }
    }

    /// Gathers the report, all sources at once.
    pub async fn status(&self, only: Option<&Env>) -> StatusReport {
        let envs: Vec<(&Env, &crate::config::EnvironmentConfig)> = self
            .config
            .environments
            .iter()
            .filter(|(env, _)| only.is_none_or(|o| o == *env))
            .collect();
        let services = futures::future::join_all(envs.iter().map(|(_, cfg)| async {
            let states = tokio::time::timeout(SOURCE_TIMEOUT, self.ecs.services_state(cfg)).await;
            cfg.services()
                .iter()
                .enumerate()
                .map(|(i, s)| ServiceStatus {
                    name: s.name().to_owned(),
                    state: match &states {
                        Ok(states) => states[i].clone().map_err(|e| e.to_string()),
                        Err(_) => Err(format!("no answer within {}s", SOURCE_TIMEOUT.as_secs())),
                    },
                })
                .collect::<Vec<_>>()
        }));
        let healths =
            futures::future::join_all(envs.iter().map(|(env, cfg)| self.health_status(env, cfg)));
        let release = within(self.github.highest_release());
        let ci = within(self.github.ci_state());
        let store = async {
            let ops = self.store.live_operations().await?;
            let locks = self.store.active_locks().await?;
            let outbox = self.store.outbox_stats().await?;
            let names: Vec<&Env> = envs.iter().map(|(env, _)| *env).collect();
            let deploys = self.store.last_deploys(&names).await?;
            let verdicts = self.store.latest_verdicts().await?;
            let freezes = self.store.active_freezes().await?;
            Ok::<_, crate::store::StoreError>((ops, locks, outbox, deploys, verdicts, freezes))
        };
        let (services, healths, release, ci, store) =
            tokio::join!(services, healths, release, ci, store);
        let (ops, locks, failed_alerts, deploys, verdicts, store_error, freezes) = match store {
            Ok((ops, locks, outbox, deploys, verdicts, freezes)) => {
                (ops, locks, outbox.failed, deploys, verdicts, None, freezes)
            }
            Err(e) => {
                let reference = &super::reference();
                tracing::error!(reference, error = %e, "status: store unreadable");
                let unreadable = Some(crate::messages::status::store_unreadable(reference));
                (vec![], vec![], 0, vec![], vec![], unreadable, vec![])
            }
        };
        let envs = envs
            .into_iter()
            .zip(services)
            .zip(healths)
            .map(|(((env, cfg), services), health)| EnvStatus {
                env: env.clone(),
                auto_deploy: cfg.auto_deploy,
                services,
                health,
                lock: locks
                    .iter()
                    .find(|l| l.env == env.as_str())
                    .map(|l| (l.clone(), self.name_of(l.locked_by))),
                freeze: self.frozen_by(&freezes, env),
                next_freeze: self.next_freeze(env),
                operations: ops
                    .iter()
                    .filter(|o| o.env.as_ref() == Some(env))
                    .map(|o| (o.clone(), self.name_of(o.requested_by)))
                    .collect(),
                last_deploy: deploys
                    .iter()
                    .find(|o| o.env.as_ref() == Some(env))
                    .map(|o| (o.clone(), self.name_of(o.requested_by))),
                verdict: verdicts
                    .iter()
                    .find(|v| v.env == env.as_str())
                    .map(|v| (v.clone(), self.name_of(v.user_id))),
            })
            .collect();
        StatusReport {
            now: Utc::now(),
            repo: self.github.full_name(),
            repo_url: self.github.html_url(),
            git_ref: self.github.git_ref().to_owned(),
            release,
            ci,
            envs,
            store_error,
            failed_alerts,
        }
    }
}
