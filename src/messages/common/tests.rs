use super::*;

#[test]
fn refused() {
    insta::assert_snapshot!(super::refused("Not for <b>& you"));
}

#[test]
fn usage_error() {
    insta::assert_snapshot!(super::usage_error("Unknown environment <b>&"));
}

#[test]
fn stale_command() {
    let at = DateTime::parse_from_rfc3339("2026-11-25T10:41:00Z").unwrap();
    insta::assert_snapshot!(super::stale_command(at.with_timezone(&Utc)));
}

#[test]
fn store_unreachable() {
    insta::assert_snapshot!(super::store_unreachable("1a2b3c4d"));
}

#[test]
fn internal_error() {
    insta::assert_snapshot!(super::internal_error("1a2b3c4d"));
}

#[test]
fn internal_failure() {
    insta::assert_snapshot!(super::internal_failure("1a2b3c4d"));
}

#[test]
fn not_my_button() {
    insta::assert_snapshot!(super::not_my_button());
}

#[test]
fn env_gone() {
    insta::assert_snapshot!(super::env_gone());
}

#[test]
fn moved_on_meanwhile() {
    insta::assert_snapshot!(super::moved_on_meanwhile());
}

#[test]
fn someone_else_is_on_it() {
    insta::assert_snapshot!(super::someone_else_is_on_it());
}

#[test]
fn approval_confirmed() {
    insta::assert_snapshot!(super::approval_confirmed(
        "Ann <b>&",
        "Approved <b>& (1 of 2)"
    ));
}
