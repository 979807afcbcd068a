//! `[github]` and `[workflows]`: the repository, how the bot reaches it,
//! and the three workflows it dispatches and follows.

use std::time::Duration;

use serde::Deserialize;

use crate::domain::OperationKind;

use super::*;

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
    /// Records every deploy and rollback the bot runs or adopts as a
    /// GitHub Deployment of its environment, with its statuses (the token
    /// needs "Deployments: write"). Default false.
    #[serde(default)]
    pub deployments: bool,
    /// The first wait before a deployment status GitHub did not take is
    /// posted again; it doubles with each failure, up to 5 min. Default 2 s.
    #[serde(default = "default_deployment_retry", with = "humantime_serde")]
    pub deployment_retry: Duration,
}

impl GithubConfig {
    /// The repository at `api_url`, every other key at its default: how
    /// `init` reaches GitHub before any `bot.toml` exists.
    pub fn repository(owner: &str, repo: &str, api_url: url::Url) -> Self {
        let workflow = |file: &str| WorkflowConfig {
            file: file.to_owned(),
            inputs: IndexMap::new(),
        };
        Self {
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            api_url,
            git_ref: default_ref(),
            workflows: Workflows {
                release: workflow("release.yml"),
                deploy: workflow("deploy.yml"),
                rollback: workflow("rollback.yml"),
            },
            timeout: default_http_timeout(),
            poll_interval: default_poll_interval(),
            find_run_within: default_find_run_within(),
            migrations_path: default_migrations_path(),
            incident_labels: default_incident_labels(),
            deployments: false,
            deployment_retry: default_deployment_retry(),
        }
    }
}

/// The longest wait between two attempts at a deployment status.
pub const DEPLOYMENT_RETRY_MOST: Duration = Duration::from_secs(300);

fn default_deployment_retry() -> Duration {
    Duration::from_secs(2)
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
#[derive(Debug, Clone, PartialEq, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Deserialize)]
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
