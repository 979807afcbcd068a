//! The service: the one place where state changes. It takes a command or
//! an event, asks the policy, writes the change with its audit line and
//! alerts in one transaction, then calls out.

mod act;
mod approvals;
mod autorollback;
mod checklist;
mod confirm;
mod deploy;
mod deployments;
mod diagnose;
mod direct;
mod dispatch;
mod escalate;
#[cfg(test)]
mod examples_tests;
mod expiry;
mod follow;
mod freeze;
mod gates;
mod guide;
mod incident;
pub mod ingest;
mod monitor;
mod ops;
mod release;
mod release_confirm;
mod report;
mod retention;
mod rollback;
mod route;
mod secrets;
mod stats;
mod status;
mod story;
mod taps;
mod verdict;
mod webhook;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::adapters::ecs::Ecs;
use crate::adapters::github::GitHub;
use crate::config::Config;
use crate::domain::OperationId;
use crate::domain::{
    self, Access, ChatId, ChatKind, Command, Env, ParseContext, ParseError, UserId,
};
use crate::messages;
use crate::metrics::Metrics;
use crate::store::{AuditEntry, Created, NewAlert, NewOperation, Store, StoreError, Transition};

pub use crate::domain::rollout::{Rollout, judge_rollout};
pub use crate::domain::runs::request_id_in;
pub use confirm::confirm_loop;
pub use deployments::deployments_loop;
pub use diagnose::diagnose_loop;
pub use escalate::escalation_loop;
pub use expiry::expiry_loop;
pub use follow::follow_loop;
pub use guide::{Guide, GuideStorage, TapOutcome};
pub use monitor::monitor_loop;
pub use retention::retention_loop;
pub use secrets::rotation_loop;
pub use status::{EnvStatus, HealthStatus, ServiceStatus, StatusReport};
pub use taps::{Button, Tap, TapAnswer};
pub use webhook::{WebhookOutcome, WebhookRequest};

/// Everything a handler needs, shared across the bot.
#[derive(Clone)]
pub struct App {
    /// The config this handler decides under: one snapshot of `live`,
    /// taken when it started ([`App::current`]).
    pub config: Arc<Config>,
    /// The config in force, which a reload replaces.
    pub live: crate::config::LiveConfig,
    pub store: Store,
    pub github: GitHub,
    pub ecs: Ecs,
    /// Probes environments' health URLs.
    pub health: crate::adapters::health::Health,
    pub metrics: Arc<Metrics>,
    /// Rung when alerts are enqueued, so delivery starts at once.
    pub outbox: Arc<Notify>,
    /// Rung when a run succeeds, so its confirmation on ECS starts at once.
    pub confirmer: Arc<Notify>,
    /// Guided commands' dialogue state, one per chat, in the database.
    pub dialogues: Arc<GuideStorage>,
    /// The webhook secret (from `GITHUB_WEBHOOK_SECRET`).
    pub webhook_secret: crate::config::Secret,
    /// The bearer token `/metrics` asks for (`METRICS_TOKEN`), if any.
    pub metrics_token: Option<crate::config::Secret>,
    /// Telegram's message limits, shared with the alert deliverer.
    pub pacer: crate::adapters::pacer::Pacer,
    /// Stores webhook deliveries, a burst in one transaction.
    pub deliveries: ingest::DeliveryWriter,
    /// Rung when failure copies marked for diagnosis were stored, so
    /// their evidence is gathered at once.
    pub diagnoser: Arc<Notify>,
}

/// A chat message, as the Telegram front hands it over.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub chat: ChatId,
    /// A one-to-one chat with the bot.
    pub private: bool,
    pub user: UserId,
    /// How Telegram names the sender (for `/whoami` of a stranger).
    pub user_display: String,
    pub text: String,
    /// The bot's own username, to accept `/cmd@ThisBot` only.
    pub bot_username: Option<String>,
    /// When Telegram says the message was sent.
    pub sent_at: chrono::DateTime<chrono::Utc>,
}

/// The answer to a message, in Telegram HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub html: String,
    /// Inline buttons under it, in rows (none: empty).
    pub buttons: Vec<Vec<Button>>,
}

/// How a claimed operation got under way.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Started {
    /// Its workflow was dispatched.
    Workflow,
    /// It is rolling back directly on ECS: the sentence that says so.
    OnEcs(String),
}

impl Reply {
    fn new(html: String) -> Self {
        Self {
            html,
            buttons: Vec::new(),
        }
    }

    fn with_buttons(html: String, buttons: Vec<Vec<Button>>) -> Self {
        Self { html, buttons }
    }
}

impl App {
    /// This app under the config in force now. Every handler and every
    /// round of a loop starts from it, and keeps that snapshot to its end:
    /// a reload meanwhile changes the next decision, never one half made.
    pub fn current(&self) -> Self {
        Self {
            config: self.live.load(),
            ..self.clone()
        }
    }

    /// Handles one chat message: the direct answer, if any (`None` too when
    /// it is not a command for us, or the answer goes out through the
    /// outbox). Every command, refusal and answer is audited.
    pub async fn handle_message(&self, msg: &Incoming) -> Option<Reply> {
        let received = std::time::Instant::now();
        tracing::debug!(chat = msg.chat.0, "command: handling");
        let envs: Vec<Env> = self.config.environments.keys().cloned().collect();
        let ctx = ParseContext {
            bot_username: msg.bot_username.as_deref(),
            envs: &envs,
            allow_pre_release: self.config.release.allow_pre_release,
        };
        let parsed = domain::parse(&msg.text, &ctx)?;
        let chat_kind = self.chat_kind(msg);
        let roles = self.config.user(msg.user).map(|u| u.roles.as_slice());
        let name = match &parsed {
            Ok(command) => command.name(),
            Err(_) => "invalid",
        };
        if let Some(key) = domain::stranger_key(msg.chat, chat_kind, msg.user, roles.is_some())
            && !self.answers_stranger(key).await
        {
            // Counted, not audited: a stranger must not fill the audit
            // log (nor the chat) by repeating themself.
            self.metrics.command(name, "unanswered");
            return None;
        }
        let access = domain::access(parsed.as_ref().ok(), msg.chat, chat_kind, msg.user, roles);
        let (outcome, reply) = match (access, parsed) {
            (Access::Refused(refusal), _) => (
                format!("refused:{}", refusal.code()),
                Some(Reply::new(messages::common::refused(&refusal.message()))),
            ),
            (Access::Allowed, Err(error)) => ("invalid".to_owned(), Some(self.usage_error(&error))),
            (Access::Allowed, Ok(command)) if acts(&command) && stale(msg) => (
                "refused:stale".to_owned(),
                Some(Reply::new(messages::common::stale_command(msg.sent_at))),
            ),
            (Access::Allowed, Ok(command)) => self.run(&command, msg).await,
        };
        self.metrics
            .command(name, outcome.split(':').next().unwrap_or(&outcome));
        self.metrics.command_took(
            if name == "invalid" { "other" } else { name },
            received.elapsed(),
        );
        let entry = AuditEntry {
            actor: Some(msg.user),
            chat: Some(msg.chat),
            action: format!("command:/{name}"),
            outcome,
            operation: None,
            detail: crate::alerts::format::clip(msg.text.trim(), 200),
        };
        if let Err(e) = self.store.audit(&entry).await {
            tracing::error!(error = %e, action = %entry.action, "audit log write failed");
        }
        reply
    }

    /// The chat a message came from, as the config sees it.
    fn chat_kind(&self, msg: &Incoming) -> ChatKind {
        if self.config.chat(msg.chat).is_some() {
            ChatKind::Configured
        } else if msg.private {
            ChatKind::Private
        } else {
            ChatKind::Unknown
        }
    }

    /// Whether the bot leaves the chat `msg` came from (a group nobody
    /// configured), once its answer, if any, is out.
    pub fn leaves_chat(&self, msg: &Incoming) -> bool {
        domain::leaves(self.chat_kind(msg))
    }

    /// Whether a stranger is answered now: not if they were within
    /// [`domain::STRANGER_ANSWER_EVERY`] (nor when the database cannot
    /// say: a stranger loses nothing by silence, the team would by a
    /// flood of answers).
    async fn answers_stranger(&self, key: (i64, i64)) -> bool {
        let now = crate::store::now_ms();
        let window = i64::try_from(domain::STRANGER_ANSWER_EVERY.as_millis()).unwrap_or(i64::MAX);
        match self.store.answer_stranger(key, now, now - window).await {
            Ok(answer) => answer,
            Err(e) => {
                tracing::warn!(error = %e, chat = key.0, "stranger's answers unknown; left unanswered");
                false
            }
        }
    }

    fn usage_error(&self, error: &ParseError) -> Reply {
        Reply::new(messages::common::usage_error(&error.message()))
    }

    fn name_of(&self, user: i64) -> String {
        if user == crate::domain::AUTOMATIC.0 {
            return crate::messages::autorollback::requester();
        }
        if user == 0 {
            // Operations the bot adopted from GitHub have no requester.
            return "GitHub Actions".to_owned();
        }
        self.config
            .user(UserId(user))
            .map(|u| u.name.clone())
            .unwrap_or_else(|| format!("user {user}"))
    }

    fn audit(
        &self,
        actor: Option<UserId>,
        chat: Option<i64>,
        action: &str,
        outcome: &str,
        op: Option<OperationId>,
        detail: String,
    ) -> AuditEntry {
        AuditEntry {
            actor,
            chat: chat.map(crate::domain::ChatId),
            action: action.to_owned(),
            outcome: outcome.to_owned(),
            operation: op,
            detail,
        }
    }

    async fn audit_quietly(&self, entry: AuditEntry) {
        if let Err(e) = self.store.audit(&entry).await {
            tracing::error!(error = %e, action = %entry.action, "audit log write failed");
        }
    }

    /// The one way a flow moves an operation: the state change, its audit
    /// line and alerts in one transaction ([`crate::store::Store::transition`]),
    /// then delivery woken for the alerts when this call moved it.
    /// Returns whether it moved.
    pub(super) async fn transition(
        &self,
        id: OperationId,
        t: Transition<'_>,
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<bool, StoreError> {
        let to = t.to;
        let Some(moved) = self.store.move_operation(id, t, audit, alerts).await? else {
            return Ok(false);
        };
        self.outbox.notify_one();
        if to.ran() {
            // Counted by the instance that made the move, once: the sum
            // over instances is the count.
            let env = match &moved.env {
                None => "",
                Some(env) if self.config.environments.contains_key(env) => env.as_str(),
                // An environment since removed from the config.
                Some(_) => "other",
            };
            self.metrics.deployment(env, moved.kind, to);
        }
        Ok(true)
    }

    /// The one way a flow creates an operation: the row, its audit line
    /// and alerts in one transaction, then delivery woken for the alerts.
    pub(super) async fn create_operation(
        &self,
        op: &NewOperation,
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<Created, StoreError> {
        let created = self.store.create_operation(op, audit, alerts).await?;
        if matches!(created, Created::New(_)) && !alerts.is_empty() {
            self.outbox.notify_one();
        }
        Ok(created)
    }

    /// An internal failure: logged with its cause, shown as one line with
    /// a reference to quote.
    /// An internal failure, told as one short line: the log carries the
    /// full error under the reference the line quotes, the chat nothing
    /// internal (SQL, ARNs, account ids).
    pub(super) fn internal_failure(
        &self,
        what: &str,
        e: &(dyn std::error::Error + 'static),
    ) -> String {
        let reference = &reference();
        tracing::error!(reference, error = %e, "{what}");
        messages::common::internal_failure(reference)
    }

    fn internal_error(
        &self,
        what: &str,
        e: &(dyn std::error::Error + 'static),
    ) -> (String, Option<Reply>) {
        let reference = &reference();
        tracing::error!(reference, error = %e, "{what}");
        if e.downcast_ref::<crate::store::StoreError>()
            .is_some_and(crate::store::StoreError::is_unreachable)
        {
            return (
                "error:store_unreachable".into(),
                Some(Reply::new(messages::common::store_unreachable(reference))),
            );
        }
        (
            "error:internal".into(),
            Some(Reply::new(messages::common::internal_error(reference))),
        )
    }

    fn whoami(&self, msg: &Incoming) -> String {
        let known = self.config.user(msg.user).map(|user| {
            let roles: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
            (user.name.as_str(), roles)
        });
        let group = (!msg.private).then(|| (msg.chat.0, self.config.chat(msg.chat).is_some()));
        messages::help::whoami(&messages::help::WhoAmI {
            display: &msg.user_display,
            user_id: msg.user.0,
            known,
            group,
        })
    }
}

/// How old a command that acts (releases, deploys) may be when it reaches
/// the bot: older ones were typed before an outage and may no longer be
/// wanted.
const STALE_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

fn acts(command: &Command) -> bool {
    matches!(
        command,
        Command::Release { dry_run: false, .. }
            | Command::Deploy { dry_run: false, .. }
            | Command::Rollback { .. }
            | Command::Lock { .. }
            | Command::Unlock { .. }
            | Command::Freeze { .. }
            | Command::Unfreeze { .. }
            | Command::Cancel { id: Some(_) }
            | Command::Mute { .. }
            | Command::Unmute { .. }
    )
}

fn stale(msg: &Incoming) -> bool {
    chrono::Utc::now() - msg.sent_at > STALE_AFTER
}

/// A short reference for an internal failure: the chat quotes it, the
/// log carries it beside the full error.
pub(super) fn reference() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_owned()
}

/// The span of an operation's work: every log line written in it carries
/// the operation's id and the request id its workflow run is found by.
pub(crate) fn operation_span(op: &crate::store::OperationRow) -> tracing::Span {
    tracing::info_span!("operation", operation_id = op.id, request_id = %op.request_id)
}
