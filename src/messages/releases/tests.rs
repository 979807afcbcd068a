use super::*;

const NAME: &str = "<b>&";

fn v() -> Version {
    Version::parse("1.3.0", true).unwrap()
}

fn rendered() -> String {
    super::checks(&[
        Check {
            name: "CI",
            passed: true,
            detail: "green on main".into(),
        },
        Check {
            name: "Bump",
            passed: false,
            detail: "1.2.0 + patch = 1.2.1, not <b>&".into(),
        },
    ])
}

#[test]
fn not_a_release_requester() {
    insta::assert_snapshot!(super::not_a_release_requester("developer, senior"));
}

#[test]
fn latest_unreadable() {
    insta::assert_snapshot!(super::latest_unreadable("502 <bad gateway>"));
}

#[test]
fn checks() {
    insta::assert_snapshot!(rendered());
}

#[test]
fn ci_pending() {
    insta::assert_snapshot!(super::ci_pending(&["build".into(), "lint".into()]));
}

#[test]
fn ci_failing() {
    insta::assert_snapshot!(super::ci_failing(&["build".into()]));
}

#[test]
fn ci_no_checks() {
    insta::assert_snapshot!(super::ci_no_checks());
}

#[test]
fn dry_run() {
    let c = rendered();
    insta::assert_snapshot!(format!(
        "{}\n---\n{}\n---\n{}",
        super::dry_run(&v(), ReleaseType::Minor, &c, &ReleaseVerdict::Refuse),
        super::dry_run(&v(), ReleaseType::Minor, &c, &ReleaseVerdict::Confirm),
        super::dry_run(&v(), ReleaseType::Minor, &c, &ReleaseVerdict::Proceed)
    ));
}

#[test]
fn refused() {
    insta::assert_snapshot!(super::refused(&v(), ReleaseType::Minor, &rendered()));
}

#[test]
fn release_anyway() {
    insta::assert_snapshot!(super::release_anyway(&v(), ReleaseType::Patch, &rendered()));
}

#[test]
fn release_anyway_label() {
    insta::assert_snapshot!(super::release_anyway_label());
}

#[test]
fn cancel_label() {
    insta::assert_snapshot!(super::cancel_label());
}

#[test]
fn release_at_once() {
    insta::assert_snapshot!(super::release_at_once(
        5,
        &v(),
        ReleaseType::Minor,
        &rendered()
    ));
}

#[test]
fn in_flight() {
    insta::assert_snapshot!(format!(
        "{}\n{}",
        super::in_flight(Some((5, "1.3.0<b>&", OperationState::Running))),
        super::in_flight(None)
    ));
}

#[test]
fn dispatched() {
    insta::assert_snapshot!(super::dispatched("🚀 <b>Release 1.3.0 (minor)</b> · #5"));
}

#[test]
fn dispatched_on_ecs() {
    insta::assert_snapshot!(super::dispatched_on_ecs(
        "⏪ #3 Rollback prod → 1.2.0",
        NAME
    ));
}

#[test]
fn ecs_failed() {
    insta::assert_snapshot!(super::ecs_failed("⏪ #3 Rollback prod → 1.2.0", NAME));
}

#[test]
fn dispatch_failed() {
    insta::assert_snapshot!(super::dispatch_failed("🚀 #7 Deploy 1.3.0 → prod", NAME));
}

#[test]
fn only_the_requester() {
    insta::assert_snapshot!(super::only_the_requester(NAME));
}

#[test]
fn question_expired() {
    insta::assert_snapshot!(super::question_expired());
}

#[test]
fn checks_could_not_run() {
    insta::assert_snapshot!(super::checks_could_not_run("502 <bad gateway>"));
}

#[test]
fn request_unreadable() {
    insta::assert_snapshot!(super::request_unreadable());
}

#[test]
fn confirmed() {
    insta::assert_snapshot!(super::confirmed("1.3.0", Some(ReleaseType::Patch), 5, NAME));
}

#[test]
fn confirmed_but_refused() {
    insta::assert_snapshot!(super::confirmed_but_refused(
        "1.3.0",
        None,
        5,
        NAME,
        &rendered()
    ));
}

#[test]
fn cancelled() {
    insta::assert_snapshot!(super::cancelled("1.3.0", Some(ReleaseType::Patch), 5, NAME));
}

#[test]
fn not_released_answer() {
    insta::assert_snapshot!(super::not_released_answer());
}

#[test]
fn confirmed_answer() {
    insta::assert_snapshot!(super::confirmed_answer());
}

#[test]
fn cancelled_answer() {
    insta::assert_snapshot!(super::cancelled_answer());
}

#[test]
fn already_answered() {
    insta::assert_snapshot!(super::already_answered());
}
