use super::*;

#[test]
fn help_lists_every_command() {
    insta::assert_snapshot!(help_text());
}
