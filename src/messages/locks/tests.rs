/// 2026-11-25 10:41 UTC.
const AT: i64 = 1_795_603_260_000;

#[test]
fn locked() {
    insta::assert_snapshot!(format!(
        "{}\n\n{}",
        super::locked("prod", "Ann <b>&", "db <b>& migration", Some((AT, 7200))),
        super::locked("prod", "Ann", "incident", None)
    ));
}

#[test]
fn locked_reply() {
    insta::assert_snapshot!(super::locked_reply("prod"));
}

#[test]
fn already_locked() {
    insta::assert_snapshot!(super::already_locked("prod", "Ann <b>&", AT, "db <b>&"));
}

#[test]
fn not_locked() {
    insta::assert_snapshot!(super::not_locked("prod"));
}

#[test]
fn unlocked() {
    insta::assert_snapshot!(super::unlocked("prod", "Bob", "Ann <b>&", 3900, "db <b>&"));
}

#[test]
fn unlocked_reply() {
    insta::assert_snapshot!(super::unlocked_reply("prod"));
}

#[test]
fn unlocked_meanwhile() {
    insta::assert_snapshot!(super::unlocked_meanwhile("prod"));
}

#[test]
fn lifted() {
    insta::assert_snapshot!(super::lifted("prod", 7200, "Ann <b>&", "db <b>&"));
}

#[test]
fn reminder() {
    insta::assert_snapshot!(super::reminder("prod", "Ann <b>&", AT, 90000, "db <b>&"));
}
