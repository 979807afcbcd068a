//! The secrets' rotation schedule (`[security]`): who may read the
//! secrets' ages, when a secret is overdue, and when the weekly reminder
//! is due.

use chrono::{DateTime, Datelike, Duration as Span, Timelike, Utc, Weekday};

use super::{RoleRefusal, needs_role};
use crate::domain::Role;

/// May someone holding `roles` ask `/secrets`? `security.roles` (by
/// default the incident roles): the ages say which keys are weak, not a
/// thing for every reader of the team chat.
pub fn may_read_secret_ages(roles: &[Role], allowed: &[Role]) -> Result<(), RoleRefusal> {
    needs_role(roles, allowed, "not_allowed")
}

/// Whether a secret last updated `age` ago is overdue: older than
/// `security.rotate_every`. Never, without a schedule.
pub fn is_overdue(age: Span, rotate_every: Option<std::time::Duration>) -> bool {
    rotate_every
        .and_then(|every| Span::from_std(every).ok())
        .is_some_and(|every| age > every)
}

/// Whether this week's reminder is due at `now`: from `weekday` at `hour`
/// (UTC) until the week ends (a bot that was down at that hour reminds
/// when it is back, the same week; the outbox keeps it to one a week).
pub fn rotation_reminder_due(now: DateTime<Utc>, weekday: Weekday, hour: u8) -> bool {
    let into_week = i64::from(now.weekday().num_days_from_monday()) * 24 * 3600
        + i64::from(now.num_seconds_from_midnight());
    let due_from = i64::from(weekday.num_days_from_monday()) * 24 * 3600 + i64::from(hour) * 3600;
    into_week >= due_from
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        // 2026-11-30 is a Monday.
        Utc.with_ymd_and_hms(2026, 11, 30 + d - 30, h, m, 0)
            .unwrap()
    }

    #[test]
    fn overdue_only_past_the_schedule() {
        let every = Some(std::time::Duration::from_secs(90 * 86_400));
        assert!(!is_overdue(Span::days(90), every));
        assert!(is_overdue(Span::days(90) + Span::seconds(1), every));
        assert!(is_overdue(Span::days(120), every));
        assert!(!is_overdue(Span::days(10), every));
        assert!(!is_overdue(Span::days(5000), None));
    }

    #[test]
    fn reminder_due_from_its_hour_to_the_end_of_the_week() {
        use Weekday::*;
        // Monday 08:59 / 09:00, for Monday 9.
        assert!(!rotation_reminder_due(at(30, 8, 59), Mon, 9));
        assert!(rotation_reminder_due(at(30, 9, 0), Mon, 9));
        // Any later moment of the week (Sunday night too).
        let sunday = Utc.with_ymd_and_hms(2026, 12, 6, 23, 59, 0).unwrap();
        assert!(rotation_reminder_due(sunday, Mon, 9));
        // Wednesday 14:00: not on Tuesday, nor Wednesday morning.
        let tuesday = Utc.with_ymd_and_hms(2026, 12, 1, 23, 0, 0).unwrap();
        let wednesday = |h| Utc.with_ymd_and_hms(2026, 12, 2, h, 0, 0).unwrap();
        assert!(!rotation_reminder_due(tuesday, Wed, 14));
        assert!(!rotation_reminder_due(wednesday(13), Wed, 14));
        assert!(rotation_reminder_due(wednesday(14), Wed, 14));
        // Monday at hour 0: due the whole week.
        assert!(rotation_reminder_due(at(30, 0, 0), Mon, 0));
    }

    #[test]
    fn reading_secret_ages_takes_a_listed_role() {
        let senior = [Role::new("senior")];
        assert!(may_read_secret_ages(&senior, &senior).is_ok());
        let refusal = may_read_secret_ages(&[Role::new("developer")], &senior).unwrap_err();
        assert_eq!(refusal.code(), "not_allowed");
        assert!(may_read_secret_ages(&[], &senior).is_err());
    }
}
