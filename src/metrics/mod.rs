//! Prometheus metrics: counters and histograms the service, alerts and
//! webhook code bump, the process's own figures, rendered as text on
//! `GET /metrics`.

mod process;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use crate::domain::{Env, OperationKind, OperationState};

/// A command's time from its receipt to its answer: most take a database
/// read or two, the slowest wait on GitHub and ECS (the 30 s bucket is
/// past every client's timeout).
const COMMAND_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0];

/// A dispatch's time from its claim to GitHub's acceptance: one API call,
/// slower when GitHub is, retried within a minute.
const DISPATCH_BUCKETS: [f64; 10] = [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0];

fn command_histogram() -> Histogram {
    Histogram::new(COMMAND_BUCKETS)
}

fn dispatch_histogram() -> Histogram {
    Histogram::new(DISPATCH_BUCKETS)
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CommandLabels {
    pub command: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WebhookLabels {
    pub event: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    pub kind: String,
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeploymentLabels {
    /// One of the configured environments; empty for a release.
    pub environment: String,
    pub kind: String,
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CommandNameLabel {
    pub command: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabel {
    version: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TableLabels {
    pub table: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertLabels {
    pub outcome: String,
}

/// The `event` label of a verified delivery: the events the bot takes,
/// else `other`, so the label's values are a fixed set.
pub fn webhook_event_label(event: &str) -> &'static str {
    match event {
        "workflow_run" => "workflow_run",
        "workflow_job" => "workflow_job",
        "release" => "release",
        "ping" => "ping",
        _ => "other",
    }
}

/// The (kind, environment) pairs an outcome can be counted under:
/// deploys and rollbacks in each environment, releases in none.
fn outcome_series(envs: &[Env]) -> Vec<(OperationKind, String)> {
    let mut pairs = vec![(OperationKind::Release, String::new())];
    for kind in [OperationKind::Deploy, OperationKind::Rollback] {
        pairs.extend(envs.iter().map(|e| (kind, e.as_str().to_owned())));
    }
    pairs
}

/// Every metric the bot exports.
pub struct Metrics {
    registry: Registry,
    pub commands: Family<CommandLabels, Counter>,
    pub webhooks: Family<WebhookLabels, Counter>,
    pub alerts: Family<AlertLabels, Counter>,
    pub outbox_pending: Gauge,
    pub outbox_failed: Gauge,
    /// 1 while this instance holds the leader lease.
    pub leader: Gauge,
    /// Operations in the store, by kind and state.
    pub operations: Family<OperationLabels, Gauge>,
    /// Rows in each table of the store, as the leader last counted them.
    pub table_rows: Family<TableLabels, Gauge>,
    /// DORA over the last 30 days, for the last environment (prod).
    pub dora_deploys_per_week: Gauge<f64, AtomicU64>,
    pub dora_lead_time_seconds: Gauge<f64, AtomicU64>,
    pub dora_change_failure_ratio: Gauge<f64, AtomicU64>,
    pub dora_time_to_restore_seconds: Gauge<f64, AtomicU64>,
    /// Operations that ran to their end, by environment, kind and result.
    deployments: Family<DeploymentLabels, Counter>,
    /// Commands' time from receipt to answer, by command.
    command_duration: Histograms<CommandNameLabel>,
    /// Workflow dispatches' time from their claim to GitHub's acceptance.
    dispatch_duration: Histograms<KindLabel>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(&[])
    }
}

impl Metrics {
    /// The metrics of a bot that deploys to `envs`: their outcome counters
    /// exist at zero from the start, so the first deploy's increase shows.
    pub fn new(envs: &[Env]) -> Self {
        // The process's figures keep the names every dashboard knows
        // (`process_*`); the bot's own are under `aletheia_`.
        let mut root = Registry::default();
        root.register_collector(Box::new(process::ProcessCollector));
        let registry = root.sub_registry_with_prefix("aletheia");
        let commands = Family::<CommandLabels, Counter>::default();
        let webhooks = Family::<WebhookLabels, Counter>::default();
        let alerts = Family::<AlertLabels, Counter>::default();
        let outbox_pending = Gauge::default();
        let outbox_failed = Gauge::default();
        registry.register(
            "commands",
            "Chat commands received, by command and outcome",
            commands.clone(),
        );
        registry.register(
            "webhook_events",
            "GitHub webhook deliveries, by event and outcome (accepted, duplicate, rejected)",
            webhooks.clone(),
        );
        registry.register(
            "alerts",
            "Alert deliveries, by outcome (queued, delivered, retried, failed)",
            alerts.clone(),
        );
        registry.register(
            "outbox_pending",
            "Alerts waiting in the outbox",
            outbox_pending.clone(),
        );
        registry.register(
            "outbox_failed",
            "Alerts that could not be delivered within the retry budget",
            outbox_failed.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this instance holds the leader lease (polls, delivers, monitors), 0 on standby",
            leader.clone(),
        );
        let operations = Family::<OperationLabels, Gauge>::default();
        registry.register(
            "operations",
            "Operations in the store by kind (release, deploy, rollback) and state (outcome)",
            operations.clone(),
        );
        let table_rows = Family::<TableLabels, Gauge>::default();
        registry.register(
            "table_rows",
            "Rows in each table of the store, as the leader last counted them (after pruning)",
            table_rows.clone(),
        );
        let dora_deploys_per_week = Gauge::<f64, AtomicU64>::default();
        let dora_lead_time_seconds = Gauge::<f64, AtomicU64>::default();
        let dora_change_failure_ratio = Gauge::<f64, AtomicU64>::default();
        let dora_time_to_restore_seconds = Gauge::<f64, AtomicU64>::default();
        for (name, help, gauge) in [
            (
                "dora_deploys_per_week",
                "Successful deploys to prod per week, over 30 days",
                &dora_deploys_per_week,
            ),
            (
                "dora_lead_time_seconds",
                "Median time from a release to its prod deploy, over 30 days (0: none)",
                &dora_lead_time_seconds,
            ),
            (
                "dora_change_failure_ratio",
                "Prod deploys that failed, were unhealthy or were rolled back, over 30 days",
                &dora_change_failure_ratio,
            ),
            (
                "dora_time_to_restore_seconds",
                "Median time from a failed prod change to the next good state, over 30 days (0: none)",
                &dora_time_to_restore_seconds,
            ),
        ] {
            registry.register(name, help, gauge.clone());
        }
        let deployments = Family::<DeploymentLabels, Counter>::default();
        registry.register(
            "deployments",
            "Deploys, rollbacks and releases that ran to their end, by environment \
             (empty for releases), kind and result (succeeded, failed, unhealthy)",
            deployments.clone(),
        );
        let command_duration: Histograms<CommandNameLabel> =
            Family::new_with_constructor(command_histogram);
        registry.register_with_unit(
            "command_duration",
            "Chat commands' time from receipt to answer, by command (other: not understood)",
            Unit::Seconds,
            command_duration.clone(),
        );
        let dispatch_duration: Histograms<KindLabel> =
            Family::new_with_constructor(dispatch_histogram);
        registry.register_with_unit(
            "dispatch_duration",
            "Workflow dispatches' time from the last approval (or the request, when none \
             was needed) to GitHub accepting it, by kind",
            Unit::Seconds,
            dispatch_duration.clone(),
        );
        let build_info = Family::<VersionLabel, Gauge>::default();
        build_info
            .get_or_create(&VersionLabel {
                version: env!("CARGO_PKG_VERSION").to_owned(),
            })
            .set(1);
        registry.register("build_info", "The bot's version (always 1)", build_info);
        for (kind, env) in outcome_series(envs) {
            // A release is not confirmed on ECS: never unhealthy.
            let ends = OperationState::ALL.into_iter().filter(|s| {
                s.ran() && !(kind == OperationKind::Release && *s == OperationState::Unhealthy)
            });
            for result in ends {
                drop(deployments.get_or_create(&DeploymentLabels {
                    environment: env.clone(),
                    kind: kind.as_str().to_owned(),
                    result: result.as_str().to_owned(),
                }));
            }
        }
        Self {
            registry: root,
            commands,
            webhooks,
            alerts,
            outbox_pending,
            outbox_failed,
            leader,
            operations,
            table_rows,
            dora_deploys_per_week,
            dora_lead_time_seconds,
            dora_change_failure_ratio,
            dora_time_to_restore_seconds,
            deployments,
            command_duration,
            dispatch_duration,
        }
    }

    /// An operation ran to its end: `environment` is a configured one's
    /// name (or empty, for a release), `result` a state that
    /// [`OperationState::ran`].
    pub fn deployment(&self, environment: &str, kind: OperationKind, result: OperationState) {
        self.deployments
            .get_or_create(&DeploymentLabels {
                environment: environment.to_owned(),
                kind: kind.as_str().to_owned(),
                result: result.as_str().to_owned(),
            })
            .inc();
    }

    /// A command answered `took` after it came; `command` is one of
    /// [`crate::domain::Command::name`]'s, or `other`.
    pub fn command_took(&self, command: &'static str, took: Duration) {
        self.command_duration
            .get_or_create(&CommandNameLabel {
                command: command.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// GitHub accepted a dispatch `took` after its claim.
    pub fn dispatch_took(&self, kind: OperationKind, took: Duration) {
        self.dispatch_duration
            .get_or_create(&KindLabel {
                kind: kind.as_str().to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    pub fn command(&self, command: &str, outcome: &str) {
        self.commands
            .get_or_create(&CommandLabels {
                command: command.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// `event` is one of [`webhook_event_label`]'s, never a sender's word.
    pub fn webhook(&self, event: &'static str, outcome: &'static str) {
        self.webhooks
            .get_or_create(&WebhookLabels {
                event: event.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    pub fn alert(&self, outcome: &str, n: u64) {
        self.alerts
            .get_or_create(&AlertLabels {
                outcome: outcome.to_owned(),
            })
            .inc_by(n);
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
