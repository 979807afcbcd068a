//! The incident tools' answers: who may use them, `/cancel <id>`, and the
//! incident report after a rollback — its tap answers and alert (Telegram
//! HTML) and the GitHub issue itself (title as plain text, body as GitHub
//! Markdown: the `_md` functions escape for Markdown, not HTML).

use crate::alerts::format::{escape, from_ms, link, span};
use crate::domain::OperationKind;
use crate::store::{AlertEvent, AuditRow, OperationRow};

/// A command for `roles` only (`what`: "Locking", "Muting", …).
pub fn not_your_role(what: &str, roles: &[&str]) -> String {
    format!(
        "⛔ {what} is for: {}. You hold none of these roles.",
        escape(&roles.join(", "))
    )
}

/// `/cancel <id>` of an id the store does not know.
pub fn no_such_request(id: i64) -> String {
    format!("There is no request #{id}.")
}

/// `/cancel <id>` of someone else's request, by someone without `roles`.
pub fn not_yours_to_withdraw(id: i64, requester: &str, roles: &[&str]) -> String {
    format!(
        "⛔ #{id} is {}'s request: only they, or {}, may withdraw it.",
        escape(requester),
        escape(&roles.join(", "))
    )
}

/// `/cancel <id>` of a request that ended, or whose workflow was
/// dispatched.
pub fn too_late_to_withdraw(op: &OperationRow) -> String {
    if op.state.is_final() {
        format!("#{} is {} already.", op.id, op.state)
    } else {
        format!(
            "#{} is {}: its workflow was dispatched, so it cannot be withdrawn here. Cancel the run in GitHub Actions.",
            op.id, op.state
        )
    }
}

/// A withdrawn request's prompt, edited.
pub fn withdrawn(op: &OperationRow, requester: &str, by: &str) -> String {
    let title = match op.kind {
        OperationKind::Release => format!("Release {}", escape(&op.version)),
        _ => super::approvals::op_title(op),
    };
    format!(
        "🚫 <b>{title}</b> · #{}\nAsked by {}\nWithdrawn by {}. Nothing was dispatched.",
        op.id,
        escape(requester),
        escape(by)
    )
}

/// The answer to `/cancel <id>` that withdrew it.
pub fn withdrawn_reply(id: i64) -> String {
    format!("🚫 #{id} withdrawn.")
}

/// `/cancel <id>` that lost to the request moving on.
pub fn moved_on(id: i64) -> String {
    format!("#{id} moved on meanwhile; nothing was withdrawn.")
}

/// A tap on "Open incident report" by someone who may not roll back
/// there (plain text: a tap's answer).
pub fn report_not_allowed() -> String {
    "Only those who may roll back here may open its incident report.".to_owned()
}

/// A tap on "Open incident report" once it is open (plain text).
pub fn report_already_opened(number: i64, url: &str) -> String {
    format!("Already opened: issue #{number} ({url}).")
}

/// A tap on "Open incident report" while another opens it (plain text).
pub fn report_underway() -> String {
    "It is being opened right now.".to_owned()
}

/// The tapper's answer once GitHub opened the issue (plain text).
pub fn report_opened_answer(number: i64) -> String {
    format!("Opened issue #{number}.")
}

/// GitHub did not open the issue; `error` says why (plain text).
pub fn report_not_opened(error: &str) -> String {
    format!("GitHub did not open the issue ({error}). Tap again in a moment.")
}

/// The team's alert: the incident report of rollback `op` is open.
pub fn report_opened(op: &OperationRow, number: u64, url: &str, by: &str) -> String {
    format!(
        "📝 Incident report for the rollback of <b>{}</b> to <b>{}</b> (#{}): {}\nOpened by {}.",
        escape(op.env_name().unwrap_or_default()),
        escape(&op.version),
        op.id,
        link(url, &format!("issue #{number}")),
        escape(by)
    )
}

/// Something that happened to the operations of an incident, for its
/// timeline.
pub enum Moment<'a> {
    /// An audit line, with its actor's name (`None`: the bot).
    Audit {
        row: &'a AuditRow,
        who: Option<String>,
    },
    /// An alert the bot sent (Telegram HTML, shown as text).
    Alert(&'a AlertEvent),
}

/// What an incident report tells.
pub struct Report<'a> {
    /// The rollback the report is about.
    pub rollback: &'a OperationRow,
    /// The version rolled back from, if known.
    pub from: Option<&'a str>,
    /// Who asked for the rollback.
    pub asked_by: &'a str,
    /// In time order.
    pub timeline: Vec<Moment<'a>>,
    /// The deploy that brought the bad version (if the bot ran it), the
    /// failures since, then the rollback.
    pub runs: Vec<&'a OperationRow>,
    /// How long the environment was down, if the bot alerted its failure.
    pub recovery: Option<Recovery>,
    /// Who took each failure ("I'm on it"), and how long after its
    /// first alert (seconds).
    pub taken: Vec<Taken>,
    /// The evidence the bot gathered after each failure: its operation
    /// and the diagnosis edited into its alert (Telegram HTML).
    pub diagnoses: Vec<(i64, String)>,
}

/// A failure someone took.
pub struct Taken {
    pub op: i64,
    pub by: String,
    pub after_secs: i64,
}

/// From the first failure alert of the deploy rolled back to the
/// environment's recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// The deploy that went wrong.
    pub failed: i64,
    /// When its first failure alert was raised (Unix ms).
    pub alerted_at: i64,
    /// The next operation there confirmed healthy and when (Unix ms);
    /// `None`: none yet.
    pub recovered: Option<(i64, i64)>,
    /// The bot asked for the rollback by itself (`rollback.auto`).
    pub automatic: bool,
}

/// The title (plain text: GitHub shows titles as they are).
pub fn incident_report_title(r: &Report<'_>) -> String {
    format!(
        "Incident: {} rolled back from {} to {}",
        r.rollback.env_name().unwrap_or_default(),
        r.from.unwrap_or("?"),
        r.rollback.version
    )
}

/// The body, in GitHub Markdown: people's words escaped for it.
pub fn incident_report_body_md(r: &Report<'_>) -> String {
    let env = r.rollback.env_name().unwrap_or_default();
    let mut body = format!(
        "**{env}** was rolled back from **{}** to **{}** (operation #{}), asked by {}.\n\n",
        md(r.from.unwrap_or("?")),
        md(&r.rollback.version),
        r.rollback.id,
        md(r.asked_by)
    );
    if let Some(recovery) = &r.recovery {
        body.push_str(&recovery_md(recovery, env));
    }
    body.push_str("## Timeline (UTC)\n\n");
    for moment in &r.timeline {
        body.push_str(&match moment {
            Moment::Audit { row, who } => audit_line_md(row, who.as_deref()),
            Moment::Alert(alert) => alert_line_md(alert),
        });
        body.push('\n');
    }
    if !r.taken.is_empty() {
        body.push_str("\n## Taken\n\n");
        for t in &r.taken {
            body.push_str(&format!(
                "- #{} taken by {} {} after its first alert\n",
                t.op,
                md(&t.by),
                crate::alerts::format::span(t.after_secs)
            ));
        }
    }
    if !r.diagnoses.is_empty() {
        body.push_str("\n## Diagnosis\n");
        for (op, html) in &r.diagnoses {
            body.push_str(&diagnosis_md(*op, html));
        }
    }
    body.push_str("\n## Runs\n\n");
    for op in &r.runs {
        let what = if op.kind == OperationKind::Rollback {
            format!("Rollback of {env} to {}", op.version)
        } else {
            format!("Deploy of {} to {env}", op.version)
        };
        match &op.run_url {
            Some(url) => body.push_str(&format!("- {what} (#{}): {url}\n", op.id)),
            None => body.push_str(&format!(
                "- {what} (#{}): no workflow run (done directly on ECS, or never started)\n",
                op.id
            )),
        }
    }
    body.push_str(
        "\n## Post-rollback (RELEASE_PROCESS.md)\n\n\
         - [ ] Document the issues\n\
         - [ ] Plan fixes in a new release\n\
         - [ ] Unlock the environment once the fix is out\n",
    );
    body
}

/// The evidence gathered after failure `op`, as its alert showed it
/// (`html`: the alert with its diagnosis), in a block of plain text.
fn diagnosis_md(op: i64, html: &str) -> String {
    let evidence = html
        .split_once(super::diagnosis::HEADING)
        .map_or(html, |(_, evidence)| evidence);
    // Plain text in a fence no line of it can close.
    let text = strip_html(evidence).replace("~~~", "~ ~ ~");
    format!("\nAfter #{op}:\n\n~~~text\n{}\n~~~\n", text.trim())
}

/// The report's lines on the outage: an automatic rollback, and the
/// time from the first failure alert to recovery.
fn recovery_md(r: &Recovery, env: &str) -> String {
    let mut out = String::new();
    if r.automatic {
        out.push_str(&format!(
            "The bot asked for this rollback itself after deploy #{} went wrong (automatic rollback, `environments.{env}.rollback.auto`).\n\n",
            r.failed
        ));
    }
    let alerted = from_ms(r.alerted_at).format("%Y-%m-%d %H:%M:%S");
    match r.recovered {
        Some((op, at)) => out.push_str(&format!(
            "**Time to recovery: {}**, from the first failure alert (`{alerted}` UTC) to #{op} confirmed healthy (`{}` UTC).\n\n",
            span((at - r.alerted_at) / 1000),
            from_ms(at).format("%Y-%m-%d %H:%M:%S"),
        )),
        None => out.push_str(&format!(
            "**Not recovered yet**: nothing was confirmed healthy in {env} since the first failure alert (`{alerted}` UTC).\n\n"
        )),
    }
    out
}

fn audit_line_md(row: &AuditRow, who: Option<&str>) -> String {
    let at = from_ms(row.at).format("%Y-%m-%d %H:%M:%S");
    let op = row
        .operation_id
        .map(|o| format!(" #{o}"))
        .unwrap_or_default();
    // Details carry people's words (reasons, refusals): text, never
    // markup, in the issue.
    let detail = if row.detail.is_empty() {
        String::new()
    } else {
        format!(" — {}", md(&row.detail))
    };
    let who = md(who.unwrap_or("the bot"));
    format!(
        "- `{at}` {who}:{op} {} → {}{detail}",
        row.action, row.outcome
    )
}

/// An alert as a timeline line: its first line, without the HTML.
fn alert_line_md(alert: &AlertEvent) -> String {
    let at = from_ms(alert.at).format("%Y-%m-%d %H:%M:%S");
    let first = alert.text.lines().next().unwrap_or_default();
    format!(
        "- `{at}` alert ({}): {}",
        alert.kind,
        md(&strip_html(first))
    )
}

/// Text as GitHub Markdown shows it literally: the punctuation that
/// makes inline markup escaped (no links, emphasis, code, HTML, tables or
/// mentions made of someone's words), line breaks made spaces (no new
/// block: a heading or a list needs a line of its own).
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '@' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Telegram HTML to plain text: tags dropped, entities decoded.
pub(crate) fn strip_html(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests;
