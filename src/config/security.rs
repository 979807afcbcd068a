//! `[security]`: the rotation schedule of the repository's GitHub Actions
//! secrets — how old a secret may get, who may read their ages
//! (`/secrets`), and when the weekly reminder of the overdue ones goes out.

use std::time::Duration;

use serde::Deserialize;

use super::{Config, ConfigIssue};
use crate::domain::{ChatId, Role};

/// The shortest rotation schedule the config takes.
const SHORTEST_ROTATION: Duration = Duration::from_secs(24 * 3600);

/// The longest: three years.
const LONGEST_ROTATION: Duration = Duration::from_secs(3 * 365 * 24 * 3600);

/// `[security]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    /// A secret not updated for this long is overdue for rotation (e.g.
    /// `"90days"`). Unset: `/secrets` lists ages only, and no reminder goes
    /// out. Default unset.
    #[serde(default, with = "humantime_serde")]
    pub rotate_every: Option<Duration>,
    /// Roles that may ask `/secrets`. Default: `incident.roles`.
    #[serde(default)]
    pub roles: Option<Vec<Role>>,
    /// The chat (from `[[chats]]`) the weekly reminder goes to. Default: the
    /// first of `[[chats]]`, the team chat.
    #[serde(default)]
    pub chat: Option<ChatId>,
    /// The weekday the reminder goes out, in UTC (`mon` … `sun`). Default
    /// `mon`.
    #[serde(default = "default_weekday")]
    pub remind_weekday: chrono::Weekday,
    /// The hour of that day (0–23, UTC) from which it goes out; a bot that
    /// was down then sends it when it is back, within the same week.
    /// Default 9.
    #[serde(default = "default_hour")]
    pub remind_hour: u8,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            rotate_every: None,
            roles: None,
            chat: None,
            remind_weekday: default_weekday(),
            remind_hour: default_hour(),
        }
    }
}

fn default_weekday() -> chrono::Weekday {
    chrono::Weekday::Mon
}

fn default_hour() -> u8 {
    9
}

impl Config {
    /// Who may ask `/secrets`.
    pub fn secrets_roles(&self) -> &[Role] {
        self.security
            .roles
            .as_deref()
            .unwrap_or(&self.incident.roles)
    }

    /// Where the rotation reminder goes: `security.chat`, else the first
    /// configured chat.
    pub fn security_chat(&self) -> Option<&super::ChatConfig> {
        match self.security.chat {
            Some(id) => self.chat(id),
            None => self.chats.first(),
        }
    }

    /// The issues of `[security]`, by key path.
    pub(super) fn security_issues(&self) -> Vec<ConfigIssue> {
        let mut issues = Vec::new();
        let mut add = |path: &str, reason: String| {
            issues.push(ConfigIssue {
                path: path.to_owned(),
                reason,
            })
        };
        let security = &self.security;
        if let Some(every) = security.rotate_every
            && !(SHORTEST_ROTATION..=LONGEST_ROTATION).contains(&every)
        {
            add(
                "security.rotate_every",
                "must be from 1 day to 3 years".into(),
            );
        }
        if security.remind_hour > 23 {
            add(
                "security.remind_hour",
                format!(
                    "{} is not an hour of the day (0–23, UTC)",
                    security.remind_hour
                ),
            );
        }
        if let Some(roles) = &security.roles {
            if roles.is_empty() {
                add(
                    "security.roles",
                    "names no role: nobody could ask /secrets".into(),
                );
            }
            for role in roles {
                if !self.users.iter().any(|u| u.roles.contains(role)) {
                    add(
                        "security.roles",
                        format!("no user holds the role \"{role}\""),
                    );
                }
            }
        }
        match security.chat {
            Some(id) if self.chat(id).is_none() => {
                add("security.chat", format!("{} is not in [[chats]]", id.0))
            }
            None if security.rotate_every.is_some() && self.chats.is_empty() => add(
                "security.chat",
                "no chat to remind: set it, or configure [[chats]]".into(),
            ),
            _ => {}
        }
        for (env, cfg) in &self.environments {
            if cfg
                .github_environment
                .as_deref()
                .is_some_and(|n| n.trim().is_empty() || n.chars().count() > 255)
            {
                add(
                    &format!("environments.{env}.github_environment"),
                    "must be a GitHub environment's name (1–255 characters)".into(),
                );
            }
        }
        issues
    }
}
