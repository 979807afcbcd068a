//! A failure alert's buttons (Roll back, Lock, I'm on it) and what a tap
//! on them answers. Button labels, lock reasons and tap answers are plain
//! text (Telegram shows them as typed).

use crate::alerts::format::{escape, span};
use crate::domain::OperationState;
use crate::store::OperationRow;

/// Telegram's limit on a tap's answer, in characters.
const ANSWER_LIMIT: usize = 200;

/// "↩️ Roll back to 1.2.3".
pub fn roll_back_button(version: &str) -> String {
    format!("↩️ Roll back to {version}")
}

pub fn lock_button() -> String {
    "🔒 Lock".to_owned()
}

pub fn ack_button() -> String {
    "👀 I'm on it".to_owned()
}

/// The reason of a lock taken from a failure alert: the alert's title.
pub fn lock_reason(op: &OperationRow) -> String {
    let env = op.env_name().unwrap_or_default();
    if op.state == OperationState::Unhealthy {
        format!("{env} · {} deployed but unhealthy (#{})", op.version, op.id)
    } else {
        format!("{env} · {} of {} failed (#{})", op.kind, op.version, op.id)
    }
}

/// The reason of a lock taken from a health-monitor alert.
pub fn health_lock_reason(env: &str) -> String {
    format!("{env} · health monitor alert")
}

/// A Roll back tap when no version was confirmed healthy there before.
pub fn no_healthy_version(env: &str) -> String {
    format!(
        "No version was confirmed healthy in {env} before this one. \
         Name one: /rollback {env} <version>"
    )
}

/// A tap that did what its command would: the answer under the button
/// (what it did is in the chat).
pub fn done(command: &str) -> String {
    match command {
        "rollback" => "↩️ Rollback asked for: see the chat.".to_owned(),
        "lock" => "🔒 Locked.".to_owned(),
        _ => "Done.".to_owned(),
    }
}

/// An "I'm on it" tap, to the one who tapped.
pub fn acknowledged(name: &str) -> String {
    clip_answer(&format!("👀 Noted: {name} is on it."))
}

/// An "I'm on it" tap on a failure someone already took (plain text).
pub fn already_taken(name: &str) -> String {
    clip_answer(&format!("👀 {name} has already taken it."))
}

/// An "I'm on it" tap by someone the bot does not know (plain text).
pub fn ack_refused() -> String {
    "⛔ Only people in the bot's [[users]] can take an incident.".to_owned()
}

/// A prod failure nobody took within the window, posted again for the
/// next contact (`contact` is their name, `contact_id` their Telegram
/// id, for a mention that notifies them; `waited_secs` since the alert).
pub fn escalation(op: &OperationRow, waited_secs: i64, contact: &str, contact_id: i64) -> String {
    page(&lock_reason(op), waited_secs, contact, contact_id)
}

/// The health monitor's alarm (`alarm`: its first copy, as sent) nobody
/// took within the window, posted again for the next contact.
pub fn alarm_escalation(alarm: &str, waited_secs: i64, contact: &str, contact_id: i64) -> String {
    let plain = super::incident::strip_html(alarm);
    let what = plain.lines().next().unwrap_or_default().trim();
    page(what, waited_secs, contact, contact_id)
}

fn page(what: &str, waited_secs: i64, contact: &str, contact_id: i64) -> String {
    format!(
        "🚨 <b>Nobody has taken this for {}</b>: {}\n\
         <a href=\"tg://user?id={contact_id}\">{}</a>, please take it: tap 👀 I'm on it.",
        span(waited_secs),
        escape(what),
        escape(contact)
    )
}

/// A failure alert or its escalation (`html`, as sent) once `who` took it.
pub fn taken(html: &str, who: &str) -> String {
    format!("{html}\n👀 Taken by {}", escape(who))
}

/// The command's answer (Telegram HTML) as a tap's refusal: plain text
/// within Telegram's limit.
pub fn refusal(html: &str) -> String {
    clip_answer(&super::incident::strip_html(html))
}

fn clip_answer(text: &str) -> String {
    if text.chars().count() <= ANSWER_LIMIT {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(ANSWER_LIMIT - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests;
