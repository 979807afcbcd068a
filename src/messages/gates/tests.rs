use crate::domain::{Env, GateRefusal, OperationKind, OperationState, Role};
use crate::store::OperationRow;

const RUN: &str = "https://github.com/o/r/actions/runs/7";

fn op() -> OperationRow {
    OperationRow {
        id: 2,
        kind: OperationKind::Deploy,
        env: Some(Env::parse("prod").unwrap()),
        version: "1.3.0".into(),
        release_type: None,
        state: OperationState::Running,
        requested_by: 1,
        chat_id: -100,
        request_id: "r".into(),
        run_id: Some(7),
        run_url: Some(RUN.into()),
        detail: None,
        created_at: 0,
        updated_at: 0,
        expires_at: None,
        dispatched_at: None,
        direct_ecs: false,
    }
}

#[test]
fn prompt() {
    insta::assert_snapshot!(format!(
        "{}\n---\n{}",
        super::prompt(&op(), "Alice", "production <&>", RUN, true),
        super::prompt(&op(), "Alice", "production", RUN, false)
    ));
}

#[test]
fn reviewed() {
    insta::assert_snapshot!(format!(
        "{}\n---\n{}",
        super::reviewed(&op(), "Alice", "production", RUN, "Bob <b>", true),
        super::reviewed(&op(), "Alice", "production", RUN, "Bob", false)
    ));
}

#[test]
fn review_comment() {
    insta::assert_snapshot!(format!(
        "{}\n{}",
        super::review_comment("Bob", 2, true, 12),
        super::review_comment("Bob", 2, false, 12)
    ));
}

#[test]
fn answers() {
    insta::assert_snapshot!(
        [
            super::done(true),
            super::done(false),
            super::already_reviewed("Bob"),
            super::being_reviewed("Bob"),
            super::refused(&GateRefusal::NotAnApprover {
                roles: vec![Role::new("senior"), Role::new("lead")]
            }),
            super::refused(&GateRefusal::OwnRequest),
            super::not_pending("production"),
            super::bot_not_a_reviewer("production"),
        ]
        .join("\n")
    );
}
