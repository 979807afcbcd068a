//! Typed identifiers and names: never a bare `i64` or `String` passed around.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A Telegram user, by numeric id (never a username).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

/// A Telegram chat, by numeric id (groups are negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(transparent)]
pub struct ChatId(pub i64);

/// An operation (release, deploy, rollback) in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OperationId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for ChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for OperationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// An environment name from `bot.toml` (`dev`, `staging`, `prod`, …):
/// lower-case letters, digits and dashes, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Env(String);

impl Env {
    /// Checks the shape of an environment name.
    pub fn parse(name: &str) -> Result<Self, String> {
        let ok = name.len() <= 32
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(Self(name.to_owned()))
        } else {
            Err(format!(
                "{name:?} is not an environment name (lower-case letters, digits, dashes; up to 32)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Env {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Env::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A role a user holds (`developer`, `qa`, `senior`, …).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Role(String);

impl Role {
    pub fn new(name: &str) -> Self {
        Self(name.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if ok {
            Ok(Role(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "{s:?} is not a role name (lower-case letters, digits, '-', '_')"
            )))
        }
    }
}

/// The kinds of alert a chat can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A release was created (tag, GitHub release, changelog).
    Release,
    /// A deployment's progress and result.
    Deployment,
    /// A rollback's progress and result.
    Rollback,
    /// Any failure: failed run, failed rollout, undeliverable alerts.
    Failure,
    /// Health checks and ECS service health.
    Health,
    /// Approval prompts and their outcomes.
    Approval,
}

impl AlertKind {
    pub const ALL: [AlertKind; 6] = [
        AlertKind::Release,
        AlertKind::Deployment,
        AlertKind::Rollback,
        AlertKind::Failure,
        AlertKind::Health,
        AlertKind::Approval,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Release => "release",
            AlertKind::Deployment => "deployment",
            AlertKind::Rollback => "rollback",
            AlertKind::Failure => "failure",
            AlertKind::Health => "health",
            AlertKind::Approval => "approval",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
