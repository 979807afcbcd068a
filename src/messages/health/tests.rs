use crate::domain::health::{HealthEvent, ProbeFailure};

#[test]
fn health() {
    let url = url::Url::parse("https://user:secret@api.example.com:8443/healthz?token=x").unwrap();
    let events = [
        HealthEvent::RolloutFailed {
            task_definition: "aletheia-prod-api:42".into(),
            version: Some("1.3.0".into()),
            reason: "tasks failed <b>&".into(),
            rolled_back_to: Some("aletheia-prod-api:41".into()),
        },
        HealthEvent::RolloutFailed {
            task_definition: "aletheia-prod-api:43".into(),
            version: None,
            reason: "no capacity".into(),
            rolled_back_to: None,
        },
        HealthEvent::TasksShort {
            running: 1,
            desired: 4,
            for_ms: 330_000,
        },
        HealthEvent::TasksRestored {
            running: 4,
            desired: 4,
        },
        HealthEvent::Unannounced {
            from: "aletheia-prod-api:41".into(),
            to: "aletheia-prod-api:44".into(),
            version: Some("<b>&".into()),
        },
        HealthEvent::Unannounced {
            from: "aletheia-prod-api:44".into(),
            to: "aletheia-prod-api:45".into(),
            version: None,
        },
        HealthEvent::Down {
            failures: 3,
            failure: ProbeFailure::Status(503),
        },
        HealthEvent::AutoDeployed {
            to: "aletheia-prod-api:46".into(),
            version: Some("1.3.1".into()),
        },
        HealthEvent::Recovered { status: 200 },
    ];
    let mut texts: Vec<String> = events
        .iter()
        .map(|e| super::health("<b>&", Some(&url), e))
        .collect();
    let down = HealthEvent::Down {
        failures: 2,
        failure: ProbeFailure::Timeout,
    };
    texts.push(super::health("prod", None, &down));
    insta::assert_snapshot!(texts.join("\n\n"));
}

#[test]
fn auto_deployed() {
    insta::assert_snapshot!(
        "auto_deployed",
        super::auto_deployed("dev", Some("main-1a2b3c4"), "aletheia-dev-api:7")
    );
    insta::assert_snapshot!(
        "auto_deployed_untagged",
        super::auto_deployed("dev", None, "aletheia-dev-api:7")
    );
}

#[test]
fn health_of_one_service_of_several() {
    let events = [
        HealthEvent::RolloutFailed {
            task_definition: "aletheia-prod-worker:42".into(),
            version: Some("1.3.0".into()),
            reason: "tasks failed".into(),
            rolled_back_to: Some("1.2.9".into()),
        },
        HealthEvent::TasksShort {
            running: 1,
            desired: 4,
            for_ms: 330_000,
        },
        HealthEvent::TasksRestored {
            running: 4,
            desired: 4,
        },
        HealthEvent::Unannounced {
            from: "aletheia-prod-worker:41".into(),
            to: "aletheia-prod-worker:44".into(),
            version: Some("1.3.1".into()),
        },
        HealthEvent::AutoDeployed {
            to: "aletheia-prod-worker:46".into(),
            version: Some("main-1a2b3c4".into()),
        },
    ];
    let texts: Vec<String> = events
        .iter()
        .map(|e| super::health_of("prod", Some("worker<b>&"), None, e))
        .collect();
    insta::assert_snapshot!(texts.join("\n\n"));
}
