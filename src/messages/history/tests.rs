use super::Entry;
use crate::domain::{OperationKind, OperationState, ReleaseType};
use crate::messages::testing::{AT, op};

#[test]
fn nothing_yet() {
    insta::assert_snapshot!(super::nothing_yet("<b>&"));
}

#[test]
fn history() {
    let mut deploy = op(12, OperationKind::Deploy, Some("prod"), "1.3.0");
    deploy.state = OperationState::Succeeded;
    deploy.dispatched_at = Some(AT + 60_000);
    deploy.updated_at = AT + 60_000 + 245_000;
    let mut rollback = op(11, OperationKind::Rollback, Some("staging"), "1.2.2");
    rollback.state = OperationState::Failed;
    let mut release = op(10, OperationKind::Release, None, "1.3.0");
    release.release_type = Some(ReleaseType::Minor);
    release.state = OperationState::Cancelled;
    let mut odd = op(9, OperationKind::Deploy, Some("dev"), "<b>&");
    odd.state = OperationState::Running;
    let entries = [
        Entry {
            op: &deploy,
            asked_by: "Ann <b>&".into(),
            approved_by: vec!["Bob".into(), "Carol <QA>".into()],
        },
        Entry {
            op: &rollback,
            asked_by: "Bob".into(),
            approved_by: vec![],
        },
        Entry {
            op: &release,
            asked_by: "Ann".into(),
            approved_by: vec![],
        },
        Entry {
            op: &odd,
            asked_by: "GitHub Actions".into(),
            approved_by: vec![],
        },
    ];
    insta::assert_snapshot!(super::history("<b>&", &entries));
}
