//! The process's post-rollback step ("Document the issues, Create incident
//! report, Plan fixes"): one tap on a completed rollback's alert opens a
//! GitHub issue whose timeline comes from the audit log and the alerts —
//! the deploy that was rolled back, who approved it, what was alerted, the
//! rollback itself — with links to the runs.

use super::App;
use super::taps::{Tap, TapAnswer};
use crate::alerts::format::{escape, from_ms, link};
use crate::alerts::{self, Rendered};
use crate::domain::{AlertKey, OpStep};
use crate::domain::{AlertKind, OperationId, OperationKind, OperationState};
use crate::store::{AlertEvent, AuditRow, OperationRow, ReportClaim};

impl App {
    /// A tap on "Open incident report" (`i:{op}:o`).
    pub(super) async fn incident_report_tap(&self, tap: &Tap, id: OperationId) -> TapAnswer {
        let refuse = |text: String| TapAnswer { text, alert: true };
        let op = self.store.operation(id).await.ok().flatten();
        let Some(op) = op.filter(|op| {
            op.kind == OperationKind::Rollback
                && matches!(
                    op.state,
                    OperationState::Succeeded | OperationState::Unhealthy
                )
        }) else {
            let text = "This button is not one of mine.".to_owned();
            return self.refuse_tap(tap, "report", "forged", None, text).await;
        };
        let id = OperationId(op.id);
        let env = op.env_name().unwrap_or_default().to_owned();
        let cfg = op
            .env
            .as_ref()
            .and_then(|e| self.config.environments.get(e));
        let rollback = cfg.map(super::approvals::rollback_policy);
        let allowed = self.config.user(tap.user).is_some_and(|u| {
            crate::domain::may_open_report(&u.roles, &self.config.incident.roles, rollback.as_ref())
        });
        if !allowed {
            let text = "Only those who may roll back here may open its incident report.".to_owned();
            return self
                .refuse_tap(tap, "report", "not_allowed", Some(id), text)
                .await;
        }
        match self.store.claim_report(id, tap.user).await {
            Ok(ReportClaim::Mine) => {}
            Ok(ReportClaim::Opened(number, url)) => {
                return TapAnswer {
                    text: format!("Already opened: issue #{number} ({url})."),
                    alert: true,
                };
            }
            Ok(ReportClaim::Underway) => {
                return TapAnswer {
                    text: "It is being opened right now.".into(),
                    alert: true,
                };
            }
            Err(e) => return refuse(self.internal_failure("incident report: store", &e)),
        }
        let (title, body) = self.incident_report(&op).await;
        let labels = &self.config.github.incident_labels;
        match self.github.create_issue(&title, &body, labels).await {
            Ok((number, url)) => {
                let text = format!(
                    "📝 Incident report for the rollback of <b>{}</b> to <b>{}</b> (#{}): {}\nOpened by {}.",
                    escape(&env),
                    escape(&op.version),
                    op.id,
                    link(&url, &format!("issue #{number}")),
                    escape(&self.name_of(tap.user.0))
                );
                let alerts = alerts::route(
                    &self.config,
                    &Rendered {
                        kind: AlertKind::Rollback,
                        env: op.env.clone(),
                        key: AlertKey::op(OperationId(op.id), OpStep::Report),
                        text,
                    },
                );
                let number = i64::try_from(number).unwrap_or(i64::MAX);
                if let Err(e) = self.store.report_opened(id, number, &url, &alerts).await {
                    tracing::error!(error = %e, operation = op.id, "report not recorded");
                }
                self.audit_quietly(self.audit(
                    Some(tap.user),
                    tap.chat,
                    "report:open",
                    "opened",
                    Some(id),
                    url.clone(),
                ))
                .await;
                self.outbox.notify_one();
                TapAnswer {
                    text: format!("Opened issue #{number}."),
                    alert: false,
                }
            }
            Err(e) => {
                let _ = self.store.release_report(id).await;
                refuse(format!(
                    "GitHub did not open the issue ({e}). Tap again in a moment."
                ))
            }
        }
    }

    /// The issue's title and Markdown body.
    async fn incident_report(&self, rollback: &OperationRow) -> (String, String) {
        let env = rollback.env_name().unwrap_or_default().to_owned();
        let from = rollback.ran_before().map(str::to_owned);
        // The deploy that brought the bad version, if the bot ran it.
        let deploy = match (&from, &rollback.env) {
            (Some(from), Some(in_env)) => self
                .store
                .succeeded_in(in_env, 1000)
                .await
                .unwrap_or_default()
                .into_iter()
                .find(|o| {
                    o.id < rollback.id
                        && o.kind == OperationKind::Deploy
                        && crate::adapters::ecs::tag_is_version(from, &o.version)
                }),
            _ => None,
        };
        let mut ops: Vec<&OperationRow> = deploy.iter().collect();
        ops.push(rollback);
        let ids: Vec<i64> = ops.iter().map(|o| o.id).collect();
        let audit = self.store.audit_of(&ids).await.unwrap_or_default();
        let alerts = self.store.alerts_of(&ids).await.unwrap_or_default();
        let from_text = from.clone().unwrap_or_else(|| "?".into());
        let title = format!(
            "Incident: {env} rolled back from {from_text} to {}",
            rollback.version
        );
        let mut body = format!(
            "**{env}** was rolled back from **{}** to **{}** (operation #{}), asked by {}.\n\n",
            md(&from_text),
            md(&rollback.version),
            rollback.id,
            md(&self.name_of(rollback.requested_by))
        );
        body.push_str("## Timeline (UTC)\n\n");
        let mut lines: Vec<(i64, String)> = audit
            .iter()
            .filter(|row| !row.action.starts_with("tap:") || row.outcome == "recorded")
            .map(|row| (row.at, self.timeline_line(row)))
            .collect();
        lines.extend(alerts.iter().map(|a| (a.at, alert_line(a))));
        lines.sort_by_key(|(at, _)| *at);
        for (_, line) in &lines {
            body.push_str(line);
            body.push('\n');
        }
        body.push_str("\n## Runs\n\n");
        for op in &ops {
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
        (title, body)
    }

    fn timeline_line(&self, row: &AuditRow) -> String {
        let who = row
            .actor
            .map(|a| self.name_of(a))
            .unwrap_or_else(|| "the bot".into());
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
        let who = md(&who);
        format!(
            "- `{at}` {who}:{op} {} → {}{detail}",
            row.action, row.outcome
        )
    }
}

/// An alert as a timeline line: its first line, without the HTML.
fn alert_line(alert: &AlertEvent) -> String {
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
fn strip_html(html: &str) -> String {
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
mod tests {
    use super::{md, strip_html};

    #[test]
    fn peoples_words_are_text_in_the_issue() {
        assert_eq!(
            md("db on **fire** [click](http://x) <img src=x> @team | ~~x~~\n## Resolved"),
            "db on \\*\\*fire\\*\\* \\[click\\](http://x) \\<img src=x\\> \\@team \\| \\~\\~x\\~\\~ ## Resolved"
        );
        // The bot's own words come through as they are.
        assert_eq!(
            md("1.3.0 to prod; needs 1 approval(s) (#2)"),
            "1.3.0 to prod; needs 1 approval(s) (#2)"
        );
        assert_eq!(md("a_b `c` \\"), "a\\_b \\`c\\` \\\\");
    }

    #[test]
    fn html_becomes_plain_text() {
        assert_eq!(
            strip_html("✅ <b>prod</b> · <a href=\"x\">Run</a> &lt;1&gt; &amp; more"),
            "✅ prod · Run <1> & more"
        );
    }
}
