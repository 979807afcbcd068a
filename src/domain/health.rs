//! The health monitor's judgement, pure: from what it saw last time and
//! what it sees now, the new view and the events worth an alert. Events
//! are transitions, so each is said once, not on every poll.

use serde::{Deserialize, Serialize};

/// What the monitor remembers of an environment between polls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watch {
    /// The primary deployment's task definition last seen.
    pub task_definition: Option<String>,
    /// When (ms) ECS was last read: what an operation that ended since
    /// must have ended after to explain a change seen now (the view is
    /// saved at every health probe, so its save time is not that).
    #[serde(default)]
    pub ecs_seen_at: Option<i64>,
    /// Task definitions whose FAILED rollout was alerted (the latest few).
    #[serde(default)]
    pub failed_alerted: Vec<String>,
    /// Since when (ms) fewer tasks run than desired.
    pub short_since: Option<i64>,
    /// Whether that was alerted.
    #[serde(default)]
    pub short_alerted: bool,
    /// Failed health probes in a row.
    #[serde(default)]
    pub probe_failures: u32,
    /// Whether the health URL was alerted as failing.
    #[serde(default)]
    pub down: bool,
    /// The health URL's last answer and when it came: what `/status`
    /// shows.
    #[serde(default)]
    pub last_probe: Option<LastProbe>,
    /// Since when (ms) the probes fail in a row: the first failure of
    /// the streak.
    #[serde(default)]
    pub failing_since: Option<i64>,
}

/// One probe of a health URL, remembered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastProbe {
    pub at_ms: i64,
    pub answer: Result<u16, ProbeFailure>,
}

/// Why a health probe failed, without the URL (which may carry
/// credentials, and which the chat already knows from the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeFailure {
    /// An answer outside 2xx.
    Status(u16),
    Timeout,
    Refused,
    Unreachable,
}

impl ProbeFailure {
    /// The failure after the URL: "… answered 503".
    pub fn words(&self) -> String {
        match self {
            ProbeFailure::Status(code) => format!("answered {code}"),
            ProbeFailure::Timeout => "did not answer in time".into(),
            ProbeFailure::Refused => "refused the connection".into(),
            ProbeFailure::Unreachable => "could not be reached".into(),
        }
    }

    /// The failure on its own, as `/status` shows it: "503".
    pub fn short(&self) -> String {
        match self {
            ProbeFailure::Status(code) => code.to_string(),
            ProbeFailure::Timeout => "no answer in time".into(),
            ProbeFailure::Refused => "connection refused".into(),
            ProbeFailure::Unreachable => "unreachable".into(),
        }
    }
}

/// One deployment of the service, as the monitor needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenDeployment {
    pub task_definition: String,
    pub version: Option<String>,
    pub rollout_state: Option<String>,
    pub reason: Option<String>,
}

/// The service now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenService {
    /// The primary deployment first.
    pub deployments: Vec<SeenDeployment>,
    pub running: i32,
    pub desired: i32,
}

/// What one poll saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// `None` when ECS could not be read (nothing is concluded from it).
    pub service: Option<SeenService>,
    /// `None` without a health URL; else the probe's outcome.
    pub probe: Option<Result<u16, ProbeFailure>>,
    /// A bot operation (or a followed workflow run) explains a change of
    /// task definition.
    pub explained: bool,
    /// The environment deploys itself (`auto_deploy`): a change nobody
    /// explained is its own deploy, not one made around the bot.
    pub auto_deploy: bool,
    pub now_ms: i64,
}

/// Something worth telling the team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthEvent {
    RolloutFailed {
        task_definition: String,
        version: Option<String>,
        reason: String,
        /// The circuit breaker put the previous deployment back.
        rolled_back_to: Option<String>,
    },
    TasksShort {
        running: i32,
        desired: i32,
        for_ms: i64,
    },
    TasksRestored {
        running: i32,
        desired: i32,
    },
    Unannounced {
        from: String,
        to: String,
        version: Option<String>,
    },
    /// An environment that deploys itself runs a new task definition.
    AutoDeployed {
        to: String,
        version: Option<String>,
    },
    Down {
        failures: u32,
        failure: ProbeFailure,
    },
    Recovered {
        status: u16,
    },
}

/// How many alerted failed rollouts are remembered.
const FAILED_REMEMBERED: usize = 10;

/// The monitor's step: the new view and the events.
pub fn watch(
    prev: &Watch,
    seen: &Seen,
    grace_ms: i64,
    failures_needed: u32,
) -> (Watch, Vec<HealthEvent>) {
    let mut next = prev.clone();
    let mut events = Vec::new();
    if let Some(service) = &seen.service {
        let primary = service.deployments.first();
        for d in &service.deployments {
            if d.rollout_state.as_deref() == Some("FAILED")
                && !next.failed_alerted.contains(&d.task_definition)
            {
                let rolled_back_to = primary
                    .filter(|p| p.task_definition != d.task_definition)
                    .map(|p| {
                        p.version
                            .clone()
                            .unwrap_or_else(|| p.task_definition.clone())
                    });
                events.push(HealthEvent::RolloutFailed {
                    task_definition: d.task_definition.clone(),
                    version: d.version.clone(),
                    reason: d.reason.clone().unwrap_or_else(|| "no reason given".into()),
                    rolled_back_to,
                });
                next.failed_alerted.push(d.task_definition.clone());
                if next.failed_alerted.len() > FAILED_REMEMBERED {
                    next.failed_alerted.remove(0);
                }
            }
        }
        if let Some(primary) = primary {
            if let Some(before) = &prev.task_definition
                && *before != primary.task_definition
                && !seen.explained
            {
                events.push(if seen.auto_deploy {
                    HealthEvent::AutoDeployed {
                        to: primary.task_definition.clone(),
                        version: primary.version.clone(),
                    }
                } else {
                    HealthEvent::Unannounced {
                        from: before.clone(),
                        to: primary.task_definition.clone(),
                        version: primary.version.clone(),
                    }
                });
            }
            next.task_definition = Some(primary.task_definition.clone());
        }
        next.ecs_seen_at = Some(seen.now_ms);
        if service.running < service.desired {
            let since = prev.short_since.unwrap_or(seen.now_ms);
            next.short_since = Some(since);
            if !prev.short_alerted && seen.now_ms - since >= grace_ms {
                events.push(HealthEvent::TasksShort {
                    running: service.running,
                    desired: service.desired,
                    for_ms: seen.now_ms - since,
                });
                next.short_alerted = true;
            }
        } else {
            if prev.short_alerted {
                events.push(HealthEvent::TasksRestored {
                    running: service.running,
                    desired: service.desired,
                });
            }
            next.short_since = None;
            next.short_alerted = false;
        }
    }
    if let Some(answer) = &seen.probe {
        next.last_probe = Some(LastProbe {
            at_ms: seen.now_ms,
            answer: *answer,
        });
    }
    match &seen.probe {
        Some(Err(failure)) => {
            next.probe_failures = prev.probe_failures.saturating_add(1);
            next.failing_since = Some(prev.failing_since.unwrap_or(seen.now_ms));
            if !prev.down && next.probe_failures >= failures_needed.max(1) {
                events.push(HealthEvent::Down {
                    failures: next.probe_failures,
                    failure: *failure,
                });
                next.down = true;
            }
        }
        Some(Ok(status)) => {
            if prev.down {
                events.push(HealthEvent::Recovered { status: *status });
            }
            next.probe_failures = 0;
            next.failing_since = None;
            next.down = false;
        }
        None => {}
    }
    (next, events)
}

#[cfg(test)]
mod tests {
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
            service,
            probe,
            explained: false,
            auto_deploy: false,
            now_ms,
        }
    }

    #[test]
    fn a_failed_rollout_is_said_once() {
        let s = seen(Some(service("api:7", "FAILED", 0)), None, 0);
        let (w, events) = watch(&Watch::default(), &s, 60_000, 3);
        assert!(matches!(
            events.as_slice(),
            [HealthEvent::RolloutFailed { .. }]
        ));
        let (_, again) = watch(&w, &s, 60_000, 3);
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
        let (w, e) = watch(
            &Watch::default(),
            &seen(Some(service("a:1", "COMPLETED", 1)), None, 0),
            grace,
            3,
        );
        assert!(e.is_empty());
        let (w, e) = watch(
            &w,
            &seen(Some(service("a:1", "COMPLETED", 1)), None, 59_999),
            grace,
            3,
        );
        assert!(e.is_empty());
        let (w, e) = watch(
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
        let (w, e) = watch(
            &w,
            &seen(Some(service("a:1", "COMPLETED", 1)), None, 120_000),
            grace,
            3,
        );
        assert!(e.is_empty());
        let (_, e) = watch(
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
        let (w, e) = watch(
            &Watch::default(),
            &seen(Some(service("a:1", "COMPLETED", 2)), None, 0),
            1,
            3,
        );
        assert!(e.is_empty(), "the first look only learns");
        let mut s = seen(Some(service("a:2", "COMPLETED", 2)), None, 1);
        s.explained = true;
        let (w2, e) = watch(&w, &s, 1, 3);
        assert!(e.is_empty(), "the bot's own deploy");
        let (_, e) = watch(
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
        let (w, e) = watch(&Watch::default(), &auto("a:1", 0), 1, 3);
        assert!(e.is_empty(), "the first look only learns");
        let (w, e) = watch(&w, &auto("a:2", 1), 1, 3);
        assert_eq!(
            e,
            [HealthEvent::AutoDeployed {
                to: "a:2".into(),
                version: Some("1.3.0".into())
            }]
        );
        let (w, e) = watch(&w, &auto("a:2", 2), 1, 3);
        assert!(e.is_empty(), "once");
        // One the bot explains (its own deploy, a followed run) is told by
        // that operation.
        let mut s = auto("a:3", 3);
        s.explained = true;
        assert!(watch(&w, &s, 1, 3).1.is_empty());
    }

    #[test]
    fn the_health_url_alerts_after_n_failures_and_on_recovery_once_each() {
        let fail = || Some(Err(ProbeFailure::Status(503)));
        let mut w = Watch::default();
        let mut all = Vec::new();
        for now in 0..5 {
            let (next, e) = watch(&w, &seen(None, fail(), now), 1, 3);
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
        let (w, e) = watch(&w, &seen(None, Some(Ok(200)), 9), 1, 3);
        assert_eq!(e, [HealthEvent::Recovered { status: 200 }]);
        let (_, e) = watch(&w, &seen(None, Some(Ok(200)), 10), 1, 3);
        assert!(e.is_empty());
    }

    #[test]
    fn the_view_keeps_the_last_answer_and_since_when_the_probes_fail() {
        let (w, _) = watch(&Watch::default(), &seen(None, Some(Ok(200)), 5), 1, 3);
        assert_eq!(
            w.last_probe,
            Some(LastProbe {
                at_ms: 5,
                answer: Ok(200)
            })
        );
        assert_eq!(w.failing_since, None);
        let (w, _) = watch(&w, &seen(None, Some(Err(ProbeFailure::Timeout)), 10), 1, 3);
        let (w, _) = watch(
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
        let (w, _) = watch(&w, &seen(None, None, 30), 1, 3);
        assert_eq!(w.last_probe.as_ref().map(|p| p.at_ms), Some(20));
        let (w, _) = watch(&w, &seen(None, Some(Ok(204)), 40), 1, 3);
        assert_eq!((w.probe_failures, w.failing_since), (0, None));
    }
}
