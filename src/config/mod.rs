//! `bot.toml`: the schema of the bot's configuration, read once at start and
//! validated into typed structs; the rest of the code never sees raw TOML.

mod bounds;
mod retention;
mod secrets;
mod server;
mod validate;

use std::path::Path;
use std::time::Duration;

use indexmap::IndexMap;
use serde::Deserialize;

use crate::domain::{AlertKind, ChatId, Env, OperationKind, Role, UserId};

pub use retention::RetentionConfig;
pub use secrets::{GithubAuth, Secret, Secrets, SecretsError};
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
}

/// `[leader]`
#[derive(Debug, Clone, Deserialize)]
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
}

impl Default for IncidentConfig {
    fn default() -> Self {
        Self {
            roles: default_incident_roles(),
            remind_every: default_remind_every(),
        }
    }
}

fn default_incident_roles() -> Vec<Role> {
    vec![Role::new("senior")]
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
}

impl Default for ReleaseConfig {
    fn default() -> Self {
        Self {
            requesters: default_requesters(),
            allow_pre_release: false,
        }
    }
}

/// `[database]`
#[derive(Debug, Clone, Deserialize)]
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
#[derive(Debug, Clone, Deserialize)]
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

/// `[github]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubConfig {
    /// Owner (user or organisation) of the repository.
    pub owner: String,
    /// Repository name.
    pub repo: String,
    /// REST API base. Default `https://api.github.com`; GHES: `https://HOST/api/v3`.
    #[serde(default = "default_github_api")]
    pub api_url: url::Url,
    /// The branch releases are cut from and whose CI must be green. Default `main`.
    #[serde(default = "default_ref", rename = "ref")]
    pub git_ref: String,
    /// The three workflows of the process.
    pub workflows: Workflows,
    /// Per-request timeout for GitHub calls, e.g. `"10s"`. Default 10 s.
    #[serde(default = "default_http_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// How often runs the bot follows are polled, and runs started
    /// outside it looked for, for when no webhook arrives. Default 30 s.
    #[serde(default = "default_poll_interval", with = "humantime_serde")]
    pub poll_interval: Duration,
    /// How long the bot looks for the run of a dispatch whose outcome
    /// GitHub left unclear before it declares the operation failed.
    /// Default 10 min.
    #[serde(default = "default_find_run_within", with = "humantime_serde")]
    pub find_run_within: Duration,
    /// Where the repository keeps database migrations: a rollback prompt
    /// warns about files added here after the target version. Default
    /// `migrations/`.
    #[serde(default = "default_migrations_path")]
    pub migrations_path: String,
    /// Labels of the incident report issue opened after a rollback.
    /// Default `["incident"]`.
    #[serde(default = "default_incident_labels")]
    pub incident_labels: Vec<String>,
}

fn default_migrations_path() -> String {
    "migrations/".to_owned()
}

fn default_incident_labels() -> Vec<String> {
    vec!["incident".to_owned()]
}

fn default_find_run_within() -> Duration {
    Duration::from_secs(600)
}

fn default_poll_interval() -> Duration {
    Duration::from_secs(30)
}

fn default_github_api() -> url::Url {
    url::Url::parse("https://api.github.com").expect("static URL")
}

fn default_ref() -> String {
    "main".to_owned()
}

fn default_http_timeout() -> Duration {
    Duration::from_secs(10)
}

/// `[github.workflows]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workflows {
    /// The Release workflow: inputs `version`, `release_type`, `request_id`.
    pub release: WorkflowConfig,
    /// The Deploy workflow: inputs `environment`, `version`, `request_id`.
    pub deploy: WorkflowConfig,
    /// The Rollback workflow: inputs `environment`, `version`, `request_id`.
    pub rollback: WorkflowConfig,
}

impl Workflows {
    /// The workflow that runs operations of `kind`.
    pub fn of_kind(&self, kind: OperationKind) -> &WorkflowConfig {
        match kind {
            OperationKind::Release => &self.release,
            OperationKind::Deploy => &self.deploy,
            OperationKind::Rollback => &self.rollback,
        }
    }

    /// The kind of operation a workflow file runs, when it is one of the
    /// bot's three (a file named twice runs the first of deploy, rollback,
    /// release).
    pub fn kind_of_file(&self, file: &str) -> Option<OperationKind> {
        [
            (OperationKind::Deploy, &self.deploy),
            (OperationKind::Rollback, &self.rollback),
            (OperationKind::Release, &self.release),
        ]
        .into_iter()
        .find(|(_, w)| w.file == file)
        .map(|(kind, _)| kind)
    }
}

/// One workflow: its file and the names its `workflow_dispatch` inputs have.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowConfig {
    /// File name under `.github/workflows/`, e.g. `release.yml`.
    pub file: String,
    /// Maps the bot's input (`version`, `release_type`, `environment`,
    /// `request_id`) to the workflow's input name. Unlisted inputs keep
    /// the bot's name.
    #[serde(default)]
    pub inputs: IndexMap<WorkflowInput, String>,
}

/// The inputs the bot passes to workflows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkflowInput {
    /// The semver version, without a leading `v`.
    Version,
    /// `patch`, `minor` or `major` (Release only).
    ReleaseType,
    /// The environment name (Deploy and Rollback).
    Environment,
    /// The bot's request id, for matching the run by its `run-name`.
    RequestId,
}

impl WorkflowConfig {
    /// The workflow's name for one of the bot's inputs.
    pub fn input_name(&self, input: WorkflowInput) -> &str {
        if let Some(name) = self.inputs.get(&input) {
            return name;
        }
        match input {
            WorkflowInput::Version => "version",
            WorkflowInput::ReleaseType => "release_type",
            WorkflowInput::Environment => "environment",
            WorkflowInput::RequestId => "request_id",
        }
    }
}

/// `[aws]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    /// Region of the ECS clusters, e.g. `eu-west-1`.
    pub region: String,
    /// Endpoint override (an emulator, a VPC endpoint). Default: AWS's own.
    #[serde(default)]
    pub endpoint_url: Option<url::Url>,
    /// After a deploy's or rollback's run succeeds: how long ECS (rollout
    /// COMPLETED, running = desired, image tag = version) and the health
    /// URL have to confirm it before the bot says "deployed but
    /// unhealthy". Default 10 min.
    #[serde(default = "default_confirm_within", with = "humantime_serde")]
    pub confirm_within: Duration,
    /// How often ECS and the health URL are asked meanwhile. Default 10 s.
    #[serde(default = "default_confirm_interval", with = "humantime_serde")]
    pub confirm_interval: Duration,
}

fn default_confirm_within() -> Duration {
    Duration::from_secs(600)
}

fn default_confirm_interval() -> Duration {
    Duration::from_secs(10)
}

/// `[environments.<name>]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    /// ECS cluster name or ARN.
    pub cluster: String,
    /// ECS service name or ARN.
    pub service: String,
    /// The container whose image tag is the running version.
    pub container: String,
    /// Optional URL probed for health (HTTP 2xx = healthy).
    #[serde(default)]
    pub health_url: Option<url::Url>,
    /// Who may give QA's verdict on a version running here. Default `["qa"]`.
    #[serde(default = "default_verifiers")]
    pub verifiers: Vec<Role>,
    /// Who may ask for a deploy here, by role. Default `["developer", "senior"]`.
    #[serde(default = "default_requesters")]
    pub requesters: Vec<Role>,
    /// The approval policy for deploys to this environment.
    #[serde(default)]
    pub approval: ApprovalPolicy,
    /// Rollbacks here: who, who approves, break-glass, the lock after.
    #[serde(default)]
    pub rollback: RollbackPolicy,
    /// The environment deploys itself (dev from `main`): its image tags may
    /// be anything (a commit SHA, `main-1a2b3c4`), a new task definition is
    /// announced as a deploy, not as one made around the bot, and Deploy
    /// runs naming such a tag are followed. Default false.
    #[serde(default)]
    pub auto_deploy: bool,
}

/// `[environments.<name>.rollback]`: unset keys follow the deploy policy.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackPolicy {
    /// Who may ask for a rollback. Default: the deploy `requesters`.
    #[serde(default)]
    pub requesters: Option<Vec<Role>>,
    /// Who may approve one. Default: the deploy `approval.approvers`.
    #[serde(default)]
    pub approvers: Option<Vec<Role>>,
    /// How many approvals one needs. Default: the deploy `approval.approvals`.
    #[serde(default)]
    pub approvals: Option<u32>,
    /// Break-glass: one of `approvers` may roll back at once, alone, with
    /// `--break-glass <reason>`; the team is told loudly. Default false.
    #[serde(default)]
    pub break_glass: bool,
    /// After a successful rollback the environment locks itself ("rolled
    /// back from X to Y") so nobody redeploys the bad version by reflex.
    /// Default false (set it for prod).
    #[serde(default)]
    pub lock_after: bool,
}

impl EnvironmentConfig {
    /// Who may ask for a rollback here.
    pub fn rollback_requesters(&self) -> &[Role] {
        self.rollback
            .requesters
            .as_deref()
            .unwrap_or(&self.requesters)
    }

    /// Who may approve a rollback here (and break the glass, if allowed).
    pub fn rollback_approvers(&self) -> &[Role] {
        self.rollback
            .approvers
            .as_deref()
            .unwrap_or(&self.approval.approvers)
    }

    /// How many approvals a rollback here needs.
    pub fn rollback_approvals(&self) -> u32 {
        self.rollback.approvals.unwrap_or(self.approval.approvals)
    }
}

fn default_verifiers() -> Vec<Role> {
    vec![Role::new("qa")]
}

fn default_requesters() -> Vec<Role> {
    vec![Role::new("developer"), Role::new("senior")]
}

/// `[environments.<name>.approval]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalPolicy {
    /// Roles whose holders may approve. Default none.
    #[serde(default)]
    pub approvers: Vec<Role>,
    /// How many distinct approvals a request needs. Default 0 (none).
    #[serde(default)]
    pub approvals: u32,
    /// The requester may not approve their own request. Default true.
    #[serde(default = "yes")]
    pub four_eyes: bool,
    /// A version must have deployed successfully and been QA-verified in
    /// this environment before it may come here (e.g. `"staging"` for prod).
    #[serde(default)]
    pub requires_verified_in: Option<Env>,
    /// How long an approval prompt stays open, e.g. `"30m"`. Default 30 min.
    #[serde(default = "default_expiry", with = "humantime_serde")]
    pub expiry: Duration,
    /// Fat-finger guard: Approve asks for a second tap on "Confirm deploy
    /// X → env" within `confirm_window`. Default false (set it for prod).
    #[serde(default)]
    pub confirm_tap: bool,
    /// How long the second tap may take, e.g. `"20s"`. Default 20 s.
    #[serde(default = "default_confirm_window", with = "humantime_serde")]
    pub confirm_window: Duration,
}

fn default_confirm_window() -> Duration {
    Duration::from_secs(20)
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        Self {
            approvers: Vec::new(),
            approvals: 0,
            four_eyes: true,
            requires_verified_in: None,
            expiry: default_expiry(),
            confirm_tap: false,
            confirm_window: default_confirm_window(),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_expiry() -> Duration {
    Duration::from_secs(30 * 60)
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
#[derive(Debug, Clone, Deserialize)]
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
        let config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
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
