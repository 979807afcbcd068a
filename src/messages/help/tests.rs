use super::*;

#[test]
fn help() {
    insta::assert_snapshot!(super::help());
}

#[test]
fn whoami() {
    let known = WhoAmI {
        display: "Ann <b>&",
        user_id: 42,
        known: Some(("Ann <b>&", vec!["senior", "developer"])),
        group: Some((-100123, true)),
    };
    let stranger = WhoAmI {
        display: "Eve",
        user_id: 66,
        known: None,
        group: Some((-100999, false)),
    };
    let roleless = WhoAmI {
        display: "Bob",
        user_id: 7,
        known: Some(("Bob", vec![])),
        group: None,
    };
    insta::assert_snapshot!(
        [known, stranger, roleless]
            .iter()
            .map(super::whoami)
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}
