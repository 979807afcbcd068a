//! Freezes: the refusal of a deploy inside one, the override's loud
//! alert, `/freeze` and `/unfreeze` and their alerts, and the `/status`
//! lines. Times are UTC; a window's own schedule says it in its zone.

use chrono::{DateTime, Utc};

use crate::alerts::format::{clip, escape, span, utc};
use crate::domain::Role;
use crate::domain::freeze::{FreezeSource, Frozen, Upcoming};

/// Where a freeze comes from, as the chat says it (HTML).
fn source(f: &Frozen) -> String {
    match &f.source {
        FreezeSource::Window(schedule) => format!("window {}", escape(&schedule.to_string())),
        FreezeSource::AdHoc { by } => format!("/freeze by {}", escape(by)),
    }
}

/// A deploy refused inside a freeze: which one, until when, and the way
/// out for an approver.
pub fn frozen_refusal(env: &str, f: &Frozen, tag: &str) -> String {
    format!(
        "🧊 {env} is frozen until {}: {} ({}).\nDeploys wait until then; rollbacks still go. \
         An approver of {env} may deploy anyway: <code>/deploy {env} {} --override-freeze &lt;reason&gt;</code>",
        utc(f.until),
        escape(&f.reason),
        source(f),
        escape(tag),
        env = escape(env),
    )
}

/// An override asked by someone who may not approve deploys there.
pub fn not_an_overrider(env: &str, roles: &[Role]) -> String {
    let roles: Vec<&str> = roles.iter().map(Role::as_str).collect();
    format!(
        "⛔ Only {} may override a freeze on {}.",
        escape(&roles.join(", ")),
        escape(env)
    )
}

/// The team's loud alert: a deploy asked inside a freeze, overridden
/// (`{op}` stands for its id).
pub fn override_alert(requester: &str, env: &str, tag: &str, f: &Frozen, reason: &str) -> String {
    format!(
        "🚨 <b>FREEZE OVERRIDE</b>: {} deploys <b>{}</b> to <b>{}</b> inside the freeze \"{}\" \
         ({}, until {}) (#{{op}}).\nReason: {}",
        escape(requester),
        escape(tag),
        escape(env),
        escape(&f.reason),
        source(f),
        utc(f.until),
        escape(reason)
    )
}

/// What a freeze in force says where plain text is wanted (a request
/// cancelled at dispatch because of it).
pub fn frozen_plain(env: &str, f: &Frozen) -> String {
    format!("{env} is frozen until {}: {}", utc(f.until), f.reason)
}

/// The team's alert: `/freeze` of `scope` (an environment, or all) for
/// `secs` seconds.
pub fn frozen(scope: &str, by: &str, reason: &str, until: DateTime<Utc>, secs: i64) -> String {
    let what = if scope == "all" {
        "All environments".to_owned()
    } else {
        format!("<b>{}</b>", escape(scope))
    };
    format!(
        "🧊 {what} frozen by {} until {} (for {}): {}\nDeploys wait; rollbacks still go. \
         Approvers may override with --override-freeze.",
        escape(by),
        utc(until),
        span(secs),
        escape(reason)
    )
}

/// The answer to `/freeze` in a chat the alert does not go to.
pub fn frozen_reply(scope: &str) -> String {
    format!("🧊 {} is frozen; the team chat is told.", escape(scope))
}

/// `/freeze` of a scope frozen already.
pub fn already_frozen(scope: &str, by: &str, until: DateTime<Utc>, reason: &str) -> String {
    format!(
        "🧊 {scope} is already frozen by {} until {}: {}. /unfreeze {scope} first to change it.",
        escape(by),
        utc(until),
        escape(reason),
        scope = escape(scope),
    )
}

/// `/unfreeze` of a scope with no freeze made by `/freeze`.
pub fn not_frozen(scope: &str) -> String {
    format!(
        "🧊 {} has no freeze made with /freeze (windows in bot.toml stay; /status shows them).",
        escape(scope)
    )
}

/// `/unfreeze <env>` where only a freeze of all environments holds it.
pub fn frozen_with_all(env: &str) -> String {
    format!(
        "🧊 {} has no freeze of its own: it is frozen with all environments. /unfreeze all lifts that.",
        escape(env)
    )
}

/// The team's alert: the freeze of `scope` lifted by hand.
pub fn unfrozen(scope: &str, by: &str, holder: &str, reason: &str) -> String {
    format!(
        "🌤 {} unfrozen by {} (frozen by {}: {}). Deploys go again, unless a window in bot.toml holds them.",
        escape(scope),
        escape(by),
        escape(holder),
        escape(reason)
    )
}

/// The answer to `/unfreeze` in a chat the alert does not go to.
pub fn unfrozen_reply(scope: &str) -> String {
    format!("🌤 {} is unfrozen.", escape(scope))
}

/// `/unfreeze` that lost to another, or to the freeze's end.
pub fn unfrozen_meanwhile(scope: &str) -> String {
    format!("🌤 {}'s freeze ended meanwhile.", escape(scope))
}

/// `/status`: the freeze holding an environment now.
pub fn status_frozen(f: &Frozen) -> String {
    format!(
        "🧊 frozen until {}: {} ({})",
        utc(f.until),
        escape(&clip(&f.reason, 100)),
        source(f)
    )
}

/// `/status`: the next configured window of an environment.
pub fn status_next(u: &Upcoming) -> String {
    format!(
        "🗓 next freeze {} – {}: {} (window {})",
        utc(u.from),
        utc(u.until),
        escape(&clip(&u.reason, 100)),
        escape(&u.schedule.to_string())
    )
}

#[cfg(test)]
mod tests;
