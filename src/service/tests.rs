use super::*;

#[test]
fn qa_found_issues_alert() {
    insta::assert_snapshot!(verdict::issues_text(
        "staging",
        "1.3.0",
        7,
        "Carol <QA>",
        &["prod"]
    ));
    // Nothing promotes from there: no blocked line.
    assert_eq!(
        verdict::issues_text("dev", "1.3.0", 8, "Carol", &[]),
        "🐞 <b>dev 1.3.0</b> (#8): Carol found issues."
    );
}
