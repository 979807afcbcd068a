use super::*;
use crate::domain::{OperationState, RollbackRefusal};

const NAME: &str = "<b>&";

fn prod() -> Env {
    Env::parse("prod").unwrap()
}

fn seniors() -> Vec<Role> {
    vec![Role::new("senior")]
}

fn needs_of(approvers: &[Role]) -> Needs<'_> {
    Needs {
        needed: 1,
        approvers,
        not: Some(NAME),
        expires_at: "2026-11-30 03:10 UTC",
        expires_in: "1h",
        groups: &[],
    }
}

#[test]
fn refused() {
    insta::assert_snapshot!(super::refused(
        "⛔ 1.3.0 is not a <released> version & more."
    ));
}

#[test]
fn deploy_unknown_env() {
    insta::assert_snapshot!(super::deploy_unknown_env(&prod()));
}

#[test]
fn rollback_unknown_env() {
    insta::assert_snapshot!(super::rollback_unknown_env());
}

#[test]
fn release_unchecked() {
    insta::assert_snapshot!(super::release_unchecked(
        "1.3.0",
        "GitHub answered <500> & more"
    ));
}

#[test]
fn running() {
    insta::assert_snapshot!(format!(
        "{}\n{}\n{}",
        super::running(&Ok(Some(NAME.into()))),
        super::running(&Ok(None)),
        super::running(&Err("throttled <x>".into()))
    ));
}

#[test]
fn deploy_dry_run_refused() {
    insta::assert_snapshot!(super::deploy_dry_run_refused(
        &prod(),
        "1.3.0",
        "🔒 prod is locked by <b>&: incident."
    ));
}

#[test]
fn deploy_dry_run() {
    let approvers = seniors();
    insta::assert_snapshot!(format!(
        "{}\n{}",
        super::deploy_dry_run(&prod(), "1.3.0", None, "<b>1.2.0</b>"),
        super::deploy_dry_run(
            &prod(),
            "1.3.0",
            Some((1, &approvers, Some(NAME))),
            "<b>1.2.0</b>"
        )
    ));
}

#[test]
fn deploy_prompt() {
    let approvers = seniors();
    insta::assert_snapshot!(super::deploy_prompt(
        &prod(),
        "1.3.0",
        NAME,
        "<b>1.2.0</b>",
        &super::artifact("repo/app:1.3.0", "app:7"),
        &needs_of(&approvers),
        &super::no_changes_since("v1.2.0"),
    ));
}

#[test]
fn deploy_at_once() {
    insta::assert_snapshot!(super::deploy_at_once(7, &prod(), "1.3.0"));
}

#[test]
fn no_changes_since() {
    insta::assert_snapshot!(super::no_changes_since("v1.2.0"));
}

#[test]
fn changes_since() {
    let subjects: Vec<String> = (1..=12).map(|i| format!("Fix <b>&{i}")).collect();
    insta::assert_snapshot!(format!(
        "{}\n---{}",
        super::changes_since(
            "v1.2.0",
            12,
            &subjects,
            "https://github.com/o/r/compare/a...b"
        ),
        super::changes_since("v1.2.0", 1, &subjects[..1], "https://x/?a=1&b=2")
    ));
}

#[test]
fn artifact() {
    insta::assert_snapshot!(super::artifact("repo/app:1.3.0", "app<b>&:7"));
}

#[test]
fn artifact_unregistered() {
    insta::assert_snapshot!(super::artifact_unregistered("1.3.0"));
}

#[test]
fn artifact_unknown() {
    insta::assert_snapshot!(super::artifact_unknown("1.3.0", "AccessDenied <x>"));
}

#[test]
fn busy() {
    insta::assert_snapshot!(super::busy(&prod()));
}

#[test]
fn rollback_not_released() {
    insta::assert_snapshot!(super::rollback_not_released("1.2.0"));
}

#[test]
fn rollback_release_unchecked() {
    insta::assert_snapshot!(super::rollback_release_unchecked(
        "1.2.0",
        "403 <forbidden>"
    ));
}

#[test]
fn ecs_unreadable() {
    insta::assert_snapshot!(super::ecs_unreadable(&prod(), "throttled <x>"));
}

#[test]
fn already_runs() {
    insta::assert_snapshot!(super::already_runs(&prod(), "1.2.0"));
}

#[test]
fn never_ran() {
    insta::assert_snapshot!(super::never_ran(&prod(), "1.1.0"));
}

#[test]
fn ran_here_after() {
    insta::assert_snapshot!(super::ran_here_after(4, "2026-11-29 10:00 UTC"));
}

#[test]
fn carried_by() {
    insta::assert_snapshot!(super::carried_by("app:5"));
}

#[test]
fn rollback_refused() {
    let env = prod();
    insta::assert_snapshot!(format!(
        "{}\n{}\n{}",
        super::rollback_refused(&RollbackRefusal::BreakGlassOff { env: env.clone() }),
        super::rollback_refused(&RollbackRefusal::NotABreaker {
            env: env.clone(),
            roles: vec![Role::new("senior")],
        }),
        super::rollback_refused(&RollbackRefusal::NotARequester {
            env,
            roles: vec![Role::new("senior")],
        })
    ));
}

#[test]
fn rollback_body() {
    insta::assert_snapshot!(super::rollback_body(
        NAME,
        "1.3.0",
        &super::artifact("repo/app:1.2.0", "app:5"),
        "ran here after #4 (2026-11-29 10:00 UTC)",
        &super::migrations_added("v1.2.0", &[&"migrations/0042_<b>&.sql".to_owned()]),
    ));
}

#[test]
fn rollback_prompt() {
    let approvers = seniors();
    let body = super::rollback_body(NAME, "1.3.0", "<code>x</code>", "ran here", "");
    insta::assert_snapshot!(super::rollback_prompt(
        &prod(),
        "1.2.0",
        &body,
        &needs_of(&approvers)
    ));
}

#[test]
fn break_glass() {
    insta::assert_snapshot!(super::break_glass(
        NAME,
        &prod(),
        "1.3.0",
        "1.2.0",
        "500s <b>&"
    ));
}

#[test]
fn rollback_at_once() {
    let body = super::rollback_body(NAME, "1.3.0", "<code>x</code>", "ran here", "");
    insta::assert_snapshot!(format!(
        "{}\n---\n{}",
        super::rollback_at_once(3, &prod(), "1.2.0", true, &body),
        super::rollback_at_once(3, &prod(), "1.2.0", false, &body)
    ));
}

#[test]
fn rollback_busy() {
    let busy = crate::domain::DeployRefusal::Busy {
        env: prod(),
        id: 2,
        kind: OperationKind::Deploy,
        version: "1.3.0".into(),
        state: OperationState::Running,
    };
    insta::assert_snapshot!(super::rollback_busy(&busy.message()));
}

#[test]
fn withdrawn_for_rollback() {
    insta::assert_snapshot!(super::withdrawn_for_rollback(
        OperationKind::Deploy,
        2,
        "1.3.0",
        &prod(),
        NAME
    ));
}

#[test]
fn migrations_added() {
    let files: Vec<String> = (1..=12)
        .map(|i| format!("migrations/{i:04}_<x>.sql"))
        .collect();
    let added: Vec<&String> = files.iter().collect();
    insta::assert_snapshot!(super::migrations_added("v1.2.0", &added));
}

#[test]
fn migrations_unchecked() {
    insta::assert_snapshot!(super::migrations_unchecked(
        "v1.2.0",
        "v1.3.0",
        "502 <bad gateway>"
    ));
}

#[test]
fn deploy_prompt_with_groups() {
    let progress = [
        crate::domain::GroupProgress {
            role: Role::new("qa"),
            given: 0,
            count: 1,
        },
        crate::domain::GroupProgress {
            role: Role::new("<senior>"),
            given: 0,
            count: 2,
        },
    ];
    let approvers = seniors();
    insta::assert_snapshot!(super::deploy_prompt(
        &prod(),
        "1.3.0",
        NAME,
        "<b>1.2.0</b>",
        &super::artifact("repo/app:1.3.0", "app:7"),
        &Needs {
            groups: &progress,
            ..needs_of(&approvers)
        },
        &super::no_changes_since("v1.2.0"),
    ));
}
