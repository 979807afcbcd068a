//! The health monitor's judgement, pure: from what it saw last time and
//! what it sees now, the new view and the events worth an alert. Events
//! are transitions, so each is said once, not on every poll.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What the monitor remembers of an environment between polls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredWatch")]
pub struct Watch {
    /// Each ECS service's view, by [`SeenOne::key`].
    #[serde(default)]
    pub services: BTreeMap<String, ServiceWatch>,
    /// When (ms) ECS was last read: what an operation that ended since
    /// must have ended after to explain a change seen now (the view is
    /// saved at every health probe, so its save time is not that).
    #[serde(default)]
    pub ecs_seen_at: Option<i64>,
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

/// What the monitor remembers of one ECS service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceWatch {
    /// The primary deployment's task definition last seen.
    #[serde(default)]
    pub task_definition: Option<String>,
    /// Task definitions whose FAILED rollout was alerted (the latest few).
    #[serde(default)]
    pub failed_alerted: Vec<String>,
    /// Since when (ms) fewer tasks run than desired.
    #[serde(default)]
    pub short_since: Option<i64>,
    /// Whether that was alerted.
    #[serde(default)]
    pub short_alerted: bool,
}

/// Where a view stored when an environment had one service keeps it:
/// its fields were the view's own. It stands for the environment's first
/// service until the next save keys it.
const FIRST_UNKEYED: &str = "";

/// A view as stored: today's, or one from when an environment had one
/// service, whose fields sat at the top.
#[derive(Deserialize)]
struct StoredWatch {
    #[serde(default)]
    services: Option<BTreeMap<String, ServiceWatch>>,
    #[serde(default)]
    ecs_seen_at: Option<i64>,
    #[serde(default)]
    probe_failures: u32,
    #[serde(default)]
    down: bool,
    #[serde(default)]
    last_probe: Option<LastProbe>,
    #[serde(default)]
    failing_since: Option<i64>,
    #[serde(flatten)]
    unkeyed: ServiceWatch,
}

impl From<StoredWatch> for Watch {
    fn from(stored: StoredWatch) -> Self {
        let services = match stored.services {
            Some(services) => services,
            None if stored.unkeyed == ServiceWatch::default() => BTreeMap::new(),
            None => BTreeMap::from([(FIRST_UNKEYED.to_owned(), stored.unkeyed)]),
        };
        Watch {
            services,
            ecs_seen_at: stored.ecs_seen_at,
            probe_failures: stored.probe_failures,
            down: stored.down,
            last_probe: stored.last_probe,
            failing_since: stored.failing_since,
        }
    }
}

impl Watch {
    /// The primary task definition last seen of the environment's
    /// `index`th service, keyed `key`.
    pub fn last_task_definition(&self, key: &str, index: usize) -> Option<String> {
        self.service(key, index).task_definition
    }

    /// The view of the environment's `index`th service, keyed `key`.
    fn service(&self, key: &str, index: usize) -> ServiceWatch {
        self.services
            .get(key)
            .or_else(|| {
                (index == 0)
                    .then(|| self.services.get(FIRST_UNKEYED))
                    .flatten()
            })
            .cloned()
            .unwrap_or_default()
    }
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
    /// Each of the environment's services, in the config's order.
    pub services: Vec<SeenOne>,
    /// `None` without a health URL; else the probe's outcome.
    pub probe: Option<Result<u16, ProbeFailure>>,
    /// The environment deploys itself (`auto_deploy`): a change nobody
    /// explained is its own deploy, not one made around the bot.
    pub auto_deploy: bool,
    pub now_ms: i64,
}

/// One service, as one poll saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenOne {
    /// What its view is remembered by (cluster and service).
    pub key: String,
    /// How alerts name it: `None` in an environment of one service,
    /// whose alerts speak of the environment.
    pub name: Option<String>,
    /// `None` when ECS could not be read (nothing is concluded from it).
    pub state: Option<SeenService>,
    /// A bot operation (or a followed workflow run) explains a change of
    /// its task definition.
    pub explained: bool,
}

/// An event, and the service it is about (`None`: the environment, or
/// its one service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    pub service: Option<String>,
    pub event: HealthEvent,
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
pub fn watch(prev: &Watch, seen: &Seen, grace_ms: i64, failures_needed: u32) -> (Watch, Vec<Said>) {
    let mut next = prev.clone();
    let mut events = Vec::new();
    // The views of services no longer configured go; one not read now is
    // kept as it was.
    next.services = BTreeMap::new();
    for (index, one) in seen.services.iter().enumerate() {
        let before = prev.service(&one.key, index);
        let view = match &one.state {
            Some(state) => {
                let (view, said) = watch_service(&before, state, one, seen, grace_ms);
                events.extend(said.into_iter().map(|event| Said {
                    service: one.name.clone(),
                    event,
                }));
                view
            }
            None => before,
        };
        if view != ServiceWatch::default() {
            next.services.insert(one.key.clone(), view);
        }
    }
    if seen.services.iter().any(|s| s.state.is_some()) {
        next.ecs_seen_at = Some(seen.now_ms);
    }
    let probe_events = watch_probe(prev, seen, failures_needed, &mut next);
    events.extend(probe_events.into_iter().map(|event| Said {
        service: None,
        event,
    }));
    (next, events)
}

/// One service's step: its new view and its events.
fn watch_service(
    prev: &ServiceWatch,
    service: &SeenService,
    one: &SeenOne,
    seen: &Seen,
    grace_ms: i64,
) -> (ServiceWatch, Vec<HealthEvent>) {
    let mut next = prev.clone();
    let mut events = Vec::new();
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
            && !one.explained
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
    (next, events)
}

/// The health URL's step, on `next`.
fn watch_probe(
    prev: &Watch,
    seen: &Seen,
    failures_needed: u32,
    next: &mut Watch,
) -> Vec<HealthEvent> {
    let mut events = Vec::new();
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
    events
}

#[cfg(test)]
mod tests;
