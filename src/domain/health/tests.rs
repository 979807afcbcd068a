use super::*;

fn service(td: &str, state: &str, running: i32) -> SeenService {
    SeenService {
        deployments: vec![SeenDeployment {
            task_definition: td.into(),
            version: Some("1.3.0".into()),
            rollout_state: Some(state.into()),
            reason: Some("tasks failed to start".into()),
        }],
        running,
        desired: 2,
    }
}

fn seen(
    service: Option<SeenService>,
    probe: Option<Result<u16, ProbeFailure>>,
    now_ms: i64,
) -> Seen {
    Seen {
        services: vec![SeenOne {
            key: "c/api".into(),
            name: None,
            state: service,
            explained: false,
        }],
        probe,
        auto_deploy: false,
        now_ms,
    }
}

/// One step, its events without the service they are about (one).
fn step(prev: &Watch, seen: &Seen, grace_ms: i64, failures: u32) -> (Watch, Vec<HealthEvent>) {
    let (next, said) = watch(prev, seen, grace_ms, failures);
    assert!(said.iter().all(|s| s.service.is_none()), "{said:?}");
    (next, said.into_iter().map(|s| s.event).collect())
}

#[test]
fn a_failed_rollout_is_said_once() {
    let s = seen(Some(service("api:7", "FAILED", 0)), None, 0);
    let (w, events) = step(&Watch::default(), &s, 60_000, 3);
    assert!(matches!(
        events.as_slice(),
        [HealthEvent::RolloutFailed { .. }]
    ));
    let (_, again) = step(&w, &s, 60_000, 3);
    assert!(
        !again
            .iter()
            .any(|e| matches!(e, HealthEvent::RolloutFailed { .. })),
        "{again:?}"
    );
}

#[test]
fn short_tasks_wait_for_the_grace_then_alert_once_and_recover() {
    let grace = 60_000;
    let (w, e) = step(
        &Watch::default(),
        &seen(Some(service("a:1", "COMPLETED", 1)), None, 0),
        grace,
        3,
    );
    assert!(e.is_empty());
    let (w, e) = step(
        &w,
        &seen(Some(service("a:1", "COMPLETED", 1)), None, 59_999),
        grace,
        3,
    );
    assert!(e.is_empty());
    let (w, e) = step(
        &w,
        &seen(Some(service("a:1", "COMPLETED", 1)), None, 60_000),
        grace,
        3,
    );
    assert_eq!(
        e,
        [HealthEvent::TasksShort {
            running: 1,
            desired: 2,
            for_ms: 60_000
        }]
    );
    let (w, e) = step(
        &w,
        &seen(Some(service("a:1", "COMPLETED", 1)), None, 120_000),
        grace,
        3,
    );
    assert!(e.is_empty());
    let (_, e) = step(
        &w,
        &seen(Some(service("a:1", "COMPLETED", 2)), None, 130_000),
        grace,
        3,
    );
    assert_eq!(
        e,
        [HealthEvent::TasksRestored {
            running: 2,
            desired: 2
        }]
    );
}

#[test]
fn a_task_definition_nobody_announced_is_said() {
    let (w, e) = step(
        &Watch::default(),
        &seen(Some(service("a:1", "COMPLETED", 2)), None, 0),
        1,
        3,
    );
    assert!(e.is_empty(), "the first look only learns");
    let mut s = seen(Some(service("a:2", "COMPLETED", 2)), None, 1);
    s.services[0].explained = true;
    let (w2, e) = step(&w, &s, 1, 3);
    assert!(e.is_empty(), "the bot's own deploy");
    let (_, e) = step(
        &w2,
        &seen(Some(service("a:3", "COMPLETED", 2)), None, 2),
        1,
        3,
    );
    assert!(
        matches!(e.as_slice(), [HealthEvent::Unannounced { from, to, .. }] if from == "a:2" && to == "a:3")
    );
}

#[test]
fn an_environment_that_deploys_itself_has_deploys_not_changes_around_the_bot() {
    let auto = |td: &str, at: i64| Seen {
        auto_deploy: true,
        ..seen(Some(service(td, "COMPLETED", 2)), None, at)
    };
    let (w, e) = step(&Watch::default(), &auto("a:1", 0), 1, 3);
    assert!(e.is_empty(), "the first look only learns");
    let (w, e) = step(&w, &auto("a:2", 1), 1, 3);
    assert_eq!(
        e,
        [HealthEvent::AutoDeployed {
            to: "a:2".into(),
            version: Some("1.3.0".into())
        }]
    );
    let (w, e) = step(&w, &auto("a:2", 2), 1, 3);
    assert!(e.is_empty(), "once");
    // One the bot explains (its own deploy, a followed run) is told by
    // that operation.
    let mut s = auto("a:3", 3);
    s.services[0].explained = true;
    assert!(step(&w, &s, 1, 3).1.is_empty());
}

#[test]
fn the_health_url_alerts_after_n_failures_and_on_recovery_once_each() {
    let fail = || Some(Err(ProbeFailure::Status(503)));
    let mut w = Watch::default();
    let mut all = Vec::new();
    for now in 0..5 {
        let (next, e) = step(&w, &seen(None, fail(), now), 1, 3);
        w = next;
        all.extend(e);
    }
    assert_eq!(
        all,
        [HealthEvent::Down {
            failures: 3,
            failure: ProbeFailure::Status(503)
        }]
    );
    let (w, e) = step(&w, &seen(None, Some(Ok(200)), 9), 1, 3);
    assert_eq!(e, [HealthEvent::Recovered { status: 200 }]);
    let (_, e) = step(&w, &seen(None, Some(Ok(200)), 10), 1, 3);
    assert!(e.is_empty());
}

#[test]
fn the_view_keeps_the_last_answer_and_since_when_the_probes_fail() {
    let (w, _) = step(&Watch::default(), &seen(None, Some(Ok(200)), 5), 1, 3);
    assert_eq!(
        w.last_probe,
        Some(LastProbe {
            at_ms: 5,
            answer: Ok(200)
        })
    );
    assert_eq!(w.failing_since, None);
    let (w, _) = step(&w, &seen(None, Some(Err(ProbeFailure::Timeout)), 10), 1, 3);
    let (w, _) = step(
        &w,
        &seen(None, Some(Err(ProbeFailure::Status(503))), 20),
        1,
        3,
    );
    assert_eq!((w.probe_failures, w.failing_since), (2, Some(10)));
    assert_eq!(
        w.last_probe,
        Some(LastProbe {
            at_ms: 20,
            answer: Err(ProbeFailure::Status(503))
        })
    );
    // A look without a probe (no health URL) forgets nothing.
    let (w, _) = step(&w, &seen(None, None, 30), 1, 3);
    assert_eq!(w.last_probe.as_ref().map(|p| p.at_ms), Some(20));
    let (w, _) = step(&w, &seen(None, Some(Ok(204)), 40), 1, 3);
    assert_eq!((w.probe_failures, w.failing_since), (0, None));
}

#[test]
fn a_view_stored_when_the_environment_had_one_service_still_loads() {
    let old = r#"{"task_definition":"api:3","ecs_seen_at":5,"failed_alerted":["api:2"],
        "short_since":7,"short_alerted":true,"probe_failures":1,"down":false,
        "last_probe":null,"failing_since":4}"#;
    let w: Watch = serde_json::from_str(old).unwrap();
    assert_eq!(
        (w.probe_failures, w.failing_since, w.ecs_seen_at),
        (1, Some(4), Some(5))
    );
    // Its first service goes on from where it was: short since 7 and
    // alerted, on api:3, which it leaves unannounced.
    let (next, e) = step(
        &w,
        &seen(Some(service("api:4", "COMPLETED", 2)), None, 9),
        1,
        3,
    );
    assert_eq!(
        e,
        [
            HealthEvent::Unannounced {
                from: "api:3".into(),
                to: "api:4".into(),
                version: Some("1.3.0".into())
            },
            HealthEvent::TasksRestored {
                running: 2,
                desired: 2
            }
        ]
    );
    assert_eq!(
        next.services.keys().collect::<Vec<_>>(),
        ["c/api"],
        "keyed from now on"
    );
    assert_eq!(next.services["c/api"].failed_alerted, ["api:2"]);
    let again: Watch = serde_json::from_str(&serde_json::to_string(&next).unwrap()).unwrap();
    assert_eq!(again, next);
    // A view with nothing of a service loads empty.
    let bare: Watch = serde_json::from_str(r#"{"probe_failures":0}"#).unwrap();
    assert_eq!(bare, Watch::default());
}

#[test]
fn each_service_is_watched_on_its_own_and_named() {
    let two = |api: SeenService, worker: SeenService, at: i64| Seen {
        services: vec![
            SeenOne {
                key: "c/api".into(),
                name: Some("api".into()),
                state: Some(api),
                explained: false,
            },
            SeenOne {
                key: "c/worker".into(),
                name: Some("worker".into()),
                state: Some(worker),
                explained: false,
            },
        ],
        probe: None,
        auto_deploy: false,
        now_ms: at,
    };
    let (w, e) = watch(
        &Watch::default(),
        &two(
            service("api:1", "COMPLETED", 2),
            service("worker:1", "COMPLETED", 2),
            0,
        ),
        10,
        3,
    );
    assert!(e.is_empty(), "the first look only learns: {e:?}");
    let (w, e) = watch(
        &w,
        &two(
            service("api:1", "COMPLETED", 2),
            service("worker:2", "COMPLETED", 1),
            5,
        ),
        10,
        3,
    );
    assert_eq!(
        e,
        [Said {
            service: Some("worker".into()),
            event: HealthEvent::Unannounced {
                from: "worker:1".into(),
                to: "worker:2".into(),
                version: Some("1.3.0".into())
            }
        }]
    );
    let (w, e) = watch(
        &w,
        &two(
            service("api:1", "COMPLETED", 2),
            service("worker:2", "COMPLETED", 1),
            15,
        ),
        10,
        3,
    );
    assert_eq!(
        e,
        [Said {
            service: Some("worker".into()),
            event: HealthEvent::TasksShort {
                running: 1,
                desired: 2,
                for_ms: 10
            }
        }]
    );
    // The worker unread: its view is kept, nothing said of it; a service
    // no longer configured is forgotten.
    let mut unread = two(
        service("api:1", "COMPLETED", 2),
        service("x:1", "COMPLETED", 0),
        20,
    );
    unread.services[1].state = None;
    let (kept, e) = watch(&w, &unread, 10, 3);
    assert!(e.is_empty(), "{e:?}");
    assert_eq!(kept.services, w.services);
    unread.services.pop();
    let (one, _) = watch(&w, &unread, 10, 3);
    assert_eq!(one.services.keys().collect::<Vec<_>>(), ["c/api"]);
}
