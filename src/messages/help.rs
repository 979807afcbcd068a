//! `/help` and `/whoami`: what the bot does, and who you are to it.

use crate::alerts::format::escape;
use crate::domain::COMMANDS;

/// `/help`: every command with its usage, as the parser knows them.
pub fn help() -> String {
    let mut text = String::from("<b>aletheia-bot</b> runs the release process from this chat.\n");
    for c in COMMANDS.iter().filter(|c| c.available) {
        text.push_str(&format!(
            "\n<code>{}</code> — {}",
            escape(c.usage),
            escape(c.description)
        ));
    }
    text.push_str("\n\nVersions are semver (1.2.3 or v1.2.3). Environments come from bot.toml.");
    text
}

/// Who asks `/whoami`, as the bot sees them.
pub struct WhoAmI<'a> {
    /// How Telegram names the sender.
    pub display: &'a str,
    pub user_id: i64,
    /// Their `[[users]]` name and roles, when they are configured.
    pub known: Option<(&'a str, Vec<&'a str>)>,
    /// In a group: the chat's id, and whether it is configured.
    pub group: Option<(i64, bool)>,
}

/// `/whoami`: the sender's id and roles (the line to add to `[[users]]`
/// if they are not there), and the chat's id in groups.
pub fn whoami(w: &WhoAmI<'_>) -> String {
    let mut text = format!(
        "👤 {}\nTelegram id: <code>{}</code>",
        escape(w.display),
        w.user_id
    );
    match &w.known {
        Some((name, roles)) => {
            text.push_str(&format!(
                "\nKnown as {}; roles: {}",
                escape(name),
                if roles.is_empty() {
                    "none".to_owned()
                } else {
                    roles.join(", ")
                }
            ));
        }
        None => text.push_str(&format!(
            "\nNot in bot.toml. To be let in, ask a senior to add to [[users]]:\n<code>id = {}</code>",
            w.user_id
        )),
    }
    if let Some((chat, configured)) = w.group {
        let state = if configured {
            "configured"
        } else {
            "not configured"
        };
        text.push_str(&format!("\nThis chat: <code>{chat}</code> ({state})"));
    }
    text
}

#[cfg(test)]
mod tests;
