//! Answers any command or button may get: a refusal, a command the
//! parser did not take, a command that came too late, a failure inside.

use chrono::{DateTime, Utc};

use crate::alerts::format::{escape, utc};

/// A refusal's own words (`Refusal::message`), as text.
pub fn refused(message: &str) -> String {
    escape(message)
}

/// A command the parser did not take, with its reason.
pub fn usage_error(message: &str) -> String {
    format!("❌ {}", escape(message))
}

/// A command that acts, sent long before it reached the bot.
pub fn stale_command(sent_at: DateTime<Utc>) -> String {
    format!(
        "⏳ This command was sent at {} and reached me only now. Nothing was done; \
         send it again if it is still wanted.",
        utc(sent_at)
    )
}

/// The database did not answer a command; `reference` is in the log.
pub fn store_unreachable(reference: &str) -> String {
    format!(
        "⚠️ My database is not answering right now (ref {reference}); nothing was done. \
         Please try again in a minute."
    )
}

/// Any other failure inside a command; `reference` is in the log.
pub fn internal_error(reference: &str) -> String {
    format!(
        "⚠️ Something went wrong on my side (ref {reference}); nothing was done. It is in the bot's log."
    )
}

/// A failure inside a button tap (plain text: a tap's answer is no HTML).
pub fn internal_failure(reference: &str) -> String {
    format!(
        "Something went wrong on my side (ref {reference}); nothing changed. Try again in a moment."
    )
}

/// A tap on a button whose data the bot did not make (plain text).
pub fn not_my_button() -> String {
    "This button is not one of mine.".to_owned()
}

/// A tap on an operation whose environment left the config (plain text).
pub fn env_gone() -> String {
    "This environment is no longer configured.".into()
}

/// A tap that lost to the operation moving on meanwhile (plain text).
pub fn moved_on_meanwhile() -> String {
    "It moved on meanwhile; tap again if still needed.".into()
}

/// A tap that lost to someone else's at the same moment (plain text).
pub fn someone_else_is_on_it() -> String {
    "Someone else is on it.".into()
}

/// The fat-finger confirmation's message once used: who confirmed, and
/// the vote's answer (`answer`, plain text).
pub fn approval_confirmed(who: &str, answer: &str) -> String {
    format!("👆 {} confirmed: {}", escape(who), escape(answer))
}

#[cfg(test)]
mod tests;
