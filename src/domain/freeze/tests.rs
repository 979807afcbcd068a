use chrono::{DateTime, Utc};

use super::*;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn env(name: &str) -> Env {
    Env::parse(name).unwrap()
}

fn weekly(from: &str, until: &str, zone: &str) -> Schedule {
    Schedule::Weekly {
        from: from.parse().unwrap(),
        until: until.parse().unwrap(),
        zone: parse_zone(zone).unwrap(),
    }
}

fn window(reason: &str, envs: Option<&[&str]>, schedule: Schedule) -> Window {
    Window {
        reason: reason.into(),
        envs: envs.map(|e| e.iter().map(|n| env(n)).collect()),
        schedule,
    }
}

#[test]
fn days_and_times_read_as_written_and_refuse_the_rest() {
    let t: WeekTime = "Fri 15:00".parse().unwrap();
    assert_eq!(t.to_string(), "Fri 15:00");
    assert_eq!(
        "monday 08:30".parse::<WeekTime>().unwrap().to_string(),
        "Mon 08:30"
    );
    for bad in ["Fri", "15:00", "Fry 15:00", "Fri 25:00", "Fri 15", ""] {
        assert!(bad.parse::<WeekTime>().is_err(), "{bad}");
    }
    assert!(parse_local("2026-12-24 00:00").is_ok());
    assert!(parse_local("2026-13-24 00:00").is_err());
    assert!(parse_zone("Europe/Berlin").is_ok());
    assert_eq!(
        parse_zone("Europe/Berln").unwrap_err(),
        "\"Europe/Berln\" is not a time zone (an IANA name, like \"Europe/Berlin\")"
    );
}

#[test]
fn a_weekend_window_spans_the_week_boundary() {
    let w = weekly("Fri 15:00", "Mon 08:00", "UTC");
    // 2026-11-27 is a Friday.
    assert_eq!(w.holding(at("2026-11-27T14:59:00Z")), None);
    let held = (at("2026-11-27T15:00:00Z"), at("2026-11-30T08:00:00Z"));
    assert_eq!(w.holding(at("2026-11-27T15:00:00Z")), Some(held));
    assert_eq!(w.holding(at("2026-11-29T23:59:00Z")), Some(held));
    // Across the week's end (Sunday to Monday).
    assert_eq!(w.holding(at("2026-11-30T07:59:00Z")), Some(held));
    assert_eq!(w.holding(at("2026-11-30T08:00:00Z")), None);
    assert_eq!(w.holding(at("2026-12-02T12:00:00Z")), None);
    assert_eq!(
        w.next_after(at("2026-12-02T12:00:00Z")),
        Some((at("2026-12-04T15:00:00Z"), at("2026-12-07T08:00:00Z")))
    );
    // Inside one, the next is a week on.
    assert_eq!(
        w.next_after(at("2026-11-28T12:00:00Z")).unwrap().0,
        at("2026-12-04T15:00:00Z")
    );
}

#[test]
fn a_window_within_one_day_and_one_of_a_whole_week() {
    let w = weekly("Wed 09:00", "Wed 17:00", "UTC");
    // 2026-12-02 is a Wednesday.
    assert!(w.holding(at("2026-12-02T08:59:00Z")).is_none());
    assert!(w.holding(at("2026-12-02T12:00:00Z")).is_some());
    assert!(w.holding(at("2026-12-02T17:00:00Z")).is_none());
    // Until earlier in the same day: the week round.
    let round = weekly("Wed 17:00", "Wed 09:00", "UTC");
    assert!(round.holding(at("2026-12-05T12:00:00Z")).is_some());
    assert!(round.holding(at("2026-12-02T12:00:00Z")).is_none());
}

#[test]
fn local_time_holds_on_both_sides_of_dst() {
    let w = weekly("Fri 15:00", "Mon 08:00", "Europe/Berlin");
    // Summer (CEST, UTC+2): Fri 2026-10-23 15:00 local is 13:00 UTC.
    assert_eq!(
        w.holding(at("2026-10-23T13:00:00Z")).unwrap().0,
        at("2026-10-23T13:00:00Z")
    );
    assert!(w.holding(at("2026-10-23T12:59:00Z")).is_none());
    // The clocks go back on Sunday 2026-10-25: the window started in
    // summer time and ends in winter time (CET, UTC+1), Mon 08:00 local.
    assert_eq!(
        w.holding(at("2026-10-25T12:00:00Z")),
        Some((at("2026-10-23T13:00:00Z"), at("2026-10-26T07:00:00Z")))
    );
    assert!(w.holding(at("2026-10-26T07:00:00Z")).is_none());
    // Winter: Fri 15:00 local is 14:00 UTC.
    assert!(w.holding(at("2026-10-30T13:30:00Z")).is_none());
    assert!(w.holding(at("2026-10-30T14:00:00Z")).is_some());
    // Spring forward on Sunday 2027-03-28: starts in CET, ends in CEST.
    assert_eq!(
        w.holding(at("2027-03-28T12:00:00Z")),
        Some((at("2027-03-26T14:00:00Z"), at("2027-03-29T06:00:00Z")))
    );
}

#[test]
fn times_the_clock_skips_or_repeats_name_one_instant() {
    // 02:30 does not exist in Berlin on 2027-03-28: the window starts
    // when the clock jumps (03:00 CEST, 01:00 UTC).
    let skipped = weekly("Sun 02:30", "Sun 05:00", "Europe/Berlin");
    assert_eq!(
        skipped.holding(at("2027-03-28T01:30:00Z")).unwrap().0,
        at("2027-03-28T01:00:00Z")
    );
    // 02:30 happens twice on 2026-10-25: the first one counts.
    let twice = weekly("Sun 02:30", "Sun 05:00", "Europe/Berlin");
    assert_eq!(
        twice.holding(at("2026-10-25T02:00:00Z")).unwrap().0,
        at("2026-10-25T00:30:00Z")
    );
}

#[test]
fn a_dated_window_holds_once() {
    let d = Schedule::Dated {
        from: parse_local("2026-12-24 00:00").unwrap(),
        until: parse_local("2027-01-02 08:00").unwrap(),
        zone: parse_zone("Europe/Berlin").unwrap(),
    };
    assert!(d.holding(at("2026-12-23T22:59:00Z")).is_none());
    assert!(d.holding(at("2026-12-23T23:00:00Z")).is_some());
    assert!(d.holding(at("2027-01-02T07:00:00Z")).is_none());
    assert_eq!(
        d.next_after(at("2026-12-01T00:00:00Z")).unwrap().0,
        at("2026-12-23T23:00:00Z")
    );
    assert!(d.next_after(at("2026-12-25T00:00:00Z")).is_none());
    assert_eq!(
        d.to_string(),
        "2026-12-24 00:00 – 2027-01-02 08:00 Europe/Berlin"
    );
}

#[test]
fn an_environment_is_frozen_by_what_covers_it_until_the_last_end() {
    let windows = [
        window(
            "Weekend",
            Some(&["prod"]),
            weekly("Fri 15:00", "Mon 08:00", "UTC"),
        ),
        window("Short", None, weekly("Sat 10:00", "Sat 11:00", "UTC")),
    ];
    let now = at("2026-11-28T10:30:00Z");
    let prod = frozen_at(&windows, &[], &env("prod"), now).unwrap();
    assert_eq!(prod.reason, "Weekend");
    assert_eq!(prod.until, at("2026-11-30T08:00:00Z"));
    let dev = frozen_at(&windows, &[], &env("dev"), now).unwrap();
    assert_eq!(dev.reason, "Short");
    assert!(frozen_at(&windows, &[], &env("dev"), at("2026-11-28T11:00:00Z")).is_none());

    let adhoc = [AdHoc {
        scope: FreezeScope::All,
        reason: "incident".into(),
        by: "Bob".into(),
        until: at("2026-12-01T00:00:00Z"),
    }];
    let prod = frozen_at(&windows, &adhoc, &env("prod"), now).unwrap();
    assert_eq!(prod.source, FreezeSource::AdHoc { by: "Bob".into() });
    assert!(frozen_at(&[], &adhoc, &env("dev"), at("2026-12-01T00:00:00Z")).is_none());

    let next = next_freeze(&windows, &env("prod"), at("2026-12-02T00:00:00Z")).unwrap();
    assert_eq!(next.reason, "Weekend");
    assert_eq!(next.from, at("2026-12-04T15:00:00Z"));
    let next = next_freeze(&windows, &env("dev"), at("2026-12-02T00:00:00Z")).unwrap();
    assert_eq!(next.reason, "Short");
}

#[test]
fn scopes_read_back() {
    assert_eq!(FreezeScope::parse("all"), Some(FreezeScope::All));
    assert_eq!(
        FreezeScope::parse("prod"),
        Some(FreezeScope::Env(env("prod")))
    );
    assert_eq!(FreezeScope::Env(env("prod")).to_string(), "prod");
}
