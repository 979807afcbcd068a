use crate::domain::dora::Dora;

#[test]
fn stats() {
    let busy = Dora {
        days: 30,
        deploys: 9,
        lead_time_ms: Some(26 * 3_600_000),
        lead_samples: 8,
        failed_changes: 2,
        changes: 11,
        restore_ms: Some(47 * 60_000),
        restores: 2,
    };
    let quiet = Dora {
        days: 7,
        deploys: 0,
        lead_time_ms: None,
        lead_samples: 0,
        failed_changes: 0,
        changes: 0,
        restore_ms: None,
        restores: 0,
    };
    insta::assert_snapshot!(format!(
        "{}\n\n{}",
        super::stats("<b>&", 30, &busy),
        super::stats("prod", 7, &quiet)
    ));
}
