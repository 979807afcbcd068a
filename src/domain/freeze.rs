//! Freeze windows: when deploys stop. A window recurs weekly in a time
//! zone (`Fri 15:00` to `Mon 08:00` Europe/Berlin) or is dated (a
//! holiday); an ad-hoc freeze (`/freeze`) holds until its time is up.
//! Pure: "is this environment frozen at this instant, by what, until
//! when", and "which freeze comes next". Local times are read through
//! the IANA time zone database (chrono-tz), so a window at 15:00 local
//! is at 15:00 local on both sides of a DST change.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono::{LocalResult, Weekday};
use chrono_tz::Tz;

use super::Env;

/// A day of the week and a time of day, as `Fri 15:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeekTime {
    pub day: Weekday,
    pub time: NaiveTime,
}

impl FromStr for WeekTime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a day and a time, like \"Fri 15:00\"");
        let (day, time) = s.trim().split_once(' ').ok_or_else(bad)?;
        let day = Weekday::from_str(day.trim()).map_err(|_| bad())?;
        let time = NaiveTime::parse_from_str(time.trim(), "%H:%M").map_err(|_| bad())?;
        Ok(Self { day, time })
    }
}

impl fmt::Display for WeekTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.day, self.time.format("%H:%M"))
    }
}

/// A local date and time, as `2026-12-24 00:00`.
pub fn parse_local(s: &str) -> Result<NaiveDateTime, String> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M")
        .map_err(|_| format!("{s:?} is not a date and a time, like \"2026-12-24 00:00\""))
}

/// A time zone by its IANA name, as `Europe/Berlin`.
pub fn parse_zone(s: &str) -> Result<Tz, String> {
    s.parse::<Tz>()
        .map_err(|_| format!("{s:?} is not a time zone (an IANA name, like \"Europe/Berlin\")"))
}

/// When a window holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// Every week, from one day and time to another (it may span the
    /// week's end: `Fri 15:00` to `Mon 08:00`).
    Weekly {
        from: WeekTime,
        until: WeekTime,
        zone: Tz,
    },
    /// Once.
    Dated {
        from: NaiveDateTime,
        until: NaiveDateTime,
        zone: Tz,
    },
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Weekly { from, until, zone } => write!(f, "{from} – {until} {zone}"),
            Self::Dated { from, until, zone } => write!(
                f,
                "{} – {} {zone}",
                from.format("%Y-%m-%d %H:%M"),
                until.format("%Y-%m-%d %H:%M")
            ),
        }
    }
}

/// The instant a local time names: the earlier of two (a time the clock
/// passes twice when it goes back), or the first instant after the gap
/// (a time the clock skips when it goes forward).
fn instant(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut at = local;
    // A gap is an hour in every zone in use; a day bounds the search.
    for _ in 0..=24 * 60 {
        match zone.from_local_datetime(&at) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.with_timezone(&Utc),
            LocalResult::None => at += Duration::minutes(1),
        }
    }
    Utc.from_utc_datetime(&local)
}

/// Days from `from` forward to `to` in the week (0 to 6).
fn days_forward(from: Weekday, to: Weekday) -> i64 {
    i64::from((to.num_days_from_monday() + 7 - from.num_days_from_monday()) % 7)
}

impl Schedule {
    /// The occurrences (start, end) around `t`: for a weekly window, the
    /// one starting last before `t` (local time), the one before it and
    /// the one after; for a dated one, itself.
    fn occurrences(&self, t: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        match self {
            Self::Dated { from, until, zone } => {
                vec![(instant(*zone, *from), instant(*zone, *until))]
            }
            Self::Weekly { from, until, zone } => {
                let local = t.with_timezone(zone).naive_local();
                let back = days_forward(from.day, local.weekday());
                let mut start: NaiveDateTime =
                    (local.date() - Duration::days(back)).and_time(from.time);
                if start > local {
                    start -= Duration::days(7);
                }
                let mut length = days_forward(from.day, until.day);
                if length == 0 && until.time <= from.time {
                    length = 7;
                }
                (-1..=1)
                    .map(|week| {
                        let begin = start + Duration::days(7 * week);
                        let end = (begin.date() + Duration::days(length)).and_time(until.time);
                        (instant(*zone, begin), instant(*zone, end))
                    })
                    .collect()
            }
        }
    }

    /// The occurrence holding at `t`: its start and end.
    pub fn holding(&self, t: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.occurrences(t)
            .into_iter()
            .find(|(start, end)| *start <= t && t < *end)
    }

    /// The first occurrence starting after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.occurrences(t)
            .into_iter()
            .filter(|(start, _)| *start > t)
            .min_by_key(|(start, _)| *start)
    }
}

/// A configured window (`[[freeze]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub reason: String,
    /// The environments it freezes; `None`: all.
    pub envs: Option<Vec<Env>>,
    pub schedule: Schedule,
}

impl Window {
    fn covers(&self, env: &Env) -> bool {
        self.envs.as_ref().is_none_or(|envs| envs.contains(env))
    }
}

/// What an ad-hoc freeze (`/freeze`) covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FreezeScope {
    All,
    Env(Env),
}

impl FreezeScope {
    /// `all` or an environment's name, as typed and as stored.
    pub fn as_str(&self) -> &str {
        match self {
            Self::All => "all",
            Self::Env(env) => env.as_str(),
        }
    }

    /// Reads a stored scope.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "all" => Some(Self::All),
            other => Env::parse(other).ok().map(Self::Env),
        }
    }

    fn covers(&self, env: &Env) -> bool {
        match self {
            Self::All => true,
            Self::Env(e) => e == env,
        }
    }
}

impl fmt::Display for FreezeScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An ad-hoc freeze in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdHoc {
    pub scope: FreezeScope,
    pub reason: String,
    /// Who froze (their name).
    pub by: String,
    pub until: DateTime<Utc>,
}

/// Where a freeze in force comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum FreezeSource {
    /// A configured window, as its schedule says.
    Window(Schedule),
    /// `/freeze` by someone.
    AdHoc { by: String },
}

/// A freeze holding an environment now.
#[derive(Debug, Clone, PartialEq)]
pub struct Frozen {
    pub reason: String,
    pub source: FreezeSource,
    pub until: DateTime<Utc>,
}

/// Whether `env` is frozen at `t`, and by what: of the freezes holding
/// it, the one that ends last (the one to wait for).
pub fn frozen_at(
    windows: &[Window],
    adhoc: &[AdHoc],
    env: &Env,
    t: DateTime<Utc>,
) -> Option<Frozen> {
    let configured = windows.iter().filter(|w| w.covers(env)).filter_map(|w| {
        w.schedule.holding(t).map(|(_, until)| Frozen {
            reason: w.reason.clone(),
            source: FreezeSource::Window(w.schedule.clone()),
            until,
        })
    });
    let typed = adhoc
        .iter()
        .filter(|a| a.scope.covers(env) && t < a.until)
        .map(|a| Frozen {
            reason: a.reason.clone(),
            source: FreezeSource::AdHoc { by: a.by.clone() },
            until: a.until,
        });
    configured.chain(typed).max_by_key(|f| f.until)
}

/// A configured window's next occurrence for an environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Upcoming {
    pub reason: String,
    pub schedule: Schedule,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// The configured freeze of `env` that starts next after `t`.
pub fn next_freeze(windows: &[Window], env: &Env, t: DateTime<Utc>) -> Option<Upcoming> {
    windows
        .iter()
        .filter(|w| w.covers(env))
        .filter_map(|w| {
            w.schedule.next_after(t).map(|(from, until)| Upcoming {
                reason: w.reason.clone(),
                schedule: w.schedule.clone(),
                from,
                until,
            })
        })
        .min_by_key(|u| u.from)
}

#[cfg(test)]
#[path = "freeze/tests.rs"]
mod tests;
