use crate::domain::{OperationKind, OperationState};
use crate::messages::testing::op;

#[test]
fn buttons() {
    insta::assert_snapshot!(format!(
        "{}\n{}\n{}",
        super::roll_back_button("1.2.3"),
        super::lock_button(),
        super::ack_button()
    ));
}

#[test]
fn lock_reason() {
    let mut failed = op(7, OperationKind::Deploy, Some("prod"), "1.3.0");
    failed.state = OperationState::Failed;
    let mut unhealthy = op(8, OperationKind::Rollback, Some("prod"), "1.2.0");
    unhealthy.state = OperationState::Unhealthy;
    insta::assert_snapshot!(format!(
        "{}\n{}",
        super::lock_reason(&failed),
        super::lock_reason(&unhealthy)
    ));
}

#[test]
fn no_healthy_version() {
    insta::assert_snapshot!(super::no_healthy_version("prod"));
}

#[test]
fn done() {
    insta::assert_snapshot!(format!(
        "{}\n{}\n{}",
        super::done("rollback"),
        super::done("lock"),
        super::done("status")
    ));
}

#[test]
fn acknowledged() {
    insta::assert_snapshot!(super::acknowledged("Ann <b>&"));
}

#[test]
fn refusal() {
    let long = format!("⛔ <b>prod</b> &lt;x&gt; &amp; {}", "y".repeat(300));
    insta::assert_snapshot!(super::refusal(&long));
}

#[test]
fn already_taken() {
    insta::assert_snapshot!(super::already_taken("Dave"));
}

#[test]
fn ack_refused() {
    insta::assert_snapshot!(super::ack_refused());
}

#[test]
fn escalation() {
    let mut failed = op(7, OperationKind::Deploy, Some("prod"), "1.3.0");
    failed.state = OperationState::Failed;
    insta::assert_snapshot!(super::escalation(&failed, 600, "Bob <b>&", 100000002));
}

#[test]
fn alarm_escalation() {
    insta::assert_snapshot!(super::alarm_escalation(
        "🔴 <b>prod</b> health URL down: 503 &amp; worse\n<a href=\"x\">details</a>",
        600,
        "Bob <b>&",
        100000002
    ));
}

#[test]
fn taken() {
    insta::assert_snapshot!(super::taken("❌ <b>prod</b> · deploy failed", "Dave <b>&"));
}

#[test]
fn health_lock_reason() {
    insta::assert_snapshot!(super::health_lock_reason("prod"));
}
