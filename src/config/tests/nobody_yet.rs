//! A config without `[[users]]`: the first start (what `init` writes),
//! valid though nobody holds the roles it names; once somebody is listed,
//! every role must be held again.

use super::*;

const NOBODY: &str = r#"
[github]
owner = "acme"
repo = "shop"
[github.workflows.release]
file = "release.yml"
[github.workflows.deploy]
file = "deploy.yml"
[github.workflows.rollback]
file = "rollback.yml"

[aws]
region = "eu-west-1"

[environments.prod]
cluster = "shop-prod"
service = "api"
container = "api"
requesters = ["developer", "senior"]
[environments.prod.approval]
approvers = ["seniour"]
approvals = 1
"#;

#[test]
fn without_users_the_roles_are_not_asked_for_until_someone_is_listed() {
    let config = parse(NOBODY).unwrap();
    assert!(config.users.is_empty());
    let someone = format!("{NOBODY}\n[[users]]\nid = 42\nname = \"Ann\"\nroles = [\"senior\"]\n");
    let err = error(&someone);
    assert!(
        err.contains("environments.prod.approval.approvers: no user holds the role \"seniour\""),
        "{err}"
    );
    assert!(
        err.contains("environments.prod.requesters: no user holds the role \"developer\""),
        "{err}"
    );
    // What does not depend on anyone is still checked.
    let no_approver = NOBODY.replace("approvers = [\"seniour\"]\n", "");
    assert!(
        error(&no_approver)
            .contains("environments.prod.approval.approvers: 1 approval(s) needed but no approver role is named"),
        "{}",
        error(&no_approver)
    );
}
