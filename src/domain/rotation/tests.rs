use chrono::TimeZone;

use super::*;

fn secret(scope: SecretScope, name: &str, y: i32, m: u32, d: u32) -> ListedSecret {
    ListedSecret {
        scope,
        name: name.into(),
        updated_at: Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap(),
    }
}

#[test]
fn ages_oldest_first_overdue_past_the_schedule() {
    let prod = SecretScope::Environment(Env::parse("prod").unwrap());
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
    let listed = [
        secret(SecretScope::Repository, "NPM_TOKEN", 2026, 11, 20),
        secret(prod.clone(), "AWS_SECRET_ACCESS_KEY", 2026, 8, 2),
        secret(SecretScope::Repository, "SLACK_HOOK", 2026, 8, 2),
        // Updated "in the future" by a skewed clock: 0 days.
        secret(SecretScope::Repository, "NEW", 2026, 12, 1),
    ];
    let every = Some(std::time::Duration::from_secs(90 * 86_400));
    let ages = secret_ages(&listed, now, every);
    let seen: Vec<(&str, i64, bool)> = ages
        .iter()
        .map(|a| (a.name.as_str(), a.days, a.overdue))
        .collect();
    assert_eq!(
        seen,
        [
            // Same day: the repository's before an environment's.
            ("SLACK_HOOK", 120, true),
            ("AWS_SECRET_ACCESS_KEY", 120, true),
            ("NPM_TOKEN", 10, false),
            ("NEW", 0, false),
        ]
    );
    assert!(secret_ages(&listed, now, None).iter().all(|a| !a.overdue));
}

#[test]
fn iso_weeks_read_back_as_written() {
    // 2026-12-31 is a Thursday of week 53; 2027-01-03 still in it.
    let end = Utc.with_ymd_and_hms(2027, 1, 3, 23, 0, 0).unwrap();
    assert_eq!(IsoWeek::of(end).to_string(), "2026-W53");
    let monday = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
    let week = IsoWeek::of(monday);
    assert_eq!(week.to_string(), "2026-W49");
    assert_eq!(IsoWeek::parse("2026-W49"), Some(week));
    for bad in [
        "2026-W7", "2026-W00", "2026-W54", "26-W49", "2026W49", "2026-W+9", "",
    ] {
        assert_eq!(IsoWeek::parse(bad), None, "{bad}");
    }
}
