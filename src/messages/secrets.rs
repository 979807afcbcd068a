//! `/secrets` and the weekly rotation reminder: the ages of the GitHub
//! Actions secrets (never their values), the overdue ones marked.

use crate::alerts::format::escape;
use crate::domain::rotation::{SecretAge, SecretScope};

/// Telegram's limit on a message, in UTF-16 code units.
const LIMIT: usize = 4096;

/// Room kept for the closing line that counts what did not fit.
const TAIL_ROOM: usize = 120;

fn scope(scope: &SecretScope) -> String {
    match scope {
        SecretScope::Repository => "repository".to_owned(),
        SecretScope::Environment(env) => escape(env.as_str()),
    }
}

fn days(n: i64) -> String {
    if n == 1 {
        "1 day".to_owned()
    } else {
        format!("{n} days")
    }
}

/// One secret; `marked`: an overdue one shows ⚠️.
fn line(age: &SecretAge, marked: bool) -> String {
    let mark = if marked && age.overdue { "⚠️ " } else { "" };
    format!(
        "\n{mark}<code>{}</code> · {} · {}",
        escape(&age.name),
        scope(&age.scope),
        days(age.days)
    )
}

/// `head`, then as many of `lines` as fit Telegram's limit with `foot`,
/// then how many did not (and how many of those are overdue).
fn fitted(head: String, ages: &[SecretAge], marked: bool, foot: &str) -> String {
    let mut text = head;
    let room = LIMIT - TAIL_ROOM - foot.encode_utf16().count();
    for (shown, age) in ages.iter().enumerate() {
        let next = line(age, marked);
        if text.encode_utf16().count() + next.encode_utf16().count() > room {
            let left = &ages[shown..];
            let overdue = left.iter().filter(|a| a.overdue).count();
            text.push_str(&format!("\n… and {} more", left.len()));
            if overdue > 0 {
                text.push_str(&format!(" ({overdue} overdue)"));
            }
            text.push_str(", not shown: too many for one message.");
            break;
        }
        text.push_str(&next);
    }
    text.push_str(foot);
    text
}

/// `/secrets`: every secret's age, oldest first. `rotate_days`: the
/// schedule (`None`: none set); `absent`: GitHub environments of the
/// bot's environments that GitHub does not have.
pub fn secret_ages(ages: &[SecretAge], rotate_days: Option<u64>, absent: &[String]) -> String {
    let overdue = ages.iter().filter(|a| a.overdue).count();
    let schedule = match rotate_days {
        Some(d) if overdue == 0 => format!("rotate every {d} days · none overdue"),
        Some(d) => format!("rotate every {d} days · ⚠️ {overdue} overdue"),
        None => "no rotation schedule (security.rotate_every)".to_owned(),
    };
    let mut foot = String::new();
    if !absent.is_empty() {
        let names: Vec<String> = absent.iter().map(|n| escape(n)).collect();
        foot = format!(
            "\n\nNo GitHub environment named {}: no secrets of its own.",
            names.join(", ")
        );
    }
    if ages.is_empty() {
        return format!(
            "🔑 <b>Actions secrets</b> · {schedule}\nNone in the repository or its environments.{foot}"
        );
    }
    let head =
        format!("🔑 <b>Actions secrets</b> · {schedule}\nAge since last update, oldest first:");
    fitted(head, ages, true, &foot)
}

/// The weekly reminder: the secrets older than the schedule.
pub fn rotation_reminder(overdue: &[SecretAge], rotate_days: u64) -> String {
    let n = overdue.len();
    let head = format!(
        "🔑 <b>Rotation due</b>: {} older than {rotate_days} days:",
        if n == 1 {
            "1 secret is".to_owned()
        } else {
            format!("{n} secrets are")
        }
    );
    fitted(
        head,
        overdue,
        false,
        "\nRotate them in GitHub; /secrets shows the ages.",
    )
}

/// GitHub refused the listing: the token lacks `permission` (one line).
pub fn secrets_forbidden(permission: &str) -> String {
    format!(
        "⛔ GitHub refused to list the secrets: the bot's token needs the repository permission \"{}\" (read).",
        escape(permission)
    )
}

/// GitHub could not be asked (down, timing out, answering errors).
pub fn secrets_unreadable() -> String {
    "⚠️ GitHub did not give the secrets' list; try again in a while.".to_owned()
}

#[cfg(test)]
mod tests;
