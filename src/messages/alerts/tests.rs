#[test]
fn release_published() {
    insta::assert_snapshot!(format!(
        "{}\n\n{}\n\n{}",
        super::release_published(
            "v1.4.0",
            Some("Faster <b>& safer"),
            "https://github.com/o/r/releases/tag/v1.4.0?a=1&b=2",
            Some("ann<b>&")
        ),
        super::release_published("v1.4.0", Some("v1.4.0"), "https://x/v1.4.0", None),
        super::release_published("v1.4.0", Some(""), "https://x/v1.4.0", None)
    ));
}

#[test]
fn with_mentions() {
    insta::assert_snapshot!(super::with_mentions(
        "🔥 <b>prod</b> · down",
        &[(100000001, "Ann <b>&"), (100000002, "Bob")]
    ));
}
