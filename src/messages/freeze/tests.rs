use chrono::{DateTime, Utc};

use crate::domain::Role;
use crate::domain::freeze::{FreezeSource, Frozen, Schedule, Upcoming, parse_zone};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn weekend() -> Schedule {
    Schedule::Weekly {
        from: "Fri 15:00".parse().unwrap(),
        until: "Mon 08:00".parse().unwrap(),
        zone: parse_zone("Europe/Berlin").unwrap(),
    }
}

fn window() -> Frozen {
    Frozen {
        reason: "Weekend: nobody <around> & about".into(),
        source: FreezeSource::Window(weekend()),
        until: at("2026-11-30T07:00:00Z"),
    }
}

fn adhoc() -> Frozen {
    Frozen {
        reason: "db <upgrade>".into(),
        source: FreezeSource::AdHoc {
            by: "Bob & co".into(),
        },
        until: at("2026-11-25T12:41:00Z"),
    }
}

#[test]
fn frozen_refusal() {
    insta::assert_snapshot!(format!(
        "{}\n\n{}",
        super::frozen_refusal("prod", &window(), "1.3.0"),
        super::frozen_refusal("prod", &adhoc(), "1.3.0")
    ));
}

#[test]
fn not_an_overrider() {
    insta::assert_snapshot!(super::not_an_overrider(
        "prod",
        &[Role::new("senior"), Role::new("lead")]
    ));
}

#[test]
fn override_alert() {
    insta::assert_snapshot!(super::override_alert(
        "Bob <b>",
        "prod",
        "1.3.0",
        &window(),
        "checkout <fix> can't wait"
    ));
}

#[test]
fn frozen_plain() {
    insta::assert_snapshot!(super::frozen_plain("prod", &adhoc()));
}

#[test]
fn frozen() {
    let until = at("2026-11-25T12:41:00Z");
    insta::assert_snapshot!(format!(
        "{}\n\n{}",
        super::frozen("prod", "Bob <b>", "db <upgrade>", until, 7200),
        super::frozen("all", "Bob", "release day", until, 5400)
    ));
}

#[test]
fn replies() {
    insta::assert_snapshot!(
        [
            super::frozen_reply("prod"),
            super::already_frozen("all", "Bob <b>", at("2026-11-25T12:41:00Z"), "db <upgrade>"),
            super::not_frozen("prod"),
            super::frozen_with_all("prod"),
            super::unfrozen_reply("all"),
            super::unfrozen_meanwhile("prod"),
        ]
        .join("\n\n")
    );
}

#[test]
fn unfrozen() {
    insta::assert_snapshot!(super::unfrozen("prod", "Dave", "Bob <b>", "db <upgrade>"));
}

#[test]
fn status_lines() {
    let next = Upcoming {
        reason: "Year-end <holidays>".into(),
        schedule: weekend(),
        from: at("2026-12-23T23:00:00Z"),
        until: at("2027-01-02T07:00:00Z"),
    };
    insta::assert_snapshot!(format!(
        "{}\n{}\n{}",
        super::status_frozen(&window()),
        super::status_frozen(&adhoc()),
        super::status_next(&next)
    ));
}
