use crate::domain::{Env, OperationKind, OperationState, ReleaseType};
use crate::store::OperationRow;

fn op(kind: OperationKind) -> OperationRow {
    OperationRow {
        id: 7,
        kind,
        env: match kind {
            OperationKind::Release => None,
            _ => Some(Env::parse("prod").unwrap()),
        },
        version: "1.3.0<b>&".into(),
        release_type: (kind == OperationKind::Release).then_some(ReleaseType::Minor),
        state: OperationState::Running,
        requested_by: 1,
        chat_id: -1,
        request_id: "req-<b>&".into(),
        run_id: Some(9001),
        run_url: Some("https://github.com/o/r/actions/runs/9001?a=1&b=2".into()),
        detail: None,
        created_at: 0,
        updated_at: 0,
        expires_at: Some(600_000),
        dispatched_at: None,
        direct_ecs: false,
    }
}

const WHO: &str = "Asked by Ann · approved by Bob";
const RUN: &str = "https://github.com/o/r/actions/runs/9001";

#[test]
fn what() {
    insta::assert_snapshot!(
        [
            OperationKind::Deploy,
            OperationKind::Rollback,
            OperationKind::Release
        ]
        .map(|k| super::what(&op(k)))
        .join("\n")
    );
}

#[test]
fn who() {
    insta::assert_snapshot!(
        [
            super::who(Some("Ann <b>&"), &["Bob".into(), "Carol & Co".into()]),
            super::who(Some("Ann"), &[]),
            super::who(None, &[]),
        ]
        .join("\n")
    );
}

#[test]
fn started() {
    insta::assert_snapshot!(
        [
            super::started(&op(OperationKind::Deploy), WHO, Some(RUN)),
            super::started(&op(OperationKind::Rollback), WHO, None),
        ]
        .join("\n---\n")
    );
}

#[test]
fn dispatch_unknown() {
    insta::assert_snapshot!(super::dispatch_unknown(
        &op(OperationKind::Deploy),
        "timed out <b>&",
        WHO
    ));
}

#[test]
fn dispatch_unknown_answer() {
    insta::assert_snapshot!(super::dispatch_unknown_answer("timed out after 10s"));
}

#[test]
fn dispatch_failed() {
    insta::assert_snapshot!(super::dispatch_failed(
        &op(OperationKind::Release),
        "HTTP 422 <b>&",
        WHO
    ));
}

#[test]
fn direct_rollback_offer() {
    insta::assert_snapshot!(super::direct_rollback_offer());
}

#[test]
fn running() {
    insta::assert_snapshot!(
        [
            super::running(&op(OperationKind::Deploy), 3, 5, &[], WHO, RUN),
            super::running(
                &op(OperationKind::Rollback),
                4,
                5,
                &["migrate <b>&", "smoke"],
                WHO,
                RUN
            ),
        ]
        .join("\n---\n")
    );
}

#[test]
fn confirming() {
    insta::assert_snapshot!(
        [
            super::confirming(&op(OperationKind::Deploy), Some(125), WHO, RUN),
            super::confirming(&op(OperationKind::Rollback), None, WHO, RUN),
        ]
        .join("\n---\n")
    );
}

#[test]
fn release_not_listed() {
    insta::assert_snapshot!(super::release_not_listed(
        &op(OperationKind::Release),
        Some(61),
        RUN
    ));
}

#[test]
fn failed() {
    insta::assert_snapshot!(
        [
            super::failed(
                &op(OperationKind::Deploy),
                "failure",
                &["build <b>&".into(), "test".into()],
                RUN
            ),
            super::failed(&op(OperationKind::Release), "cancelled", &[], RUN),
        ]
        .join("\n---\n")
    );
}

#[test]
fn failed_ring() {
    insta::assert_snapshot!(super::failed_ring(&op(OperationKind::Deploy)));
}

#[test]
fn no_run() {
    insta::assert_snapshot!(
        [
            super::no_run(&op(OperationKind::Deploy), 600),
            super::no_run(&op(OperationKind::Release), 600),
        ]
        .join("\n---\n")
    );
}

#[test]
fn checks_held() {
    insta::assert_snapshot!(
        [
            super::checks_held(2, "api<b>&:7", Some(200)),
            super::checks_held(1, "api:7", None),
        ]
        .join("\n")
    );
}

#[test]
fn checks_failed() {
    insta::assert_snapshot!(
        [
            super::checks_failed("ECS runs 1.2.3 (api:6), not 1.3.0 <b>&", Some(600)),
            super::checks_failed("ECS rollout of api:7 FAILED: tasks failed", None),
        ]
        .join("\n")
    );
}

#[test]
fn succeeded() {
    let checks = super::checks_held(2, "api:7", Some(200));
    insta::assert_snapshot!(
        [
            super::succeeded(&op(OperationKind::Deploy), 185, &checks, None),
            super::succeeded(&op(OperationKind::Rollback), 90, &checks, Some("1.4.0<b>&")),
        ]
        .join("\n---\n")
    );
}

#[test]
fn rollback_lock_reason() {
    insta::assert_snapshot!(super::rollback_lock_reason("1.4.0", "1.3.0"));
}

#[test]
fn incident_report_button() {
    insta::assert_snapshot!(super::incident_report_button());
}

#[test]
fn unhealthy() {
    let mut direct = op(OperationKind::Rollback);
    direct.direct_ecs = true;
    direct.run_url = None;
    let checks = super::checks_failed("1/2 tasks running", Some(600));
    insta::assert_snapshot!(
        [
            super::unhealthy(&op(OperationKind::Deploy), &checks),
            super::unhealthy(&direct, &checks),
        ]
        .join("\n---\n")
    );
}

#[test]
fn unhealthy_ring() {
    insta::assert_snapshot!(super::unhealthy_ring(&op(OperationKind::Deploy)));
}

#[test]
fn release_expired() {
    insta::assert_snapshot!(super::release_expired(&op(OperationKind::Release), 600));
}

#[test]
fn request_expired() {
    insta::assert_snapshot!(
        [
            super::request_expired(&op(OperationKind::Deploy), "Ann <b>&", 600),
            super::request_expired(&op(OperationKind::Rollback), "Ann", 600),
        ]
        .join("\n---\n")
    );
}

#[test]
fn adopted() {
    let mut live = op(OperationKind::Deploy);
    live.version = "1.2.9".into();
    live.state = OperationState::AwaitingApproval;
    let url = "https://github.com/o/r/actions/runs/9002";
    insta::assert_snapshot!(
        [
            super::adopted(OperationKind::Deploy, Some("staging"), "1.3.0", None, url),
            super::adopted(
                OperationKind::Deploy,
                Some("staging"),
                "1.3.0",
                Some(&live),
                url
            ),
            super::adopted(
                OperationKind::Rollback,
                Some("prod<b>&"),
                "1.2.9",
                None,
                url
            ),
            super::adopted(OperationKind::Release, None, "1.3.0", None, url),
        ]
        .join("\n---\n")
    );
}
