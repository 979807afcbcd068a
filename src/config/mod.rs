//! `bot.toml`: the schema of the bot's configuration, read at start (and
//! again on a reload) and validated into typed structs; the rest of the code
//! never sees raw TOML.

mod bounds;
mod checklist;
mod environments;
mod freeze;
mod github;
mod live;
mod log;
mod reload;
mod retention;
mod secrets;
mod security;
mod server;
mod validate;

use std::path::Path;
use std::time::Duration;

use indexmap::IndexMap;
use serde::Deserialize;

use crate::domain::{AlertKind, ChatId, Env, Role, UserId};

use environments::default_requesters;
pub use environments::*;
pub use freeze::{DatedConfig, FreezeConfig, WeeklyConfig};
pub use github::*;
pub use live::LiveConfig;
pub use log::{LogConfig, LogFormat};
pub use reload::Reloaded;
pub use retention::RetentionConfig;
pub use secrets::{GithubAuth, Secret, Secrets, SecretsError};
pub use security::SecurityConfig;
pub use server::ServerConfig;
pub use validate::ConfigIssue;

/// The whole `bot.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The HTTP server: GitHub webhooks, health, `/metrics`, and its limits.
    #[serde(default)]
    pub server: ServerConfig,
    /// Where the bot keeps its state. `DATABASE_URL` overrides `url`.
    #[serde(default)]
    pub database: DatabaseConfig,
    /// The Telegram Bot API.
    #[serde(default)]
    pub telegram: TelegramConfig,
    /// The repository whose workflows the bot dispatches.
    pub github: GithubConfig,
    /// AWS: where the ECS services run.
    pub aws: AwsConfig,
    /// The environments, in promotion order (dev, staging, prod).
    pub environments: IndexMap<Env, EnvironmentConfig>,
    /// The chats the bot works in and the alerts each receives.
    #[serde(default)]
    pub chats: Vec<ChatConfig>,
    /// The people the bot knows, by Telegram numeric id.
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// How alerts are delivered.
    #[serde(default)]
    pub alerts: AlertsConfig,
    /// Who may cut releases, and which versions.
    #[serde(default)]
    pub release: ReleaseConfig,
    /// Incident tools: who may lock environments and cancel others'
    /// requests, and how often a held lock is recalled.
    #[serde(default)]
    pub incident: IncidentConfig,
    /// Who is paged when a prod failure alert goes unacknowledged.
    #[serde(default)]
    pub contacts: ContactsConfig,
    /// The health monitor: ECS and the health URLs, watched between
    /// operations.
    #[serde(default)]
    pub monitor: MonitorConfig,
    /// Several instances on one PostgreSQL: which one does the singleton
    /// work (Telegram polling, GitHub polling, the outbox, the monitor).
    #[serde(default)]
    pub leader: LeaderConfig,
    /// How long webhook payloads and sent alerts are kept.
    #[serde(default)]
    pub retention: RetentionConfig,
    /// The rotation schedule of the repository's GitHub Actions secrets.
    #[serde(default)]
    pub security: SecurityConfig,
    /// Freeze windows: when deploys stop (weekly or dated). Default none.
    #[serde(default)]
    pub freeze: Vec<FreezeConfig>,
    /// How the log is written.
    #[serde(default)]
    pub log: LogConfig,
}

/// `[leader]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaderConfig {
    /// How long the leader's lease lasts unrenewed (it is renewed every
    /// third of it): a standby instance takes over within about this long
    /// after the leader dies. Default 15 s.
    #[serde(default = "default_lease", with = "humantime_serde")]
    pub lease: Duration,
}

impl Default for LeaderConfig {
    fn default() -> Self {
        Self {
            lease: default_lease(),
        }
    }
}

fn default_lease() -> Duration {
    Duration::from_secs(15)
}

/// `[monitor]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorConfig {
    /// How often each environment's ECS service and health URL are
    /// looked at. Default 30 s.
    #[serde(default = "default_monitor_interval", with = "humantime_serde")]
    pub interval: Duration,
    /// How long running tasks may stay below desired (a rollout, a task
    /// replaced) before it is alerted. Default 3 min.
    #[serde(default = "default_grace", with = "humantime_serde")]
    pub grace: Duration,
    /// Consecutive failed health probes that make an alert. Default 3.
    #[serde(default = "default_health_failures")]
    pub health_failures: u32,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self {
            interval: default_monitor_interval(),
            grace: default_grace(),
            health_failures: default_health_failures(),
        }
    }
}

fn default_monitor_interval() -> Duration {
    Duration::from_secs(30)
}

fn default_grace() -> Duration {
    Duration::from_secs(180)
}

fn default_health_failures() -> u32 {
    3
}

/// `[incident]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentConfig {
    /// Roles that may `/lock`, `/unlock`, and `/cancel` anyone's request.
    /// Default `["senior"]`.
    #[serde(default = "default_incident_roles")]
    pub roles: Vec<Role>,
    /// A lock without a duration is recalled to the team this often.
    /// Default 24 h.
    #[serde(default = "default_remind_every", with = "humantime_serde")]
    pub remind_every: Duration,
    /// A prod failure alert nobody answered with "I'm on it" within this
    /// is posted again, mentioning the next of `[contacts]`. Default 10 min.
    #[serde(default = "default_ack_within", with = "humantime_serde")]
    pub ack_within: Duration,
}

impl Default for IncidentConfig {
    fn default() -> Self {
        Self {
            roles: default_incident_roles(),
            remind_every: default_remind_every(),
            ack_within: default_ack_within(),
        }
    }
}

fn default_incident_roles() -> Vec<Role> {
    vec![Role::new("senior")]
}

fn default_ack_within() -> Duration {
    Duration::from_secs(10 * 60)
}

/// `[contacts]`: who is paged, in this order, when a prod failure alert
/// goes unacknowledged (user ids from `[[users]]`; each optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactsConfig {
    /// Paged first.
    pub technical_lead: Option<UserId>,
    /// Paged second.
    pub devops: Option<UserId>,
    /// Paged last.
    pub on_call: Option<UserId>,
}

impl ContactsConfig {
    /// The contacts in escalation order, with their keys.
    pub fn in_order(&self) -> Vec<(&'static str, UserId)> {
        [
            ("technical_lead", self.technical_lead),
            ("devops", self.devops),
            ("on_call", self.on_call),
        ]
        .into_iter()
        .filter_map(|(key, id)| Some((key, id?)))
        .collect()
    }
}

fn default_remind_every() -> Duration {
    Duration::from_secs(24 * 3600)
}

/// `[release]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseConfig {
    /// Roles that may `/release`. Default `["developer", "senior"]`.
    #[serde(default = "default_requesters")]
    pub requesters: Vec<Role>,
    /// Whether versions with pre-release or build metadata may be released.
    /// Default false.
    #[serde(default)]
    pub allow_pre_release: bool,
    /// The items a release's requester ticks (one button each) before the
    /// Release workflow is dispatched: a string is asked of every
    /// release, `{ item = "…", when = "major" }` of major releases only.
    /// At most 8, each one line of at most 60 characters. `[]`: none
    /// asked, dispatched at once. Default: the release process's
    /// "Documentation updated", "Dependencies reviewed" and (major)
    /// "Breaking changes documented".
    #[serde(
        default = "crate::domain::process_checklist",
        deserialize_with = "checklist::deserialize"
    )]
    pub checklist: Vec<crate::domain::ChecklistItem>,
}

impl Default for ReleaseConfig {
    fn default() -> Self {
        Self {
            requesters: default_requesters(),
            allow_pre_release: false,
            checklist: crate::domain::process_checklist(),
        }
    }
}

/// `[database]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` (created on first start) or `postgres://…`.
    /// Default `sqlite://aletheia.db`. The `DATABASE_URL` variable wins.
    #[serde(default = "default_database_url")]
    pub url: String,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: default_database_url(),
        }
    }
}

fn default_database_url() -> String {
    "sqlite://aletheia.db".to_owned()
}

/// `[telegram]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// Base URL of the Bot API. Default `https://api.telegram.org`.
    #[serde(default = "default_telegram_api")]
    pub api_url: url::Url,
    /// Long-polling timeout asked of `getUpdates`, in seconds. Default 30.
    #[serde(default = "default_poll_timeout")]
    pub poll_timeout_secs: u32,
    /// How updates arrive: `polling` (the leader asks `getUpdates`), or
    /// `webhook` (Telegram posts them to `webhook_url`; every instance
    /// takes them, so several can stand behind one address). Default
    /// `polling`.
    #[serde(default)]
    pub mode: UpdateMode,
    /// Webhook mode: the public HTTPS address Telegram posts updates to,
    /// routed to `server.listen` at the path [`TELEGRAM_WEBHOOK_PATH`].
    #[serde(default)]
    pub webhook_url: Option<url::Url>,
}

/// Where the bot serves Telegram's webhook.
pub const TELEGRAM_WEBHOOK_PATH: &str = "/telegram/webhook";

/// How Telegram updates reach the bot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpdateMode {
    #[default]
    Polling,
    Webhook,
}

impl Default for TelegramConfig {
    fn default() -> Self {
        Self {
            api_url: default_telegram_api(),
            poll_timeout_secs: default_poll_timeout(),
            mode: UpdateMode::Polling,
            webhook_url: None,
        }
    }
}

fn default_telegram_api() -> url::Url {
    url::Url::parse("https://api.telegram.org").expect("static URL")
}

fn default_poll_timeout() -> u32 {
    30
}

/// `[[chats]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatConfig {
    /// Telegram chat id (groups are negative, e.g. `-1001234567890`).
    pub id: ChatId,
    /// A name for logs and messages.
    pub name: String,
    /// The alert kinds this chat receives. Default none.
    #[serde(default)]
    pub alerts: Vec<AlertKind>,
    /// Only alerts about these environments (alerts about no environment,
    /// such as a release, always pass). Default: all environments.
    #[serde(default)]
    pub envs: Option<Vec<Env>>,
    /// Forum topic (`message_thread_id`) the alerts land in. Default none.
    #[serde(default)]
    pub thread_id: Option<i32>,
    /// Users (ids from `[[users]]`) mentioned in the loud alerts here, so
    /// their phones ring: the on-call rota. Loud: failures (with
    /// break-glass and direct ECS rollbacks, and QA's "found issues"),
    /// and the last environment's health alerts. Default none.
    #[serde(default)]
    pub mention_on_failure: Vec<UserId>,
}

impl ChatConfig {
    /// Whether this chat takes alerts of `kind` about `env` (an alert about
    /// no environment passes any `envs`).
    pub fn takes(&self, kind: AlertKind, env: Option<&Env>) -> bool {
        self.alerts.contains(&kind)
            && match (&self.envs, env) {
                (Some(envs), Some(env)) => envs.contains(env),
                _ => true,
            }
    }
}

/// `[[users]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// Telegram numeric user id (`/whoami` tells it). Never a username.
    pub id: UserId,
    /// Display name used in messages and the audit log.
    pub name: String,
    /// Roles, e.g. `developer`, `qa`, `senior`.
    #[serde(default)]
    pub roles: Vec<Role>,
}

/// `[alerts]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// Delivery attempts before an alert is marked failed. Default 10.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// First retry delay; doubles each attempt up to `max_backoff`. Default 1 s.
    #[serde(default = "default_backoff", with = "humantime_serde")]
    pub backoff: Duration,
    /// Longest delay between attempts. Default 5 min.
    #[serde(default = "default_max_backoff", with = "humantime_serde")]
    pub max_backoff: Duration,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            max_attempts: default_max_attempts(),
            backoff: default_backoff(),
            max_backoff: default_max_backoff(),
        }
    }
}

fn default_max_attempts() -> u32 {
    10
}

fn default_backoff() -> Duration {
    Duration::from_secs(1)
}

fn default_max_backoff() -> Duration {
    Duration::from_secs(300)
}

/// Why a config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{file}: {key}: {message}")]
    Parse {
        file: String,
        key: String,
        message: String,
    },
    #[error("{file}: {}", issues.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
    Invalid {
        file: String,
        issues: Vec<ConfigIssue>,
    },
}

impl Config {
    /// Reads, parses and validates a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and validates config text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self, ConfigError> {
        let parse_error = |key: String, message: String| ConfigError::Parse {
            file: file.to_owned(),
            key,
            message,
        };
        let de = toml::Deserializer::parse(text)
            .map_err(|e| parse_error("(syntax)".into(), one_line(&e, text)))?;
        let mut config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            parse_error(
                if key == "." {
                    "(top level)".into()
                } else {
                    key
                },
                one_line(e.inner(), text),
            )
        })?;
        let issues = config.validate();
        if issues.is_empty() {
            for env in config.environments.values_mut() {
                env.normalise();
            }
            Ok(config)
        } else {
            Err(ConfigError::Invalid {
                file: file.to_owned(),
                issues,
            })
        }
    }

    /// The configured user with this id, if any.
    pub fn user(&self, id: UserId) -> Option<&UserConfig> {
        self.users.iter().find(|u| u.id == id)
    }

    /// The freeze windows (`[[freeze]]`), as the domain judges them.
    pub fn freeze_windows(&self) -> Vec<crate::domain::freeze::Window> {
        self.freeze
            .iter()
            .filter_map(FreezeConfig::window)
            .collect()
    }

    /// The configured chat with this id, if any.
    pub fn chat(&self, id: ChatId) -> Option<&ChatConfig> {
        self.chats.iter().find(|c| c.id == id)
    }

    /// The database URL: `DATABASE_URL` if set, else `[database] url`.
    pub fn database_url(&self) -> String {
        std::env::var("DATABASE_URL")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| self.database.url.clone())
    }
}

/// A toml error as one line: its message and where it is.
fn one_line(e: &toml::de::Error, text: &str) -> String {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("{message} (line {line})")
        }
        None => message,
    }
}

#[cfg(test)]
mod tests;
