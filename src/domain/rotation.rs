//! The rotation schedule of GitHub Actions secrets: each secret's age from
//! its last update, the overdue ones, and the ISO week a reminder belongs
//! to. Only names and dates: the bot never reads a secret's value.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Datelike, Utc};

use super::Env;

/// Where a secret is kept.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SecretScope {
    /// A repository secret, seen by every workflow.
    Repository,
    /// A secret of the GitHub environment of this bot environment.
    Environment(Env),
}

/// A secret as GitHub lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedSecret {
    pub scope: SecretScope,
    pub name: String,
    pub updated_at: DateTime<Utc>,
}

/// A secret's age, judged against the schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretAge {
    pub scope: SecretScope,
    pub name: String,
    /// Whole days since its last update.
    pub days: i64,
    /// Older than `security.rotate_every`.
    pub overdue: bool,
}

/// The ages of `secrets` at `now`, oldest first (then by scope and name),
/// each judged by [`super::is_overdue`] against `rotate_every`.
pub fn secret_ages(
    secrets: &[ListedSecret],
    now: DateTime<Utc>,
    rotate_every: Option<Duration>,
) -> Vec<SecretAge> {
    let mut sorted: Vec<&ListedSecret> = secrets.iter().collect();
    sorted
        .sort_by(|a, b| (a.updated_at, &a.scope, &a.name).cmp(&(b.updated_at, &b.scope, &b.name)));
    sorted
        .into_iter()
        .map(|s| {
            let age = now.signed_duration_since(s.updated_at);
            SecretAge {
                scope: s.scope.clone(),
                name: s.name.clone(),
                days: age.num_days().max(0),
                overdue: super::is_overdue(age, rotate_every),
            }
        })
        .collect()
}

/// An ISO 8601 week (`2026-W49`): a weekly reminder's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsoWeek {
    pub year: i32,
    pub week: u32,
}

impl IsoWeek {
    /// The week `at` falls in (UTC).
    pub fn of(at: DateTime<Utc>) -> Self {
        let w = at.iso_week();
        Self {
            year: w.year(),
            week: w.week(),
        }
    }

    /// Reads `2026-W49` exactly as [`fmt::Display`] writes it.
    pub fn parse(s: &str) -> Option<Self> {
        let (year, week) = s.split_once("-W")?;
        let ok = year.len() == 4
            && week.len() == 2
            && year.bytes().chain(week.bytes()).all(|b| b.is_ascii_digit());
        let (year, week) = (year.parse().ok()?, week.parse().ok()?);
        (ok && (1..=53).contains(&week)).then_some(Self { year, week })
    }
}

impl fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-W{:02}", self.year, self.week)
    }
}

#[cfg(test)]
#[path = "rotation/tests.rs"]
mod tests;
