//! `[[freeze]]`: the windows when deploys stop, recurring weekly or dated,
//! each for some or all environments and with a reason.

use chrono::NaiveDateTime;
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer};

use crate::domain::Env;
use crate::domain::freeze::{Schedule, WeekTime, Window, parse_local, parse_zone};

/// `[[freeze]]`: one window. Exactly one of `weekly` and `dated`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreezeConfig {
    /// Why deploys stop then; deploys refused inside it say so.
    pub reason: String,
    /// The environments it freezes. Default: all.
    #[serde(default)]
    pub environments: Option<Vec<Env>>,
    /// Every week, e.g. `{ from = "Fri 15:00", until = "Mon 08:00",
    /// time_zone = "Europe/Berlin" }`.
    #[serde(default)]
    pub weekly: Option<WeeklyConfig>,
    /// Once, e.g. `{ from = "2026-12-24 00:00", until = "2027-01-02 08:00",
    /// time_zone = "Europe/Berlin" }`.
    #[serde(default)]
    pub dated: Option<DatedConfig>,
}

/// `weekly = { from, until, time_zone }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyConfig {
    /// Day and local time it starts: `Fri 15:00`.
    #[serde(deserialize_with = "week_time")]
    pub from: WeekTime,
    /// Day and local time it ends: `Mon 08:00` (may be in the next week).
    #[serde(deserialize_with = "week_time")]
    pub until: WeekTime,
    /// IANA time zone of both: `Europe/Berlin`. Default `UTC`.
    #[serde(default = "utc", deserialize_with = "zone")]
    pub time_zone: Tz,
}

/// `dated = { from, until, time_zone }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatedConfig {
    /// Local date and time it starts: `2026-12-24 00:00`.
    #[serde(deserialize_with = "local")]
    pub from: NaiveDateTime,
    /// Local date and time it ends: `2027-01-02 08:00`.
    #[serde(deserialize_with = "local")]
    pub until: NaiveDateTime,
    /// IANA time zone of both. Default `UTC`.
    #[serde(default = "utc", deserialize_with = "zone")]
    pub time_zone: Tz,
}

fn utc() -> Tz {
    Tz::UTC
}

fn parsed<'de, D, T>(d: D, parse: impl Fn(&str) -> Result<T, String>) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    let text = String::deserialize(d)?;
    parse(&text).map_err(serde::de::Error::custom)
}

fn week_time<'de, D: Deserializer<'de>>(d: D) -> Result<WeekTime, D::Error> {
    parsed(d, |s| s.parse())
}

fn local<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
    parsed(d, parse_local)
}

fn zone<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
    parsed(d, parse_zone)
}

impl FreezeConfig {
    /// The window as the domain judges it (`None` for an entry the
    /// config's checks refuse: neither or both schedules).
    pub fn window(&self) -> Option<Window> {
        let schedule = match (&self.weekly, &self.dated) {
            (Some(w), None) => Schedule::Weekly {
                from: w.from,
                until: w.until,
                zone: w.time_zone,
            },
            (None, Some(d)) => Schedule::Dated {
                from: d.from,
                until: d.until,
                zone: d.time_zone,
            },
            _ => return None,
        };
        Some(Window {
            reason: self.reason.trim().to_owned(),
            envs: self.environments.clone(),
            schedule,
        })
    }

    /// What is wrong with this entry (`at`: its path, `freeze[0]`), as
    /// (path, reason) pairs; `known`: the configured environments.
    pub(super) fn issues(&self, at: &str, known: impl Fn(&Env) -> bool) -> Vec<(String, String)> {
        let mut issues = Vec::new();
        let mut add = |path: String, reason: &str| issues.push((path, reason.to_owned()));
        if self.reason.trim().is_empty() {
            add(format!("{at}.reason"), "must say why deploys stop");
        }
        for (i, env) in self.environments.iter().flatten().enumerate() {
            if !known(env) {
                add(
                    format!("{at}.environments[{i}]"),
                    &format!("\"{env}\" is not in [environments]"),
                );
            }
        }
        if self.environments.as_ref().is_some_and(Vec::is_empty) {
            add(
                format!("{at}.environments"),
                "is empty: leave it out to freeze all environments",
            );
        }
        match (&self.weekly, &self.dated) {
            (None, None) => add(at.to_owned(), "needs a weekly or a dated window"),
            (Some(_), Some(_)) => add(
                at.to_owned(),
                "has both a weekly and a dated window: one per entry",
            ),
            (Some(w), None) if w.from == w.until => {
                add(format!("{at}.weekly.until"), "is the same as from")
            }
            (None, Some(d)) if d.until <= d.from => {
                add(format!("{at}.dated.until"), "is not after from")
            }
            _ => {}
        }
        issues
    }
}
