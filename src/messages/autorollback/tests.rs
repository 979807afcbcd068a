use crate::domain::{OperationKind, OperationState};
use crate::messages::testing::op;

fn failed(state: OperationState) -> crate::store::OperationRow {
    let mut op = op(7, OperationKind::Deploy, Some("prod"), "1.1.0<b>");
    op.state = state;
    op
}

#[test]
fn requester() {
    insta::assert_snapshot!(super::requester());
}

#[test]
fn requested() {
    insta::assert_snapshot!(format!(
        "{}\n\n{}",
        super::requested(&failed(OperationState::Unhealthy), "1.0.0&", 1),
        super::requested(&failed(OperationState::Failed), "1.0.0", 0)
    ));
}

#[test]
fn not_requested() {
    insta::assert_snapshot!(super::not_requested(
        &failed(OperationState::Unhealthy),
        "⛔ <b>prod</b> is busy"
    ));
}

#[test]
fn no_target() {
    insta::assert_snapshot!(super::no_target(&failed(OperationState::Failed)));
}
