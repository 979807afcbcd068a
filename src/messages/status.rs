//! `/status`: one compact message, each source on its own line (a source
//! that failed says so there).

use chrono::{DateTime, Utc};

use crate::adapters::ecs::{ServiceState, image_tag};
use crate::adapters::github::{CiState, CiVerdict, Release};
use crate::alerts::format::{ago, clip, escape, from_ms, link, utc};
use crate::domain::Version;
use crate::service::{HealthStatus, ServiceStatus, StatusReport};

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

/// An environment's ECS lines: with one service, its head beside the
/// environment and its detail below; with several, what runs (or that the
/// services disagree, and how), then a line per service.
fn ecs_lines(
    env: &str,
    services: &[ServiceStatus],
    now: DateTime<Utc>,
    any_tag: bool,
    unhealthy: bool,
) -> String {
    if let [only] = services {
        return match &only.state {
            Ok(s) => {
                let (head, detail) = service_lines(s, now, any_tag, unhealthy);
                format!("<b>{env}</b> {head}\n   {detail}\n")
            }
            Err(err) => format!("<b>{env}</b> ⚠️ ECS error: {}\n", escape(&clip(err, 200))),
        };
    }
    let running: Vec<(&str, String)> = services
        .iter()
        .filter_map(|s| {
            let state = s.state.as_ref().ok()?;
            let image = state.primary().and_then(|d| d.image.as_deref());
            Some((s.name.as_str(), plain_version(image)))
        })
        .collect();
    let mut versions: Vec<&str> = Vec::new();
    for (_, v) in &running {
        if !versions.contains(&v.as_str()) {
            versions.push(v);
        }
    }
    let summary = match versions.as_slice() {
        [] => "⚠️ ECS unreadable".to_owned(),
        [one] => format!("<b>{}</b> on {} services", escape(one), services.len()),
        _ => {
            let each: Vec<String> = running
                .iter()
                .map(|(name, v)| format!("{} {}", escape(name), escape(v)))
                .collect();
            format!("⚠️ services disagree: {}", each.join(" · "))
        }
    };
    let mut out = format!("<b>{env}</b> {summary}\n");
    for s in services {
        let name = escape(&s.name);
        match &s.state {
            Ok(state) => {
                let (head, detail) = service_lines(state, now, any_tag, unhealthy);
                let detail = detail.replace("\n   ", "\n      ");
                out.push_str(&format!("   {name} {head} · {detail}\n"));
            }
            Err(err) => out.push_str(&format!(
                "   {name} ⚠️ ECS error: {}\n",
                escape(&clip(err, 200))
            )),
        }
    }
    out
}

/// The version an image runs, as plain text: its tag, read as a version
/// where it is one.
fn plain_version(image: Option<&str>) -> String {
    match image.map(|i| image_tag(i).ok_or(i)) {
        None => "no image".to_owned(),
        Some(Ok(tag)) => Version::from_tag(tag).map_or_else(|| tag.to_owned(), |v| v.to_string()),
        Some(Err(_)) => "untagged".to_owned(),
    }
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

/// The store line's error (plain text: [`render_status`] escapes it).
pub fn store_unreadable(reference: &str) -> String {
    format!("store unreadable; see the bot's log (ref {reference})")
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
        out.push_str(&ecs_lines(
            &env,
            &e.services,
            r.now,
            e.auto_deploy,
            unhealthy,
        ));
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
        if let Some(freeze) = &e.freeze {
            out.push_str(&format!("   {}\n", super::freeze::status_frozen(freeze)));
        }
        if let Some(next) = &e.next_freeze {
            out.push_str(&format!("   {}\n", super::freeze::status_next(next)));
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
