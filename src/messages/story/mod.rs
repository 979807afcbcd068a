//! The steps of an operation's story, each edited into the operation's
//! message (or sent where a chat has none): started, running, confirming,
//! succeeded, failed, unhealthy, no run, dispatch failed or unknown,
//! expired; and a run started outside the bot.
//!
//! `what` and `who` arguments are the HTML of [`what`] and [`who`].

use crate::alerts::format::{clip, escape, link, span};
use crate::domain::{OperationKind, ReleaseType};
use crate::store::OperationRow;

/// What an operation does: "<b>prod</b> · deploy of <b>1.3.0</b>".
pub fn what(op: &OperationRow) -> String {
    let env = escape(op.env_name().unwrap_or_default());
    let version = escape(&op.version);
    match op.kind {
        OperationKind::Release => match op.release_type {
            Some(kind) => format!("<b>Release {version}</b> ({})", escape(kind.as_str())),
            None => format!("<b>Release {version}</b>"),
        },
        OperationKind::Rollback => format!("<b>{env}</b> · rollback to <b>{version}</b>"),
        OperationKind::Deploy => format!("<b>{env}</b> · deploy of <b>{version}</b>"),
    }
}

/// Who stands behind an operation: "Asked by Ann · approved by Bob", or
/// that it was started outside the bot (`requester` is `None`).
pub fn who(requester: Option<&str>, approvers: &[String]) -> String {
    let Some(requester) = requester else {
        return "Started outside the bot".to_owned();
    };
    let mut who = format!("Asked by {}", escape(requester));
    if !approvers.is_empty() {
        who.push_str(&format!(" · approved by {}", escape(&approvers.join(", "))));
    }
    who
}

fn icon(op: &OperationRow) -> &'static str {
    if op.kind == OperationKind::Rollback {
        "⏪"
    } else {
        "🚀"
    }
}

/// The workflow was dispatched: the operation's "started" message.
pub fn started(op: &OperationRow, who: &str, run_url: Option<&str>) -> String {
    let run_link = run_url
        .map(|u| format!("\n{}", link(u, "Workflow run")))
        .unwrap_or_default();
    format!(
        "{} {} started (#{})\n{who}{run_link}",
        icon(op),
        what(op),
        op.id
    )
}

/// GitHub's answer to the dispatch was unclear: the run may exist.
pub fn dispatch_unknown(op: &OperationRow, error: &str, who: &str) -> String {
    format!(
        "⚠️ {} (#{}): GitHub did not answer clearly ({}). The run may have started; \
         looking for it by its request id <code>{}</code>.\n{who}",
        what(op),
        op.id,
        escape(error),
        escape(&op.request_id)
    )
}

/// The requester's answer when the dispatch's outcome is unknown (plain
/// text).
pub fn dispatch_unknown_answer(error: &str) -> String {
    format!("GitHub did not answer clearly ({error}); looking for the run")
}

/// GitHub refused the dispatch.
pub fn dispatch_failed(op: &OperationRow, error: &str, who: &str) -> String {
    format!(
        "❌ {} (#{}) could not be dispatched: {}\n{who}",
        what(op),
        op.id,
        escape(error)
    )
}

/// The line a failed rollback dispatch adds above the direct-rollback
/// button (appended to [`dispatch_failed`] or [`dispatch_unknown`]).
pub fn direct_rollback_offer() -> String {
    "\nGitHub cannot run the Rollback workflow? An approver can roll back on ECS directly, bypassing it:"
        .to_owned()
}

/// "running (3/5 jobs)": the run's progress, as its jobs finish.
pub fn running(
    op: &OperationRow,
    done: usize,
    total: usize,
    failed: &[&str],
    who: &str,
    run_url: &str,
) -> String {
    let mut text = format!(
        "{} {} running ({done}/{total} jobs) (#{})\n{who}",
        icon(op),
        what(op),
        op.id
    );
    if !failed.is_empty() {
        text.push_str(&format!(
            "\n⚠️ Failed so far: {}",
            escape(&clip(&failed.join(", "), 300))
        ));
    }
    text.push_str(&format!("\n{}", link(run_url, "Workflow run")));
    text
}

/// " in 2m 5s" after a run's outcome, when its times are known.
fn took(seconds: Option<i64>) -> String {
    seconds
        .map(|s| format!(" in {}", span(s)))
        .unwrap_or_default()
}

/// A deploy's or rollback's run succeeded; ECS is being checked.
pub fn confirming(op: &OperationRow, took_secs: Option<i64>, who: &str, run_url: &str) -> String {
    format!(
        "🔎 {}: the run succeeded{}; confirming on ECS (#{})\n{who}\n{}",
        what(op),
        took(took_secs),
        op.id,
        link(run_url, "Workflow run")
    )
}

/// A Release run succeeded but GitHub lists no release for it yet.
pub fn release_not_listed(op: &OperationRow, took_secs: Option<i64>, run_url: &str) -> String {
    format!(
        "📦 <b>Release {}</b>: the Release workflow succeeded (#{}){}, but GitHub shows no release yet\n{}",
        escape(&op.version),
        op.id,
        took(took_secs),
        link(run_url, "Release run")
    )
}

/// The run failed: its conclusion, failed jobs and logs.
pub fn failed(op: &OperationRow, conclusion: &str, jobs: &[String], logs_url: &str) -> String {
    let mut text = format!(
        "❌ {} failed (#{}): {}",
        what(op),
        op.id,
        escape(conclusion)
    );
    if !jobs.is_empty() {
        text.push_str(&format!(
            "\nFailed jobs: {}",
            escape(&clip(&jobs.join(", "), 600))
        ));
    }
    text.push_str(&format!("\n{}", link(logs_url, "Logs")));
    text
}

/// The short new message under an edited failure, so phones ring.
pub fn failed_ring(op: &OperationRow) -> String {
    format!("❌ {} failed (#{}) ↑", what(op), op.id)
}

/// No run with the operation's request id appeared in time.
pub fn no_run(op: &OperationRow, waited_secs: i64) -> String {
    let env = op.env_name().unwrap_or_default();
    format!(
        "❌ #{} ({} {}{}): no workflow run with request id <code>{}</code> appeared within {}. \
         Check GitHub Actions before trying again.",
        op.id,
        escape(op.kind.as_str()),
        escape(&op.version),
        if env.is_empty() {
            String::new()
        } else {
            format!(" → {}", escape(env))
        },
        escape(&op.request_id),
        span(waited_secs)
    )
}

/// What ECS (and the health URL) confirmed: "ECS: 2/2 tasks on
/// api:7 · health 200". Also kept as the operation's detail.
pub fn checks_held(running: i32, task_definition: &str, health: Option<u16>) -> String {
    let mut checks = format!(
        "ECS: {running}/{running} tasks on {}",
        escape(task_definition)
    );
    if let Some(status) = health {
        checks.push_str(&format!(" · health {status}"));
    }
    checks
}

/// What did not hold after a run (`why` is plain text), and, when the
/// time ran out, after how long. Also kept as the operation's detail.
pub fn checks_failed(why: &str, after_secs: Option<i64>) -> String {
    match after_secs {
        Some(secs) => escape(&format!("{why} after {}", span(secs))),
        None => escape(why),
    }
}

/// The link to a deploy's or rollback's run, on its own line.
fn run_line(op: &OperationRow, run_url: Option<&str>) -> String {
    let label = if op.kind == OperationKind::Rollback {
        "Rollback run"
    } else {
        "Deploy run"
    };
    run_url
        .map(|url| format!("\n{}", link(url, label)))
        .unwrap_or_default()
}

/// ECS confirmed a deploy or rollback; `checks` from [`checks_held`];
/// `locked_from`, the version a rollback left, when it locks the
/// environment.
pub fn succeeded(
    op: &OperationRow,
    took_secs: i64,
    checks: &str,
    locked_from: Option<&str>,
) -> String {
    let env = op.env_name().unwrap_or_default();
    let done = if op.kind == OperationKind::Rollback {
        format!("rolled back to <b>{}</b>", escape(&op.version))
    } else {
        format!("<b>{}</b> deployed", escape(&op.version))
    };
    let mut text = format!(
        "✅ <b>{}</b> · {done} (#{}) in {}\n{checks}{}",
        escape(env),
        op.id,
        span(took_secs),
        run_line(op, op.run_url.as_deref())
    );
    if let Some(from) = locked_from {
        text.push_str(&format!(
            "\n🔒 {} is locked now ({}), so nobody redeploys {} by reflex. /unlock {} once a fix is out.",
            escape(env),
            escape(&rollback_lock_reason(from, &op.version)),
            escape(from),
            escape(env)
        ));
    }
    text
}

/// The reason of the lock a rollback leaves (plain text: `/status` shows
/// it as the lock's reason).
pub fn rollback_lock_reason(from: &str, to: &str) -> String {
    format!("rolled back from {from} to {to}")
}

/// The label of the button under a finished rollback (plain text).
pub fn incident_report_button() -> String {
    "📝 Open incident report".to_owned()
}

/// A deploy or rollback that ran but did not hold; `checks` from
/// [`checks_failed`].
pub fn unhealthy(op: &OperationRow, checks: &str) -> String {
    let how = if op.direct_ecs {
        "The rollback went to ECS directly".to_owned()
    } else {
        format!("The {} run succeeded", op.kind)
    };
    format!(
        "⚠️ <b>{}</b> · <b>{}</b> deployed but unhealthy (#{})\n{how}, but {checks}{}",
        escape(op.env_name().unwrap_or_default()),
        escape(&op.version),
        op.id,
        run_line(op, op.run_url.as_deref())
    )
}

/// The short new message under an edited "unhealthy", so phones ring.
pub fn unhealthy_ring(op: &OperationRow) -> String {
    format!(
        "⚠️ <b>{}</b> · <b>{}</b> deployed but unhealthy (#{}) ↑",
        escape(op.env_name().unwrap_or_default()),
        escape(&op.version),
        op.id
    )
}

/// A release request nobody confirmed in time.
pub fn release_expired(op: &OperationRow, waited_secs: i64) -> String {
    format!(
        "⌛ <b>Release {} ({})</b> · #{}\nNot confirmed within {}; nothing was released.",
        escape(&op.version),
        escape(op.release_type.map_or("?", ReleaseType::as_str)),
        op.id,
        span(waited_secs)
    )
}

/// A deploy or rollback request nobody decided in time.
pub fn request_expired(op: &OperationRow, requester: &str, waited_secs: i64) -> String {
    let title = super::approvals::op_title(op);
    format!(
        "⌛ <b>{title}</b> · #{}\nAsked by {}\nExpired after {} with no decision. Ask again if it is still wanted.",
        op.id,
        escape(requester),
        span(waited_secs)
    )
}

/// A run of a workflow the bot did not start, adopted; `{op}` stands for
/// the operation's id (known once stored). `alongside`: the operation
/// that holds the environment meanwhile.
pub fn adopted(
    kind: OperationKind,
    env: Option<&str>,
    version: &str,
    alongside: Option<&OperationRow>,
    run_url: &str,
) -> String {
    let env = escape(env.unwrap_or_default());
    let version = escape(version);
    let what = match kind {
        OperationKind::Deploy => format!("🚀 <b>{env}</b> · deploy of <b>{version}</b>"),
        OperationKind::Rollback => format!("⏪ <b>{env}</b> · rollback to <b>{version}</b>"),
        OperationKind::Release => format!("📦 <b>Release {version}</b>"),
    };
    let mut text = format!("{what} started (#{{op}}) outside the bot");
    if let Some(live) = alongside {
        text.push_str(&format!(
            "\n⚠️ #{} ({}, {}) is still open there",
            live.id,
            self::what(live),
            escape(&live.state.to_string())
        ));
    }
    text.push_str(&format!("\n{}", link(run_url, "Workflow run")));
    text
}

#[cfg(test)]
mod tests;
