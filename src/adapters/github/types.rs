//! What GitHub answers, read into our own structs (the fields the bot
//! uses; octocrab's models lack some, such as a run's `display_title`).

use serde::Deserialize;

/// A published release.
#[derive(Debug, Clone, Deserialize)]
pub struct Release {
    pub id: u64,
    pub tag_name: String,
    pub name: Option<String>,
    pub html_url: String,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub prerelease: bool,
}

/// A workflow run (read into our own struct: octocrab's lacks
/// `display_title`, where the request id travels).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct WorkflowRun {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    /// `.github/workflows/deploy.yml`
    pub path: String,
    #[serde(default)]
    pub display_title: Option<String>,
    /// What started it: `workflow_dispatch` (the bot, the GitHub UI),
    /// `push`, `workflow_call`, …
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    pub html_url: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(default)]
    pub run_started_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl WorkflowRun {
    /// The workflow's file name (`deploy.yml`).
    pub fn file(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct Runs {
    #[serde(default)]
    pub(super) total_count: u64,
    pub(super) workflow_runs: Vec<WorkflowRun>,
}

/// How many runs one listing of a workflow's new runs asks for (GitHub's
/// most per page).
pub const RUNS_PER_PAGE: usize = 100;

#[derive(Debug, Deserialize)]
pub(super) struct Jobs {
    pub(super) jobs: Vec<Job>,
}

/// A job of a run.
#[derive(Debug, Clone, Deserialize)]
pub struct Job {
    #[serde(default)]
    pub id: u64,
    pub name: String,
    /// `queued`, `in_progress`, `completed`, …
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub steps: Vec<JobStep>,
}

/// A step of a job.
#[derive(Debug, Clone, Deserialize)]
pub struct JobStep {
    pub name: String,
    #[serde(default)]
    pub conclusion: Option<String>,
}

impl JobStep {
    pub fn failed(&self) -> bool {
        matches!(
            self.conclusion.as_deref(),
            Some("failure" | "timed_out" | "cancelled")
        )
    }
}

impl Job {
    pub fn is_done(&self) -> bool {
        self.status.as_deref() == Some("completed")
    }

    pub fn failed(&self) -> bool {
        matches!(
            self.conclusion.as_deref(),
            Some("failure" | "timed_out" | "cancelled" | "startup_failure")
        )
    }
}

/// The changes between two tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub html_url: String,
    pub total: u64,
    /// First lines of the commit messages, oldest first.
    pub subjects: Vec<String>,
    /// Files the range added (GitHub lists up to 300).
    pub added_files: Vec<String>,
}

/// What a dispatch started, as far as GitHub said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispatched {
    pub run_id: Option<u64>,
    pub html_url: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RunDetails {
    pub(super) workflow_run_id: u64,
    pub(super) html_url: Option<String>,
}

/// The repository, as `check --online` sees it.
#[derive(Debug, Clone, Deserialize)]
pub struct Repository {
    pub full_name: String,
    pub default_branch: Option<String>,
}

/// A workflow, as `check --online` sees it.
#[derive(Debug, Clone, Deserialize)]
pub struct Workflow {
    pub id: u64,
    pub name: String,
    pub path: String,
    pub state: String,
}
