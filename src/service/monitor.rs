//! The health monitor: between operations it watches each environment's
//! ECS services (each on its own) and health URL and alerts on
//! transitions — a rollout that FAILED (or that the circuit breaker
//! rolled back), tasks below desired for longer than the grace, a task
//! definition nobody announced, a health URL failing N times in a row and
//! its recovery — once each.

use std::collections::HashMap;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::App;
use crate::adapters::ecs::{ServiceState, image_tag, tag_is_version};
use crate::alerts::{self, Rendered};
use crate::config::{EnvironmentConfig, ServiceConfig};
use crate::domain::health::{
    HealthEvent, Said, Seen, SeenDeployment, SeenOne, SeenService, Watch, watch,
};
use crate::domain::{AlertKind, Env, OperationKind, OperationState};
use crate::messages;
use crate::store::now_ms;

use crate::domain::AlertKey;
use crate::domain::rollout::short_task_definition;

fn seen_service(state: &ServiceState) -> SeenService {
    SeenService {
        deployments: state
            .deployments
            .iter()
            .map(|d| SeenDeployment {
                task_definition: short_task_definition(&d.task_definition).to_owned(),
                version: d.image.as_deref().and_then(image_tag).map(str::to_owned),
                rollout_state: d.rollout_state.clone(),
                reason: d.rollout_reason.clone(),
            })
            .collect(),
        running: state.running,
        desired: state.desired,
    }
}

/// What the monitor remembers a service's view by.
fn service_key(service: &ServiceConfig) -> String {
    format!("{}/{}", service.cluster, service.service)
}

impl App {
    /// One look at an environment: its health URL, and its ECS services
    /// (one call per cluster) when `ask_ecs` (not while backing off).
    /// Returns whether ECS was read, when it was asked.
    async fn monitor_env(&self, env: &Env, cfg: &EnvironmentConfig, ask_ecs: bool) -> Option<bool> {
        let (prev, seen_at) = match self.store.env_health(env.as_str()).await {
            Ok(Some((json, at))) => (
                serde_json::from_str::<Watch>(&json).unwrap_or_default(),
                Some(at),
            ),
            Ok(None) => (Watch::default(), None),
            Err(e) => {
                tracing::warn!(error = %e, "monitor: store unreadable");
                return None;
            }
        };
        let probe = async {
            match &cfg.health_url {
                Some(url) => Some(self.health.probe(url).await),
                None => None,
            }
        };
        let ecs = async {
            match ask_ecs {
                true => Some(self.ecs.services_state(cfg).await),
                false => None,
            }
        };
        let (states, probe) = tokio::join!(ecs, probe);
        // ECS answered if any service was read: one service missing (its
        // error is logged) does not slow the watch of the others.
        let read = states.as_ref().map(|s| s.iter().any(Result::is_ok));
        let several = cfg.services().len() > 1;
        let last_read = prev.ecs_seen_at.or(seen_at);
        let mut services = Vec::new();
        for (index, config) in cfg.services().iter().enumerate() {
            // Unread (an error, or backing off): no news, so no alert.
            let state = match states.as_ref().map(|s| &s[index]) {
                Some(Ok(state)) => Some(seen_service(state)),
                Some(Err(e)) => {
                    tracing::warn!(error = %e, env = %env, service = config.name(), "monitor: ECS unreadable");
                    None
                }
                None => None,
            };
            let key = service_key(config);
            let changed_to = state
                .as_ref()
                .and_then(|s| s.deployments.first())
                .filter(|p| {
                    prev.last_task_definition(&key, index)
                        .is_some_and(|t| t != p.task_definition)
                });
            let explained = match changed_to {
                Some(primary) => {
                    self.explained(env, primary.version.as_deref(), last_read)
                        .await
                }
                None => false,
            };
            services.push(SeenOne {
                key,
                name: several.then(|| config.name().to_owned()),
                state,
                explained,
            });
        }
        let seen = Seen {
            services,
            probe,
            auto_deploy: cfg.auto_deploy,
            now_ms: now_ms(),
        };
        let monitor = &self.config.monitor;
        let (next, events) = watch(
            &prev,
            &seen,
            monitor.grace.as_millis() as i64,
            monitor.health_failures,
        );
        if next == prev && seen_at.is_some() {
            return read;
        }
        let (alerts, auto_deployed) = self.health_alerts(env, cfg, &events, &seen).await;
        let state = serde_json::to_string(&next).expect("the monitor's view serialises");
        match self
            .store
            .save_env_health(
                env.as_str(),
                seen_at,
                &state,
                &alerts,
                auto_deployed.as_deref(),
            )
            .await
        {
            Ok(true) if !alerts.is_empty() => {
                self.outbox.notify_one();
                self.diagnoser.notify_one();
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "monitor: not stored"),
        }
        read
    }

    /// The alerts of the monitor's events about `env` (the alarms among
    /// them, bad news, marked for diagnosis), and the version an
    /// environment that deploys itself now runs, if it did.
    async fn health_alerts(
        &self,
        env: &Env,
        cfg: &EnvironmentConfig,
        events: &[Said],
        seen: &Seen,
    ) -> (Vec<crate::store::NewAlert>, Option<String>) {
        let mut alerts = Vec::new();
        let mut auto_deployed = None;
        // Bad news carries the failure alert's buttons.
        let primary_version = |one: &SeenOne| {
            one.state
                .as_ref()
                .and_then(|s| s.deployments.first())
                .and_then(|d| d.version.clone())
        };
        let running = seen.services.first().and_then(primary_version);
        let running = running.as_deref();
        let buttons = match events.iter().any(|s| is_bad_news(&s.event)) {
            true => match self.config.environments.get_index_of(env) {
                Some(index) => Some(self.health_buttons(index, running).await),
                None => None,
            },
            false => None,
        };
        for (i, Said { service, event }) in events.iter().enumerate() {
            let text = messages::health::health_of(
                env.as_str(),
                service.as_deref(),
                cfg.health_url.as_ref(),
                event,
            );
            let kind = match event {
                // A deploy like any other: to the chats that take deploys.
                HealthEvent::AutoDeployed { version, .. } => {
                    // (An untagged image names no version to record.) The
                    // environment runs it once every service does: one
                    // deploy recorded, not one per service.
                    let everywhere = version.as_ref().filter(|v| {
                        seen.services
                            .iter()
                            .all(|one| primary_version(one).is_some_and(|p| tag_is_version(&p, v)))
                    });
                    if everywhere.is_some() {
                        auto_deployed = everywhere.cloned();
                    }
                    AlertKind::Deployment
                }
                _ => AlertKind::Health,
            };
            let mut routed = alerts::route(
                &self.config,
                &Rendered {
                    kind,
                    env: Some(env.clone()),
                    key: AlertKey::health(env.clone(), seen.now_ms, i),
                    text,
                },
            );
            if is_bad_news(event) {
                for alert in &mut routed {
                    alert.buttons = buttons.clone();
                }
                super::diagnose::mark_for_diagnosis(&mut routed);
            }
            alerts.extend(routed);
        }
        (alerts, auto_deployed)
    }

    /// Whether the bot knows why the task definition changed: an operation
    /// there is under way, or one for that version ended since ECS was
    /// last read (`last_read`).
    async fn explained(&self, env: &Env, version: Option<&str>, last_read: Option<i64>) -> bool {
        let recent = self.store.history(Some(env), 10).await.unwrap_or_default();
        let since = last_read.unwrap_or(0) - 2 * self.config.monitor.interval.as_millis() as i64;
        recent.iter().any(|op| {
            let state = op.state;
            let moving = matches!(
                state,
                OperationState::Dispatched | OperationState::Running | OperationState::Confirming
            );
            let ended_now = matches!(
                state,
                OperationState::Succeeded | OperationState::Unhealthy | OperationState::Failed
            ) && op.updated_at >= since
                && version.is_some_and(|v| crate::adapters::ecs::tag_is_version(v, &op.version));
            op.kind != OperationKind::Release && (moving || ended_now)
        })
    }
}

/// Whether a monitor's event is a failure to act on (roll back, lock,
/// take): a failed rollout, tasks missing, the health URL down.
fn is_bad_news(event: &HealthEvent) -> bool {
    matches!(
        event,
        HealthEvent::RolloutFailed { .. }
            | HealthEvent::TasksShort { .. }
            | HealthEvent::Down { .. }
    )
}

/// Looks at every environment every `monitor.interval` (the first look at
/// once: it learns what runs), until stopped.
pub async fn monitor_loop(app: Arc<App>, stop: CancellationToken) {
    // ECS unreadable (throttled, down): that environment's service is
    // looked at again only after 2, 4, 8, then 16 intervals; its health
    // URL still every interval.
    let mut backoff: HashMap<Env, (u32, std::time::Instant)> = HashMap::new();
    loop {
        let app = app.current();
        let interval = app.config.monitor.interval;
        for (env, cfg) in &app.config.environments {
            let ask_ecs = backoff
                .get(env)
                .is_none_or(|(_, at)| std::time::Instant::now() >= *at);
            match app.monitor_env(env, cfg, ask_ecs).await {
                Some(true) => {
                    backoff.remove(env);
                }
                Some(false) => {
                    let failures = backoff.get(env).map_or(0, |b| b.0) + 1;
                    let wait = interval * 2u32.pow(failures.min(4));
                    tracing::warn!(env = %env, failures, retry_in = ?wait, "monitor: backing off ECS");
                    backoff.insert(env.clone(), (failures, std::time::Instant::now() + wait));
                }
                None => {}
            }
        }
        app.refresh_dora_gauges().await;
        // Deploys gone wrong whose instance died before deciding their
        // automatic rollback: decided here.
        app.roll_back_left_over().await;
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}
