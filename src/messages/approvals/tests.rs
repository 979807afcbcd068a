use super::*;

const NAME: &str = "<b>&";

fn op(kind: OperationKind) -> OperationRow {
    OperationRow {
        id: 2,
        kind,
        env: Some(Env::parse("prod").unwrap()),
        version: "1.3.0".into(),
        release_type: None,
        state: OperationState::AwaitingApproval,
        requested_by: 1,
        chat_id: -100,
        request_id: "r".into(),
        run_id: None,
        run_url: None,
        detail: None,
        created_at: 0,
        updated_at: 0,
        expires_at: None,
        dispatched_at: None,
        direct_ecs: false,
    }
}

fn deploy() -> OperationRow {
    op(OperationKind::Deploy)
}

fn rollback() -> OperationRow {
    op(OperationKind::Rollback)
}

#[test]
fn op_title() {
    insta::assert_snapshot!(format!(
        "{}\n{}",
        super::op_title(&deploy()),
        super::op_title(&rollback())
    ));
}

#[test]
fn head() {
    insta::assert_snapshot!(super::head(&deploy(), NAME));
}

#[test]
fn rejected() {
    insta::assert_snapshot!(super::rejected(&deploy(), "Alice", NAME));
}

#[test]
fn approved() {
    let direct = OperationRow {
        direct_ecs: true,
        ..rollback()
    };
    insta::assert_snapshot!(format!(
        "{}\n{}\n{}",
        super::approved(&deploy(), "Alice", NAME),
        super::approved(&rollback(), "Alice", NAME),
        super::approved(&direct, "Alice", NAME)
    ));
}

#[test]
fn stale() {
    insta::assert_snapshot!(super::stale(
        &deploy(),
        "Alice",
        NAME,
        "prod was locked by Bob: <b>&"
    ));
}

#[test]
fn lapsed() {
    insta::assert_snapshot!(super::lapsed(
        &deploy(),
        "Alice",
        "Dave",
        &[NAME.to_owned()],
        1,
        2,
        &[Role::new("senior")],
        Some("2026-11-30 03:10 UTC"),
    ));
}

#[test]
fn no_longer_counts() {
    insta::assert_snapshot!(format!(
        "{}\n{}",
        super::no_longer_counts(&["Bob".to_owned()]),
        super::no_longer_counts(&["Bob".to_owned(), "Erin".to_owned()])
    ));
}

#[test]
fn no_approver_sees() {
    let policy = EnvPolicy {
        requesters: vec![Role::new("developer")],
        approvers: vec![Role::new("senior")],
        approvals: 1,
        four_eyes: true,
        requires_verified_in: None,
        groups: vec![],
    };
    insta::assert_snapshot!(super::no_approver_sees(
        &Env::parse("prod").unwrap(),
        &policy
    ));
}

#[test]
fn approve_label() {
    insta::assert_snapshot!(super::approve_label());
}

#[test]
fn reject_label() {
    insta::assert_snapshot!(super::reject_label());
}

#[test]
fn confirm_label() {
    insta::assert_snapshot!(format!(
        "{}\n{}",
        super::confirm_label(&deploy()),
        super::confirm_label(&rollback())
    ));
}

#[test]
fn arm_prompt() {
    let label = super::confirm_label(&deploy());
    insta::assert_snapshot!(super::arm_prompt(NAME, &label, "30s"));
}

#[test]
fn arm_answer() {
    insta::assert_snapshot!(super::arm_answer("Confirm deploy 1.3.0 → prod", "30s"));
}

#[test]
fn not_armed() {
    insta::assert_snapshot!(super::not_armed());
}

#[test]
fn stale_answer() {
    insta::assert_snapshot!(super::stale_answer("prod was locked by Bob: <b>&"));
}

#[test]
fn recheck_unavailable() {
    insta::assert_snapshot!(super::recheck_unavailable("1a2b3c4d"));
}

#[test]
fn dispatching() {
    insta::assert_snapshot!(format!(
        "{}\n{}",
        super::dispatching(&deploy()),
        super::dispatching(&rollback())
    ));
}

#[test]
fn approved_and() {
    insta::assert_snapshot!(super::approved_and("Rolling back on ECS."));
}

#[test]
fn dispatch_failed() {
    insta::assert_snapshot!(super::dispatch_failed("GitHub answered 500"));
}

#[test]
fn rejected_answer() {
    insta::assert_snapshot!(super::rejected_answer());
}

#[test]
fn recorded() {
    insta::assert_snapshot!(super::recorded(1, 2));
}

#[test]
fn recorded_lapsed() {
    insta::assert_snapshot!(super::recorded_lapsed(&[NAME.to_owned()], 1, 2));
}

#[test]
fn already_voted() {
    insta::assert_snapshot!(super::already_voted());
}

#[test]
fn too_late() {
    insta::assert_snapshot!(super::too_late(OperationState::Cancelled));
}

fn progress() -> Vec<crate::domain::GroupProgress> {
    vec![
        crate::domain::GroupProgress {
            role: Role::new("qa"),
            given: 1,
            count: 1,
        },
        crate::domain::GroupProgress {
            role: Role::new("<senior>"),
            given: 1,
            count: 2,
        },
    ]
}

#[test]
fn groups_progress() {
    insta::assert_snapshot!(super::groups_progress(&progress()));
}

#[test]
fn counted() {
    insta::assert_snapshot!(format!(
        "{}\n---\n{}",
        super::counted(
            &deploy(),
            NAME,
            NAME,
            &progress(),
            Some("2026-11-30 03:10 UTC")
        ),
        super::counted(&rollback(), NAME, NAME, &progress(), None)
    ));
}

#[test]
fn reminder() {
    let approvers = [(42, NAME.to_owned()), (43, "Erin".to_owned())];
    insta::assert_snapshot!(format!(
        "{}\n---\n{}",
        super::reminder(&deploy(), &approvers, "2026-11-30 03:10 UTC"),
        super::reminder(&rollback(), &[], "2026-11-30 03:10 UTC")
    ));
}
