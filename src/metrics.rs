//! Prometheus metrics: counters the service, alerts and webhook code bump,
//! rendered as text on `GET /metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

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
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("aletheia");
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
        Self {
            registry,
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
        }
    }
}

impl Metrics {
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
