//! `/status`: what runs where (ECS), the latest release and main's CI
//! (GitHub), pending operations and locks (store). Each source fails on its
//! own line; the command itself never fails.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::App;
use crate::adapters::ecs::{ServiceState, image_tag};
use crate::adapters::github::{CiState, CiVerdict, Release};
use crate::alerts::format::{ago, clip, escape, from_ms, link, utc};
use crate::config::EnvironmentConfig;
use crate::domain::health::{ProbeFailure, Watch};
use crate::domain::{Env, Version};
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
    pub service: Result<ServiceState, String>,
    pub lock: Option<(LockRow, String)>,
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
        let services = futures::future::join_all(
            envs.iter()
                .map(|(_, cfg)| within(self.ecs.service_state(cfg))),
        );
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
            Ok::<_, crate::store::StoreError>((ops, locks, outbox, deploys, verdicts))
        };
        let (services, healths, release, ci, store) =
            tokio::join!(services, healths, release, ci, store);
        let (ops, locks, failed_alerts, deploys, verdicts, store_error) = match store {
            Ok((ops, locks, outbox, deploys, verdicts)) => {
                (ops, locks, outbox.failed, deploys, verdicts, None)
            }
            Err(e) => {
                let reference = &super::reference();
                tracing::error!(reference, error = %e, "status: store unreadable");
                let unreadable = Some(format!(
                    "store unreadable; see the bot's log (ref {reference})"
                ));
                (vec![], vec![], 0, vec![], vec![], unreadable)
            }
        };
        let envs = envs
            .into_iter()
            .zip(services)
            .zip(healths)
            .map(|(((env, cfg), service), health)| EnvStatus {
                env: env.clone(),
                auto_deploy: cfg.auto_deploy,
                service,
                health,
                lock: locks
                    .iter()
                    .find(|l| l.env == env.as_str())
                    .map(|l| (l.clone(), self.name_of(l.locked_by))),
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

/// The version an image runs: its tag read as a version, else the tag
/// itself, marked, unless any tag is a version there (`auto_deploy`).
fn version_of(image: Option<&str>, any_tag: bool) -> String {
    match image.map(|i| (i, image_tag(i))) {
        None => "no image for the configured container".to_owned(),
        Some((_, Some(tag))) => match Version::from_tag(tag) {
            Some(v) => format!("<b>{}</b>", escape(&v.to_string())),
            None if any_tag => format!("<b>{}</b>", escape(tag)),
            None => format!("<b>{}</b> (not a release tag)", escape(tag)),
        },
        Some((image, None)) => format!("untagged image {}", escape(&clip(image, 60))),
    }
}

/// The head and detail of an environment's ECS line; `unhealthy`: its
/// health URL fails, so all is not well whatever ECS says.
fn service_lines(
    s: &ServiceState,
    now: DateTime<Utc>,
    any_tag: bool,
    unhealthy: bool,
) -> (String, String) {
    let Some(primary) = s.primary() else {
        return (
            "⚠️ no deployment".into(),
            format!("{}/{} tasks", s.running, s.desired),
        );
    };
    let version = version_of(primary.image.as_deref(), any_tag);
    let older: Vec<&str> = s
        .deployments
        .iter()
        .filter(|d| d.status != "PRIMARY")
        .filter_map(|d| d.image.as_deref())
        .collect();
    let rollout = primary.rollout_state.as_deref().unwrap_or("");
    let (emoji, head) = if rollout == "FAILED" {
        ("❌", format!("{version} rollout failed"))
    } else if !older.is_empty() {
        let from: Vec<String> = older.iter().map(|i| version_of(Some(i), any_tag)).collect();
        ("🔄", format!("{} → {version}", from.join(", ")))
    } else if rollout == "IN_PROGRESS" {
        ("🔄", version)
    } else if s.desired == 0 {
        ("⏸", format!("{version} (scaled to zero)"))
    } else if s.running < s.desired {
        ("⚠️", version)
    } else if unhealthy {
        ("🔴", version)
    } else {
        ("✅", version)
    };
    let mut detail = format!("{}/{} tasks", s.running, s.desired);
    if s.pending > 0 {
        detail.push_str(&format!(" ({} pending)", s.pending));
    }
    if primary.failed_tasks > 0 {
        detail.push_str(&format!(" · {} failed tasks", primary.failed_tasks));
    }
    if !rollout.is_empty() && rollout != "FAILED" {
        detail.push_str(&format!(
            " · rollout {}",
            rollout.to_lowercase().replace('_', " ")
        ));
    }
    if let Some(at) = primary.created_at {
        detail.push_str(&format!(" · since {} ({})", utc(at), ago(at, now)));
    }
    if rollout == "FAILED"
        && let Some(reason) = &primary.rollout_reason
    {
        detail.push_str(&format!("\n   {}", escape(&clip(reason, 200))));
    }
    (format!("{emoji} {head}"), detail)
}

fn health_line(h: &HealthStatus, now: DateTime<Utc>) -> String {
    let when = if h.live {
        "asked just now".to_owned()
    } else {
        ago(h.at, now)
    };
    match &h.answer {
        Ok(status) => format!("health: {status} · {when}"),
        Err(failure) => {
            let mut line = format!("🔴 health: {} · {when}", escape(&failure.short()));
            if let Some((n, since)) = h.failing {
                line.push_str(&format!(" · failing {n} in a row"));
                if let Some(since) = since {
                    line.push_str(&format!(" since {}", utc(since)));
                }
            }
            line
        }
    }
}

fn ci_line(ci: &Result<CiState, String>, git_ref: &str) -> String {
    let git_ref = escape(git_ref);
    match ci {
        Err(e) => format!("⚠️ {git_ref} CI: GitHub error: {}", escape(&clip(e, 200))),
        Ok(state) => {
            let sha = state
                .sha
                .as_deref()
                .map(|s| {
                    format!(
                        " · <code>{}</code>",
                        escape(&s.chars().take(7).collect::<String>())
                    )
                })
                .unwrap_or_default();
            let names = |n: &[String]| escape(&clip(&n.join(", "), 200));
            match &state.verdict {
                CiVerdict::Green { total } => {
                    format!("✅ {git_ref} CI: green ({total} checks){sha}")
                }
                CiVerdict::Pending { names: n } => {
                    format!("⏳ {git_ref} CI: running: {}{sha}", names(n))
                }
                CiVerdict::Failing { names: n } => {
                    format!("❌ {git_ref} CI: failing: {}{sha}", names(n))
                }
                CiVerdict::NoChecks => format!("⚪ {git_ref} CI: no checks reported{sha}"),
            }
        }
    }
}

fn release_line(release: &Result<Option<Release>, String>, now: DateTime<Utc>) -> String {
    match release {
        Err(e) => format!("⚠️ Latest release: GitHub error: {}", escape(&clip(e, 200))),
        Ok(None) => "📦 Latest release: none yet".to_owned(),
        Ok(Some(r)) => {
            let when = r
                .published_at
                .map(|at| format!(" · {}", ago(at, now)))
                .unwrap_or_default();
            format!(
                "📦 Latest release: {}{when}",
                link(&r.html_url, &r.tag_name)
            )
        }
    }
}

/// Renders the report as one compact HTML message.
pub fn render_status(r: &StatusReport) -> String {
    let mut out = format!("<b>Status</b> · {}\n", link(&r.repo_url, &r.repo));
    out.push_str(&release_line(&r.release, r.now));
    out.push('\n');
    out.push_str(&ci_line(&r.ci, &r.git_ref));
    out.push('\n');
    out.push('\n');
    for e in &r.envs {
        let env = escape(e.env.as_str());
        let unhealthy = e.health.as_ref().is_some_and(|h| h.answer.is_err());
        match &e.service {
            Ok(s) => {
                let (head, detail) = service_lines(s, r.now, e.auto_deploy, unhealthy);
                out.push_str(&format!("<b>{env}</b> {head}\n   {detail}\n"));
            }
            Err(err) => {
                out.push_str(&format!(
                    "<b>{env}</b> ⚠️ ECS error: {}\n",
                    escape(&clip(err, 200))
                ));
            }
        }
        if let Some(h) = &e.health {
            out.push_str(&format!("   {}\n", health_line(h, r.now)));
        }
        if let Some((op, who)) = &e.last_deploy {
            out.push_str(&format!(
                "   Last deploy: {} by {} · {}\n",
                escape(&op.version),
                escape(who),
                ago(from_ms(op.updated_at), r.now)
            ));
        }
        if let Some((v, who)) = &e.verdict {
            let verdict = if v.verdict == "verified" {
                "✅ verified"
            } else {
                "🐞 issues found"
            };
            out.push_str(&format!(
                "   QA: {} {verdict} by {} · {}\n",
                escape(&v.version),
                escape(who),
                ago(from_ms(v.decided_at), r.now)
            ));
        }
        if let Some((lock, who)) = &e.lock {
            let until = lock
                .expires_at
                .map(|t| format!(" until {}", utc(from_ms(t))))
                .unwrap_or_default();
            out.push_str(&format!(
                "   🔒 locked by {}: {}{until}\n",
                escape(who),
                escape(&clip(&lock.reason, 100))
            ));
        }
        for (op, who) in &e.operations {
            let state = op.state;
            out.push_str(&format!(
                "   ⏳ #{} {} {} · {state} · {} · {}\n",
                op.id,
                escape(op.kind.as_str()),
                escape(&op.version),
                escape(who),
                ago(from_ms(op.created_at), r.now)
            ));
        }
    }
    if let Some(e) = &r.store_error {
        out.push_str(&format!("\n⚠️ {}\n", escape(e)));
    }
    if r.failed_alerts > 0 {
        out.push_str(&format!(
            "\n⚠️ {} alert(s) could not be delivered; see /metrics and the log.\n",
            r.failed_alerts
        ));
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests;
