#[test]
fn cancel_label() {
    insta::assert_snapshot!(super::cancel_label());
}

#[test]
fn no_release_yet() {
    insta::assert_snapshot!(super::no_release_yet());
}

#[test]
fn latest_release_unreadable() {
    insta::assert_snapshot!(super::latest_release_unreadable("HTTP 502 <b>&"));
}

#[test]
fn latest_not_a_version() {
    insta::assert_snapshot!(super::latest_not_a_version("nightly-<b>&"));
}

#[test]
fn release_choice_label() {
    insta::assert_snapshot!(super::release_choice_label("1.4.0", "minor"));
}

#[test]
fn release_question() {
    insta::assert_snapshot!(super::release_question("v1.3.<b>&"));
}

#[test]
fn may_deploy_nowhere() {
    insta::assert_snapshot!(super::may_deploy_nowhere());
}

#[test]
fn may_not_deploy_to() {
    insta::assert_snapshot!(super::may_not_deploy_to("<b>&"));
}

#[test]
fn deploy_where() {
    insta::assert_snapshot!(super::deploy_where());
}

#[test]
fn releases_unreadable() {
    insta::assert_snapshot!(super::releases_unreadable("HTTP 502 <b>&"));
}

#[test]
fn nothing_to_deploy() {
    insta::assert_snapshot!(format!(
        "{}\n\n{}",
        super::nothing_to_deploy("<b>&", Some("staging")),
        super::nothing_to_deploy("dev", None)
    ));
}

#[test]
fn deploy_version_question() {
    insta::assert_snapshot!(format!(
        "{}\n\n{}",
        super::deploy_version_question("<b>&", Some("staging")),
        super::deploy_version_question("dev", None)
    ));
}

#[test]
fn may_roll_back_nowhere() {
    insta::assert_snapshot!(super::may_roll_back_nowhere());
}

#[test]
fn may_not_roll_back() {
    insta::assert_snapshot!(super::may_not_roll_back("<b>&"));
}

#[test]
fn rollback_where() {
    insta::assert_snapshot!(super::rollback_where());
}

#[test]
fn rollback_choice_label() {
    insta::assert_snapshot!(super::rollback_choice_label("1.2.2", "3d 4h ago"));
}

#[test]
fn nothing_to_roll_back_to() {
    insta::assert_snapshot!(super::nothing_to_roll_back_to("<b>&"));
}

#[test]
fn rollback_version_question() {
    insta::assert_snapshot!(format!(
        "{}\n\n{}",
        super::rollback_version_question("<b>&", Some("1.3.0")),
        super::rollback_version_question("prod", None)
    ));
}

#[test]
fn left() {
    insta::assert_snapshot!(super::left());
}

#[test]
fn not_yours_to_cancel() {
    insta::assert_snapshot!(super::not_yours_to_cancel("Ann <b>&"));
}

#[test]
fn nothing_to_cancel() {
    insta::assert_snapshot!(super::nothing_to_cancel());
}

#[test]
fn dialogue_over() {
    insta::assert_snapshot!(super::dialogue_over());
}

#[test]
fn not_your_dialogue() {
    insta::assert_snapshot!(super::not_your_dialogue("Ann <b>&"));
}

#[test]
fn cancelled_answer() {
    insta::assert_snapshot!(super::cancelled_answer());
}

#[test]
fn cancelled() {
    insta::assert_snapshot!(super::cancelled());
}

#[test]
fn nothing_to_offer() {
    insta::assert_snapshot!(super::nothing_to_offer());
}

#[test]
fn already_done() {
    insta::assert_snapshot!(super::already_done());
}

#[test]
fn not_done() {
    insta::assert_snapshot!(super::not_done());
}

#[test]
fn release_confirm() {
    insta::assert_snapshot!(super::release_confirm("1.4.0", "<b>&"));
}

#[test]
fn release_confirm_label() {
    insta::assert_snapshot!(super::release_confirm_label("1.4.0"));
}

#[test]
fn deploy_confirm() {
    insta::assert_snapshot!(super::deploy_confirm("1.4.0", "<b>&"));
}

#[test]
fn deploy_confirm_label() {
    insta::assert_snapshot!(super::deploy_confirm_label("1.4.0", "prod"));
}

#[test]
fn rollback_confirm() {
    insta::assert_snapshot!(super::rollback_confirm("<b>&", "1.2.2"));
}

#[test]
fn rollback_confirm_label() {
    insta::assert_snapshot!(super::rollback_confirm_label("prod", "1.2.2"));
}

#[test]
fn release_asked() {
    insta::assert_snapshot!(super::release_asked("1.4.0", "minor", "Ann <b>&"));
}

#[test]
fn deploy_asked() {
    insta::assert_snapshot!(super::deploy_asked("1.4.0", "<b>&", "Ann <b>&"));
}

#[test]
fn rollback_asked() {
    insta::assert_snapshot!(super::rollback_asked("<b>&", "1.2.2", "Ann <b>&"));
}
