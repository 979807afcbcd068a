#[test]
fn prompt() {
    insta::assert_snapshot!(super::prompt("sta<b>&ging", "1.3.0", 7));
}

#[test]
fn verified_button() {
    insta::assert_snapshot!(super::verified_button());
}

#[test]
fn found_issues_button() {
    insta::assert_snapshot!(super::found_issues_button());
}

#[test]
fn verified() {
    insta::assert_snapshot!(super::verified("staging", "1.3.0", 7, "Carol <b>&"));
}

#[test]
fn found_issues() {
    insta::assert_snapshot!(super::found_issues("staging", "1.3.0", 7, "Carol <b>&"));
}

#[test]
fn issues_alert() {
    insta::assert_snapshot!(super::issues_alert(
        "staging",
        "1.3.0",
        7,
        "Carol <QA>",
        &["prod"]
    ));
    // Nothing promotes from there: no blocked line.
    assert_eq!(
        super::issues_alert("dev", "1.3.0", 8, "Carol", &[]),
        "🐞 <b>dev 1.3.0</b> (#8): Carol found issues."
    );
}

#[test]
fn not_a_verifier() {
    insta::assert_snapshot!(super::not_a_verifier(&["qa", "senior"]));
}

#[test]
fn not_deployed() {
    insta::assert_snapshot!(super::not_deployed(7, "failed"));
}

#[test]
fn recorded() {
    insta::assert_snapshot!(
        [
            super::recorded("1.3.0", true),
            super::recorded("1.3.0", false)
        ]
        .join("\n---\n")
    );
}
