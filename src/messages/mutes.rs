//! `/mute`, `/unmute`, and the line `/status` gives a chat's mutes.
//! Times are Unix milliseconds, durations seconds.

use crate::alerts::format::{escape, from_ms, span, utc};

/// A mute naming neither an alert kind nor an environment.
pub fn not_a_target(target: &str, kinds: &[&str], envs: &[&str]) -> String {
    format!(
        "❌ {} is neither an alert kind ({}) nor an environment ({}). Approval prompts cannot be muted.",
        escape(target),
        kinds.join(", "),
        envs.join(", ")
    )
}

/// `/mute` done: until when, for how long, and (`spared`) the last
/// environment whose failures and health alerts still come.
pub fn muted(target: &str, until: i64, secs: i64, spared: Option<&str>) -> String {
    let spared = spared
        .map(|env| {
            format!(
                " Failures and health alerts in {} still come through.",
                escape(env)
            )
        })
        .unwrap_or_default();
    format!(
        "🔕 {} alerts are muted in this chat until {} (for {}).{spared} /unmute {} ends it.",
        escape(target),
        utc(from_ms(until)),
        span(secs),
        escape(target)
    )
}

/// `/unmute` done.
pub fn unmuted(target: &str) -> String {
    format!("🔔 {} alerts come to this chat again.", escape(target))
}

/// `/unmute` of what was not muted.
pub fn not_muted(target: &str) -> String {
    format!("🔔 {} alerts were not muted here.", escape(target))
}

/// A chat's mutes as `/status` ends with them: (target, until, by whom);
/// empty without any.
pub fn status_line(mutes: &[(&str, i64, &str)]) -> String {
    if mutes.is_empty() {
        return String::new();
    }
    let list: Vec<String> = mutes
        .iter()
        .map(|(target, until, by)| {
            format!(
                "{} until {} (by {})",
                escape(target),
                utc(from_ms(*until)),
                escape(by)
            )
        })
        .collect();
    format!("\n🔕 Muted in this chat: {}", list.join("; "))
}

#[cfg(test)]
mod tests;
