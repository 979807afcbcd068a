//! `/lock`, `/unlock` and the lock keeper: the alerts the team gets and
//! the answers in the chat that asked. Times are Unix milliseconds,
//! durations seconds.

use crate::alerts::format::{escape, from_ms, span, utc};

/// The team's alert: `env` locked. `lasts`: when it lifts itself and
/// for how long (seconds), if it was given a duration.
pub fn locked(env: &str, by: &str, reason: &str, lasts: Option<(i64, i64)>) -> String {
    let until = match lasts {
        Some((at, secs)) => format!(
            "until {} (for {}), then it lifts itself",
            utc(from_ms(at)),
            span(secs)
        ),
        None => format!("until /unlock {}", escape(env)),
    };
    format!(
        "🔒 <b>{}</b> locked by {}: {}\nDeploys wait {until}; rollbacks still go.",
        escape(env),
        escape(by),
        escape(reason)
    )
}

/// The answer to `/lock` in a chat the alert does not go to.
pub fn locked_reply(env: &str) -> String {
    format!("🔒 {} is locked; the team chat is told.", escape(env))
}

/// `/lock` of an environment someone holds already.
pub fn already_locked(env: &str, holder: &str, locked_at: i64, reason: &str) -> String {
    format!(
        "🔒 {} is already locked by {} since {}: {}. /unlock {} first to change it.",
        escape(env),
        escape(holder),
        utc(from_ms(locked_at)),
        escape(reason),
        escape(env)
    )
}

/// `/unlock` of an environment nobody holds.
pub fn not_locked(env: &str) -> String {
    format!("🔓 {} is not locked.", escape(env))
}

/// The team's alert: `env` unlocked by `by`; `held` seconds.
pub fn unlocked(env: &str, by: &str, holder: &str, held: i64, reason: &str) -> String {
    format!(
        "🔓 <b>{}</b> unlocked by {} (locked by {} for {}: {}).",
        escape(env),
        escape(by),
        escape(holder),
        span(held),
        escape(reason)
    )
}

/// The answer to `/unlock` in a chat the alert does not go to.
pub fn unlocked_reply(env: &str) -> String {
    format!("🔓 {} is unlocked.", escape(env))
}

/// `/unlock` that lost to another unlock (or the lock lifting itself).
pub fn unlocked_meanwhile(env: &str) -> String {
    format!("🔓 {} was unlocked meanwhile.", escape(env))
}

/// The team's alert: a lock with a duration lifted itself after `lasted`
/// seconds.
pub fn lifted(env: &str, lasted: i64, holder: &str, reason: &str) -> String {
    format!(
        "🔓 <b>{}</b>'s lock lifted itself after {} (locked by {}: {}). Deploys go again.",
        escape(env),
        span(lasted),
        escape(holder),
        escape(reason)
    )
}

/// The team's reminder of a lock without a duration, held `held` seconds.
pub fn reminder(env: &str, holder: &str, locked_at: i64, held: i64, reason: &str) -> String {
    format!(
        "🔒 Reminder: <b>{}</b> is still locked by {} since {} ({} ago): {}. /unlock {} when it is over.",
        escape(env),
        escape(holder),
        utc(from_ms(locked_at)),
        span(held),
        escape(reason),
        escape(env)
    )
}

#[cfg(test)]
mod tests;
