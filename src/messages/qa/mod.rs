//! QA's verdict on a version that reached an environment: the question,
//! its buttons, the answers and the "found issues" alert.

use crate::alerts::format::escape;

/// "🧪 <b>Staging runs 1.3.0</b> (#7) — QA: is it good?", above the
/// Verified / Found issues buttons.
pub fn prompt(env: &str, version: &str, op: i64) -> String {
    format!(
        "🧪 <b>{} runs {}</b> (#{op}) — QA: is it good?",
        escape(&capitalise(env)),
        escape(version),
    )
}

/// The label of the "verified" button (plain text).
pub fn verified_button() -> String {
    "✅ Verified".to_owned()
}

/// The label of the "found issues" button (plain text).
pub fn found_issues_button() -> String {
    "🐞 Found issues".to_owned()
}

/// The QA prompt once someone verified the version.
pub fn verified(env: &str, version: &str, op: i64, who: &str) -> String {
    format!(
        "✅ <b>{} {}</b> (#{op}) verified by {}",
        escape(env),
        escape(version),
        escape(who)
    )
}

/// The QA prompt once someone found issues.
pub fn found_issues(env: &str, version: &str, op: i64, who: &str) -> String {
    format!(
        "🐞 <b>{} {}</b> (#{op}): {} found issues",
        escape(env),
        escape(version),
        escape(who)
    )
}

/// The alert of QA's "found issues": what, where, who, and which
/// environments now refuse it.
pub fn issues_alert(env: &str, version: &str, op: i64, who: &str, blocked: &[&str]) -> String {
    let mut text = format!(
        "🐞 <b>{} {}</b> (#{op}): {} found issues.",
        escape(env),
        escape(version),
        escape(who)
    );
    if !blocked.is_empty() {
        text.push_str(&format!(
            "\nDeploys of {} to {} are blocked until QA verifies it.",
            escape(version),
            escape(&blocked.join(", "))
        ));
    }
    text
}

/// The tap's answer to someone who may not give the verdict (plain text).
pub fn not_a_verifier(verifiers: &[&str]) -> String {
    format!("Only {} may give QA's verdict.", verifiers.join(", "))
}

/// The tap's answer when the operation is not a finished deploy (plain
/// text).
pub fn not_deployed(op: i64, state: &str) -> String {
    format!("#{op} is {state}, not a finished deploy.")
}

/// The tap's answer once the verdict is recorded (plain text).
pub fn recorded(version: &str, verified: bool) -> String {
    if verified {
        format!("Recorded: {version} verified.")
    } else {
        format!("Recorded: issues found in {version}.")
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
