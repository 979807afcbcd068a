/// 2026-11-25 10:41 UTC.
const AT: i64 = 1_795_603_260_000;

#[test]
fn not_a_target() {
    insta::assert_snapshot!(super::not_a_target(
        "<b>&",
        &["release", "deployment"],
        &["staging", "prod"]
    ));
}

#[test]
fn muted() {
    insta::assert_snapshot!(format!(
        "{}\n\n{}",
        super::muted("failure", AT, 7200, Some("prod")),
        super::muted("<b>&", AT, 600, None)
    ));
}

#[test]
fn unmuted() {
    insta::assert_snapshot!(super::unmuted("<b>&"));
}

#[test]
fn not_muted() {
    insta::assert_snapshot!(super::not_muted("<b>&"));
}

#[test]
fn status_line() {
    assert_eq!(super::status_line(&[]), "");
    insta::assert_snapshot!(super::status_line(&[
        ("release", AT, "Ann <b>&"),
        ("<b>&", AT + 60_000, "Bob")
    ]));
}
