//! The evidence gathered after a failure, as the process's troubleshooting
//! section asks for it: under the failure alert (its edit), and as
//! `/diagnose <env>`'s ✅/❌ checklist. Each source the bot could not read
//! is one line saying so.

use crate::alerts::format::escape;

/// How many lines of a failed step's log are shown.
pub const LOG_TAIL_LINES: usize = 15;
/// How many of the service's ECS events are shown.
pub const EVENTS_SHOWN: usize = 5;
/// How many stopped tasks are shown.
pub const STOPPED_SHOWN: usize = 3;
/// The longest line shown of a log, an event or a reason (characters).
const LINE_MAX: usize = 200;

/// What the bot found, source by source; `Err` is why a source could not
/// be read.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub env: String,
    /// A failed run's jobs and log (absent when no run failed).
    pub run: Option<RunEvidence>,
    /// Whether the bot's own ECS calls succeed.
    pub aws: Result<(), String>,
    pub events: Result<Vec<String>, String>,
    pub stopped: Result<Vec<Stopped>, String>,
    /// The health URL's answer now: status and milliseconds (`None`: no
    /// health URL configured).
    pub health: Option<Result<(u16, u64), String>>,
    pub rollback: RollbackEvidence,
}

/// A failed run: its page, failed jobs with their failed steps, and the
/// tail of the first failed job's log.
#[derive(Debug, Clone)]
pub struct RunEvidence {
    pub url: String,
    pub failed: Result<Vec<FailedJob>, String>,
    pub log_tail: Option<Result<Vec<String>, String>>,
}

#[derive(Debug, Clone)]
pub struct FailedJob {
    pub name: String,
    pub steps: Vec<String>,
}

/// A stopped task, as shown.
#[derive(Debug, Clone)]
pub struct Stopped {
    /// The service it belonged to, named in an environment of several.
    pub service: Option<String>,
    pub stop_code: Option<String>,
    pub reason: Option<String>,
    pub containers: Vec<Exited>,
}

/// A container of a stopped task.
#[derive(Debug, Clone)]
pub struct Exited {
    pub name: String,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
    /// Its hard memory limit (MiB), where one is set.
    pub memory_mib: Option<i32>,
}

/// The way back.
#[derive(Debug, Clone, Default)]
pub enum RollbackEvidence {
    /// No version was confirmed healthy there before.
    #[default]
    NoTarget,
    Target {
        version: String,
        /// The task definition carrying it, if one is still registered.
        task_definition: Result<Option<String>, String>,
        /// Migrations added since it.
        migrations: Result<Vec<String>, String>,
    },
}

fn clip(line: &str) -> String {
    let line = line.trim_end();
    if line.chars().count() <= LINE_MAX {
        return escape(line);
    }
    let cut: String = line.chars().take(LINE_MAX).collect();
    format!("{}…", escape(&cut))
}

/// The line a diagnosis starts with, under the alert.
pub const HEADING: &str = "🔎 <b>Diagnosis</b>";

/// A failure alert with the evidence under it.
pub fn alert_with_evidence(alert: &str, evidence: &Evidence) -> String {
    let mut out = format!("{alert}\n\n{HEADING}");
    if let Some(run) = &evidence.run {
        out.push_str(&run_lines(run));
    }
    for (_, line) in checklist_lines(evidence) {
        out.push('\n');
        out.push_str(&line);
    }
    out
}

/// `/diagnose <env>`'s answer: one ✅/❌ line per source.
pub fn checklist(evidence: &Evidence) -> String {
    let mut out = format!("🔎 <b>Diagnosis of {}</b>", escape(&evidence.env));
    for (ok, line) in checklist_lines(evidence) {
        out.push_str(if ok { "\n✅ " } else { "\n❌ " });
        out.push_str(&line);
    }
    out
}

fn run_lines(run: &RunEvidence) -> String {
    let mut out = String::new();
    match &run.failed {
        Ok(jobs) if jobs.is_empty() => out.push_str("\nFailed jobs: none listed"),
        Ok(jobs) => {
            for job in jobs {
                let steps = if job.steps.is_empty() {
                    String::new()
                } else {
                    let names: Vec<String> = job.steps.iter().map(|s| clip(s)).collect();
                    format!(", step <b>{}</b>", names.join("</b>, <b>"))
                };
                out.push_str(&format!("\nFailed: job <b>{}</b>{steps}", clip(&job.name)));
            }
        }
        Err(e) => out.push_str(&format!("\nFailed jobs: could not be read ({})", clip(e))),
    }
    match &run.log_tail {
        Some(Ok(lines)) if !lines.is_empty() => {
            let shown: Vec<String> = lines.iter().map(|l| clip(l)).collect();
            out.push_str(&format!(
                "\nLast {} lines of its log:\n<pre>{}</pre>",
                shown.len(),
                shown.join("\n")
            ));
        }
        Some(Ok(_)) => out.push_str("\nIts log is empty"),
        Some(Err(e)) => out.push_str(&format!("\nIts log could not be read ({})", clip(e))),
        None => {}
    }
    if !run.url.is_empty() {
        out.push_str(&format!("\n<a href=\"{}\">The run</a>", escape(&run.url)));
    }
    out
}

/// The sources after the run's, each with whether it looks well.
fn checklist_lines(e: &Evidence) -> Vec<(bool, String)> {
    let mut lines = vec![match &e.aws {
        Ok(()) => (true, "AWS credentials: ECS answers".to_owned()),
        Err(err) => (
            false,
            format!("AWS credentials: ECS refuses ({})", clip(err)),
        ),
    }];
    lines.push(match &e.events {
        Ok(events) if events.is_empty() => (true, "ECS events: none".to_owned()),
        Ok(events) => {
            let shown: Vec<String> = events
                .iter()
                .take(EVENTS_SHOWN)
                .map(|ev| format!("\n• {}", clip(ev)))
                .collect();
            (true, format!("ECS events, newest first:{}", shown.concat()))
        }
        Err(err) => (
            false,
            format!("ECS events could not be read ({})", clip(err)),
        ),
    });
    lines.push(match &e.stopped {
        Ok(tasks) if tasks.is_empty() => (
            true,
            "Stopped tasks of the last deployment: none".to_owned(),
        ),
        Ok(tasks) => {
            let shown: Vec<String> = tasks
                .iter()
                .take(STOPPED_SHOWN)
                .map(|t| format!("\n• {}", stopped_line(t)))
                .collect();
            (
                false,
                format!(
                    "Stopped tasks of the last deployment: {}{}",
                    tasks.len(),
                    shown.concat()
                ),
            )
        }
        Err(err) => (
            false,
            format!("Stopped tasks could not be read ({})", clip(err)),
        ),
    });
    match &e.health {
        None => {}
        Some(Ok((status, ms))) => lines.push((
            (200..300).contains(status),
            format!("Health URL: {status} in {ms} ms"),
        )),
        Some(Err(err)) => lines.push((false, format!("Health URL: {}", clip(err)))),
    }
    lines.push(rollback_line(&e.rollback));
    lines
}

fn stopped_line(t: &Stopped) -> String {
    let mut parts = Vec::new();
    let head = match (&t.stop_code, &t.reason) {
        (Some(code), Some(reason)) => format!("{}: {}", clip(code), clip(reason)),
        (Some(code), None) => clip(code),
        (None, Some(reason)) => clip(reason),
        (None, None) => "stopped".to_owned(),
    };
    let head = match &t.service {
        Some(service) => format!("{}: {head}", clip(service)),
        None => head,
    };
    parts.push(head);
    for Exited {
        name,
        exit_code: exit,
        reason,
        memory_mib: memory,
    } in &t.containers
    {
        if exit.is_none() && reason.is_none() {
            continue;
        }
        let mut c = clip(name);
        if let Some(reason) = reason {
            c.push_str(&format!(": {}", clip(reason)));
        }
        if let Some(code) = exit {
            c.push_str(&format!(" (exit {code})"));
        }
        if let Some(mib) = memory {
            c.push_str(&format!(" against {mib} MiB"));
        }
        parts.push(c);
    }
    parts.join("; ")
}

fn rollback_line(r: &RollbackEvidence) -> (bool, String) {
    match r {
        RollbackEvidence::NoTarget => (
            false,
            "Rollback: no version confirmed healthy here before".to_owned(),
        ),
        RollbackEvidence::Target {
            version,
            task_definition,
            migrations,
        } => {
            let (td_ok, td) = match task_definition {
                Ok(Some(name)) => (true, format!("task definition {} registered", clip(name))),
                Ok(None) => (false, "no task definition carries it any more".to_owned()),
                Err(e) => (
                    false,
                    format!("task definitions could not be read ({})", clip(e)),
                ),
            };
            let (m_ok, m) = match migrations {
                Ok(added) if added.is_empty() => (true, "no migrations since".to_owned()),
                Ok(added) => {
                    let names: Vec<String> = added.iter().map(|f| clip(f)).collect();
                    (
                        false,
                        format!("<b>migrations added since: {}</b>", names.join(", ")),
                    )
                }
                Err(e) => (
                    false,
                    format!("migrations could not be checked ({})", clip(e)),
                ),
            };
            (
                td_ok && m_ok,
                format!("Rollback to <b>{}</b>: {td}; {m}", clip(version)),
            )
        }
    }
}

/// The last `n` lines of a job's log worth showing, without GitHub's
/// timestamps.
pub fn log_tail(log: &str, n: usize) -> Vec<String> {
    let lines: Vec<&str> = log
        .lines()
        .map(strip_timestamp)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let from = lines.len().saturating_sub(n);
    lines[from..].iter().map(|l| (*l).to_owned()).collect()
}

/// GitHub starts each log line with an RFC 3339 timestamp and a space.
fn strip_timestamp(line: &str) -> &str {
    let line = line.trim_start_matches('\u{feff}');
    match line.split_once(' ') {
        Some((stamp, rest))
            if stamp.len() >= 20
                && stamp.ends_with('Z')
                && stamp.as_bytes()[4] == b'-'
                && stamp.as_bytes()[10] == b'T' =>
        {
            rest
        }
        _ => line,
    }
}

#[cfg(test)]
mod tests;
