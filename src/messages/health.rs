//! The health monitor's alerts: a failed rollout, tasks short and back,
//! a deploy nobody announced, the health URL failing and recovering, and
//! an environment that deployed itself.

use crate::alerts::format::{escape, span};
use crate::domain::health::HealthEvent;

/// The alert of one event of `env`; `health_url` names the URL that
/// failed (without its credentials or query).
pub fn health(env_name: &str, health_url: Option<&url::Url>, event: &HealthEvent) -> String {
    health_of(env_name, None, health_url, event)
}

/// The alert of one event of `env` about its ECS `service`, named when
/// the environment has several (`None`: the environment's own, or its
/// one service's).
pub fn health_of(
    env_name: &str,
    service: Option<&str>,
    health_url: Option<&url::Url>,
    event: &HealthEvent,
) -> String {
    let env = escape(env_name);
    // "worker: " before what happened to it; who runs what "again".
    let on = service
        .map(|s| format!("{}: ", escape(s)))
        .unwrap_or_default();
    let subject = service.map(escape).unwrap_or_else(|| env.clone());
    match event {
        HealthEvent::RolloutFailed {
            task_definition,
            version,
            reason,
            rolled_back_to,
        } => {
            let what = match version {
                Some(v) => format!("{} ({})", escape(v), escape(task_definition)),
                None => escape(task_definition),
            };
            let back = match rolled_back_to {
                Some(to) => format!(
                    "\nThe circuit breaker rolled it back: {subject} runs {} again.",
                    escape(to)
                ),
                None => String::new(),
            };
            format!(
                "🔥 <b>{env}</b> · {on}ECS rollout of {what} FAILED: {}{back}",
                escape(reason)
            )
        }
        HealthEvent::TasksShort {
            running,
            desired,
            for_ms,
        } => format!(
            "⚠️ <b>{env}</b> · {on}only {running} of {desired} tasks running, for {}.",
            span(for_ms / 1000)
        ),
        HealthEvent::TasksRestored { running, desired } => {
            format!("✅ <b>{env}</b> · {on}{running} of {desired} tasks running again.")
        }
        HealthEvent::Unannounced { from, to, version } => format!(
            "👀 <b>{env}</b> · the service{} changed from {} to {}{} without the bot: someone deployed around it.",
            service
                .map(|s| format!(" {}", escape(s)))
                .unwrap_or_default(),
            escape(from),
            escape(to),
            version
                .as_deref()
                .map(|v| format!(" (image tag {})", escape(v)))
                .unwrap_or_default()
        ),
        HealthEvent::Down { failures, failure } => {
            let why = match health_url {
                Some(url) => crate::adapters::health::describe(url, failure),
                None => failure.words(),
            };
            format!(
                "🔴 <b>{env}</b> · health check failing {failures} times in a row: {}",
                escape(&why)
            )
        }
        HealthEvent::AutoDeployed { to, version } => match service {
            None => auto_deployed(env_name, version.as_deref(), to),
            Some(service) => auto_deployed_service(env_name, service, version.as_deref(), to),
        },
        HealthEvent::Recovered { status } => {
            format!("🟢 <b>{env}</b> · health check passes again ({status}).")
        }
    }
}

/// "✅ dev now runs main-1a2b3c4, deployed automatically": a new task
/// definition in an environment that deploys itself.
pub fn auto_deployed(env: &str, version: Option<&str>, task_definition: &str) -> String {
    let what = match version {
        Some(v) => format!("<b>{}</b>", escape(v)),
        None => format!("task definition {}", escape(task_definition)),
    };
    format!(
        "✅ <b>{}</b> now runs {what}, deployed automatically",
        escape(env)
    )
}

/// "✅ dev · worker now runs main-1a2b3c4, deployed automatically": a
/// new task definition of one service of an environment of several that
/// deploys itself.
pub fn auto_deployed_service(
    env: &str,
    service: &str,
    version: Option<&str>,
    task_definition: &str,
) -> String {
    let what = match version {
        Some(v) => format!("<b>{}</b>", escape(v)),
        None => format!("task definition {}", escape(task_definition)),
    };
    format!(
        "✅ <b>{}</b> · {} now runs {what}, deployed automatically",
        escape(env),
        escape(service)
    )
}

#[cfg(test)]
mod tests;
