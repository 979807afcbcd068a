use super::*;
use crate::adapters::ecs::DeploymentState;
use crate::domain::Env;
use crate::domain::health::ProbeFailure;
use crate::domain::{OperationKind, OperationState};
use crate::service::{EnvStatus, ServiceStatus};
use crate::store::{LockRow, OperationRow, VerdictRow};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn deployment(status: &str, image: &str, rollout: &str, created: &str) -> DeploymentState {
    DeploymentState {
        status: status.into(),
        task_definition: format!(
            "arn:aws:ecs:eu-west-1:1:task-definition/api:{}",
            image.len()
        ),
        image: Some(image.into()),
        rollout_state: Some(rollout.into()),
        rollout_reason: None,
        created_at: Some(at(created)),
        running: 2,
        desired: 2,
        failed_tasks: 0,
    }
}

fn service(running: i32, desired: i32, deployments: Vec<DeploymentState>) -> ServiceState {
    ServiceState {
        status: "ACTIVE".into(),
        running,
        desired,
        pending: desired - running,
        deployments,
    }
}

fn report(envs: Vec<EnvStatus>) -> StatusReport {
    StatusReport {
        now: at("2026-11-25T14:00:00Z"),
        repo: "mindburn-labs/aletheia".into(),
        repo_url: "https://github.com/mindburn-labs/aletheia".into(),
        git_ref: "main".into(),
        release: Ok(Some(Release {
            id: 1,
            tag_name: "v1.3.0".into(),
            name: None,
            html_url: "https://github.com/mindburn-labs/aletheia/releases/tag/v1.3.0".into(),
            published_at: Some(at("2026-11-23T09:30:00Z")),
            draft: false,
            prerelease: false,
        })),
        ci: Ok(CiState {
            sha: Some("3f9c2ab41d".into()),
            verdict: CiVerdict::Green { total: 4 },
        }),
        envs,
        store_error: None,
        failed_alerts: 0,
    }
}

fn env(name: &str, service: Result<ServiceState, String>) -> EnvStatus {
    EnvStatus {
        env: Env::parse(name).unwrap(),
        services: vec![ServiceStatus {
            name: "aletheia-api".into(),
            state: service,
        }],
        lock: None,
        freeze: None,
        next_freeze: None,
        operations: vec![],
        last_deploy: None,
        verdict: None,
        health: None,
        auto_deploy: false,
    }
}

#[test]
fn all_is_well() {
    let r = report(vec![
        env(
            "dev",
            Ok(service(
                2,
                2,
                vec![deployment(
                    "PRIMARY",
                    "repo/api:1.3.0",
                    "COMPLETED",
                    "2026-11-25T10:41:00Z",
                )],
            )),
        ),
        env(
            "staging",
            Ok(service(
                2,
                2,
                vec![deployment(
                    "PRIMARY",
                    "repo/api:v1.3.0",
                    "COMPLETED",
                    "2026-11-24T16:00:00Z",
                )],
            )),
        ),
        env(
            "prod",
            Ok(service(
                4,
                4,
                vec![deployment(
                    "PRIMARY",
                    "repo/api:1.2.2",
                    "COMPLETED",
                    "2026-11-20T08:00:00Z",
                )],
            )),
        ),
    ]);
    insta::assert_snapshot!(render_status(&r));
}

#[test]
fn rollout_in_progress_failed_and_errors() {
    let mut failed = deployment(
        "PRIMARY",
        "repo/api:1.3.0",
        "FAILED",
        "2026-11-25T13:50:00Z",
    );
    failed.rollout_reason = Some("ECS deployment circuit breaker: tasks failed to start.".into());
    failed.failed_tasks = 3;
    let mut r = report(vec![
        env(
            "dev",
            Ok(service(
                1,
                2,
                vec![
                    deployment(
                        "PRIMARY",
                        "repo/api:1.3.0",
                        "IN_PROGRESS",
                        "2026-11-25T13:55:00Z",
                    ),
                    deployment(
                        "ACTIVE",
                        "repo/api:1.2.2",
                        "COMPLETED",
                        "2026-11-20T08:00:00Z",
                    ),
                ],
            )),
        ),
        env("staging", Ok(service(0, 2, vec![failed]))),
        env(
            "prod",
            Err("ClusterNotFoundException: Cluster not found.".into()),
        ),
    ]);
    r.envs[1].verdict = Some((
        VerdictRow {
            env: "staging".into(),
            version: "1.3.0".into(),
            verdict: "issues".into(),
            user_id: 100000003,
            decided_at: at("2026-11-25T13:30:00Z").timestamp_millis(),
        },
        "Carol".into(),
    ));
    r.envs[2].last_deploy = Some((
        OperationRow {
            id: 9,
            kind: OperationKind::Deploy,
            env: Some(Env::parse("prod").unwrap()),
            version: "1.2.2".into(),
            release_type: None,
            state: OperationState::Succeeded,
            requested_by: 100000002,
            chat_id: -1,
            request_id: "r".into(),
            run_id: None,
            run_url: None,
            detail: None,
            created_at: 0,
            updated_at: at("2026-11-20T08:05:00Z").timestamp_millis(),
            expires_at: None,
            dispatched_at: None,
            direct_ecs: false,
        },
        "Bob".into(),
    ));
    r.envs[2].lock = Some((
        LockRow {
            env: "prod".into(),
            locked_by: 100000002,
            reason: "incident <42>".into(),
            locked_at: 0,
            expires_at: Some(at("2026-11-25T18:00:00Z").timestamp_millis()),
        },
        "Bob".into(),
    ));
    r.envs[2].freeze = Some(crate::domain::freeze::Frozen {
        reason: "Weekend <prod>".into(),
        source: crate::domain::freeze::FreezeSource::AdHoc { by: "Bob".into() },
        until: at("2026-11-30T07:00:00Z"),
    });
    r.envs[1].next_freeze = Some(crate::domain::freeze::Upcoming {
        reason: "Year-end".into(),
        schedule: crate::domain::freeze::Schedule::Dated {
            from: crate::domain::freeze::parse_local("2026-12-24 00:00").unwrap(),
            until: crate::domain::freeze::parse_local("2027-01-02 08:00").unwrap(),
            zone: crate::domain::freeze::parse_zone("Europe/Berlin").unwrap(),
        },
        from: at("2026-12-23T23:00:00Z"),
        until: at("2027-01-02T07:00:00Z"),
    });
    r.envs[2].operations = vec![(
        OperationRow {
            id: 12,
            kind: OperationKind::Deploy,
            env: Some(Env::parse("prod").unwrap()),
            version: "1.3.0".into(),
            release_type: None,
            state: OperationState::AwaitingApproval,
            requested_by: 100000001,
            chat_id: -1,
            request_id: "r".into(),
            run_id: None,
            run_url: None,
            detail: None,
            created_at: at("2026-11-25T13:57:00Z").timestamp_millis(),
            updated_at: 0,
            expires_at: None,
            dispatched_at: None,
            direct_ecs: false,
        },
        "Alice".into(),
    )];
    r.release = Err("GitHub unreachable: connection refused".into());
    r.ci = Ok(CiState {
        sha: Some("3f9c2ab41d".into()),
        verdict: CiVerdict::Failing {
            names: vec!["test".into(), "lint".into()],
        },
    });
    r.failed_alerts = 2;
    insta::assert_snapshot!(render_status(&r));
}

#[test]
fn odd_images() {
    let r = report(vec![
        env(
            "dev",
            Ok(service(
                2,
                2,
                vec![deployment(
                    "PRIMARY",
                    "repo/api:latest",
                    "COMPLETED",
                    "2026-11-25T10:41:00Z",
                )],
            )),
        ),
        env(
            "staging",
            Ok(service(
                0,
                0,
                vec![deployment(
                    "PRIMARY",
                    "repo/api@sha256:abcdef",
                    "COMPLETED",
                    "2026-11-25T10:41:00Z",
                )],
            )),
        ),
    ]);
    insta::assert_snapshot!(render_status(&r));
}

fn completed(image: &str) -> Result<ServiceState, String> {
    Ok(service(
        2,
        2,
        vec![deployment(
            "PRIMARY",
            image,
            "COMPLETED",
            "2026-11-25T10:41:00Z",
        )],
    ))
}

#[test]
fn health_beside_the_ecs_figures() {
    let mut r = report(vec![
        env("dev", completed("repo/api:1.3.0")),
        env("staging", completed("repo/api:1.3.0")),
        env("prod", completed("repo/api:1.2.2")),
        env(
            "sandbox",
            Err("ClusterNotFoundException: Cluster not found.".into()),
        ),
    ]);
    // dev: the monitor saw 200 a few seconds ago.
    r.envs[0].health = Some(HealthStatus {
        answer: Ok(200),
        at: at("2026-11-25T13:59:48Z"),
        live: false,
        failing: None,
    });
    // staging: the monitor had not looked lately; asked now, it timed out.
    r.envs[1].health = Some(HealthStatus {
        answer: Err(ProbeFailure::Timeout),
        at: at("2026-11-25T14:00:00Z"),
        live: true,
        failing: None,
    });
    // prod: ECS is content, the health URL is not: no ✅.
    r.envs[2].health = Some(HealthStatus {
        answer: Err(ProbeFailure::Status(503)),
        at: at("2026-11-25T13:59:30Z"),
        live: false,
        failing: Some((4, Some(at("2026-11-25T13:58:00Z")))),
    });
    r.envs[3].health = Some(HealthStatus {
        answer: Err(ProbeFailure::Refused),
        at: at("2026-11-25T13:59:30Z"),
        live: false,
        failing: Some((2, None)),
    });
    let text = render_status(&r);
    let prod = text.lines().find(|l| l.starts_with("<b>prod</b>")).unwrap();
    assert!(!prod.contains('✅'), "{prod}");
    insta::assert_snapshot!(text);
}

#[test]
fn an_environment_that_deploys_itself_shows_its_tags_as_they_are() {
    let running = |image: &str| {
        Ok(service(
            2,
            2,
            vec![deployment(
                "PRIMARY",
                image,
                "COMPLETED",
                "2026-11-25T10:41:00Z",
            )],
        ))
    };
    let r = report(vec![
        EnvStatus {
            auto_deploy: true,
            ..env("dev", running("repo/api:main-1a2b3c4"))
        },
        env("staging", running("repo/api:main-1a2b3c4")),
    ]);
    insta::assert_snapshot!(render_status(&r));
}

#[test]
fn several_services_per_environment() {
    let running = |image: &str| {
        Ok(service(
            2,
            2,
            vec![deployment(
                "PRIMARY",
                image,
                "COMPLETED",
                "2026-11-25T10:41:00Z",
            )],
        ))
    };
    let named = |name: &str, state: Result<ServiceState, String>| ServiceStatus {
        name: name.into(),
        state,
    };
    let mut failed = deployment(
        "PRIMARY",
        "repo/worker:1.3.0",
        "FAILED",
        "2026-11-25T13:50:00Z",
    );
    failed.rollout_reason = Some("tasks failed to start".into());
    let r = report(vec![
        EnvStatus {
            services: vec![
                named("api", running("repo/api:1.3.0")),
                named("worker", running("repo/worker:v1.3.0")),
            ],
            ..env("staging", Err(String::new()))
        },
        EnvStatus {
            services: vec![
                named("api", running("repo/api:1.3.0")),
                named("worker", running("repo/worker:1.2.3")),
                named("cron", Ok(service(0, 2, vec![failed]))),
                named("mailer", Err("ServiceNotFoundException: <mailer>".into())),
            ],
            ..env("prod", Err(String::new()))
        },
    ]);
    insta::assert_snapshot!(render_status(&r));
}

#[test]
fn store_unreadable() {
    insta::assert_snapshot!(super::store_unreadable("1a2b3c4d"));
}
