//! GitHub: the one way in. The real octocrab client, built from config with
//! an overridable base URL (which is how tests point it at a fake), its own
//! retries off: a workflow dispatch must never be blind-retried.

use octocrab::Octocrab;
use octocrab::models::{AppId, InstallationId};
use octocrab::service::middleware::retry::RetryConfig;
use serde::Deserialize;

use crate::config::{GithubAuth, GithubConfig};

mod ci;
mod deployments;
mod gates;
mod logs;
mod notes;
mod secrets;
mod types;
mod workflows;

pub use ci::{CiState, CiVerdict};
pub use deployments::{NewDeployment, NewStatus};
pub use gates::{PendingDeployment, PendingEnvironment};
pub use notes::ReleaseNotes;
pub use secrets::SecretListed;
pub use types::{
    Comparison, Dispatched, Job, JobStep, RUNS_PER_PAGE, Release, Repository, Workflow, WorkflowRun,
};
use types::{Jobs, RunDetails, Runs};

/// The repository the bot works on, with the client that reaches it.
#[derive(Clone)]
pub struct GitHub {
    client: Octocrab,
    owner: String,
    repo: String,
    git_ref: String,
    html_base: String,
}

/// A GitHub call that failed, by what the user must be told.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error("not found")]
    NotFound,
    #[error("GitHub answered {status}: {message}")]
    Status { status: u16, message: String },
    #[error("GitHub unreachable: {0}")]
    Transport(String),
    #[error("GitHub client setup: {0}")]
    Setup(String),
}

impl GithubError {
    /// Whether a failed request may still have taken effect: a timeout, a
    /// dropped connection, a 5xx, or a success GitHub answered unreadably.
    /// A dispatch that failed this way may have started a run.
    pub fn maybe_took_effect(&self) -> bool {
        match self {
            GithubError::Transport(_) => true,
            GithubError::Status { status, .. } => {
                *status >= 500 || matches!(status, 200 | 408 | 429)
            }
            GithubError::NotFound | GithubError::Setup(_) => false,
        }
    }

    /// Whether GitHub itself is out of reach: no answer in time, a broken
    /// connection, or a 5xx from its front end. A 4xx is GitHub answering
    /// (it works, it refuses this request), and so is not.
    pub fn is_unreachable(&self) -> bool {
        match self {
            GithubError::Transport(_) => true,
            GithubError::Status { status, .. } => *status >= 500,
            GithubError::NotFound | GithubError::Setup(_) => false,
        }
    }
}

impl From<octocrab::Error> for GithubError {
    fn from(e: octocrab::Error) -> Self {
        match e {
            octocrab::Error::GitHub { source, .. } => {
                if source.status_code.as_u16() == 404 {
                    GithubError::NotFound
                } else {
                    GithubError::Status {
                        status: source.status_code.as_u16(),
                        message: readable(source.status_code.as_u16(), &source.message),
                    }
                }
            }
            other => GithubError::Transport(one_line(&other)),
        }
    }
}

/// GitHub's message on a failed request, or the status's name where the
/// answer carried none: a 5xx from GitHub's front end is an HTML page
/// (which octocrab hands over as the message), and no chat should read it.
fn readable(status: u16, message: &str) -> String {
    let message = message.trim();
    if message.is_empty() || message.starts_with('<') {
        return reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("no message")
            .to_owned();
    }
    message.chars().take(200).collect()
}

/// An error and its causes on one line, without a backtrace.
pub(crate) fn one_line(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text.chars().take(300).collect()
}

/// How many pages of releases (100 each) are read at most.
const MAX_RELEASE_PAGES: usize = 50;

impl GitHub {
    /// Builds the client. With a GitHub App, finds the installation on the
    /// repository (one API call) and uses installation tokens from then on.
    pub async fn connect(config: &GithubConfig, auth: &GithubAuth) -> Result<Self, GithubError> {
        let builder = || {
            Octocrab::builder()
                .base_uri(config.api_url.as_str())
                .map(|b| {
                    b.add_retry_config(RetryConfig::None)
                        .set_connect_timeout(Some(config.timeout))
                        .set_read_timeout(Some(config.timeout))
                        .set_write_timeout(Some(config.timeout))
                })
                .map_err(|e| GithubError::Setup(one_line(&e)))
        };
        let client = match auth {
            GithubAuth::Token(token) => builder()?
                .personal_token(token.expose().to_owned())
                .build()
                .map_err(|e| GithubError::Setup(one_line(&e)))?,
            GithubAuth::App {
                app_id,
                private_key,
            } => {
                let not_a_key =
                    || GithubError::Setup("GITHUB_APP_PRIVATE_KEY is not an RSA PEM key".into());
                let key = octocrab::EncodingKey::from_rsa_pem(private_key.expose().as_bytes())
                    .map_err(|_| not_a_key())?;
                // The PEM is only read when a JWT is signed: sign one now,
                // so a public key or a broken one is told at start, not as
                // "GitHub unreachable" on the first call.
                octocrab::auth::create_jwt(AppId(*app_id), &key).map_err(|_| not_a_key())?;
                let app = builder()?
                    .app(AppId(*app_id), key)
                    .build()
                    .map_err(|e| GithubError::Setup(one_line(&e)))?;
                #[derive(Deserialize)]
                struct Installation {
                    id: u64,
                }
                let route = format!("/repos/{}/{}/installation", config.owner, config.repo);
                let installation: Installation = app.get(route, None::<&()>).await?;
                app.installation(InstallationId(installation.id))
                    .map_err(|e| GithubError::Setup(one_line(&e)))?
            }
        };
        let html_base = if config.api_url.host_str() == Some("api.github.com") {
            "https://github.com".to_owned()
        } else {
            config
                .api_url
                .as_str()
                .trim_end_matches('/')
                .trim_end_matches("/api/v3")
                .to_owned()
        };
        Ok(Self {
            client,
            owner: config.owner.clone(),
            repo: config.repo.clone(),
            git_ref: config.git_ref.clone(),
            html_base,
        })
    }

    fn route(&self, tail: &str) -> String {
        format!("/repos/{}/{}{tail}", self.owner, self.repo)
    }

    /// `owner/repo`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    /// The web address of the repository.
    pub fn html_url(&self) -> String {
        format!("{}/{}/{}", self.html_base, self.owner, self.repo)
    }

    /// The configured branch.
    pub fn git_ref(&self) -> &str {
        &self.git_ref
    }

    /// The repository itself (proves the token can see it).
    pub async fn repository(&self) -> Result<Repository, GithubError> {
        Ok(self.client.get(self.route(""), None::<&()>).await?)
    }

    /// A workflow by file name (proves it exists and is enabled).
    pub async fn workflow(&self, file: &str) -> Result<Workflow, GithubError> {
        let route = self.route(&format!("/actions/workflows/{file}"));
        Ok(self.client.get(route, None::<&()>).await?)
    }

    /// The latest release on the release line: the highest published
    /// version (see [`crate::domain::highest_published`]), read from
    /// every page of the list, not GitHub's "latest" flag (which follows
    /// creation dates and can be moved by hand). `None` when there is none.
    pub async fn highest_release(&self) -> Result<Option<Release>, GithubError> {
        let mut releases = self.all_releases().await?;
        let listed: Vec<crate::domain::Listed<'_>> = releases
            .iter()
            .map(|r| crate::domain::Listed {
                tag: &r.tag_name,
                draft: r.draft,
                prerelease: r.prerelease,
            })
            .collect();
        Ok(crate::domain::highest_published(&listed).map(|i| releases.swap_remove(i)))
    }

    /// Every release the token can see, newest first, page by page
    /// (100 a page, GitHub's most), following the `Link` header.
    async fn all_releases(&self) -> Result<Vec<Release>, GithubError> {
        let first: octocrab::Page<Release> = self
            .client
            .get(self.route("/releases?per_page=100"), None::<&()>)
            .await?;
        let mut next = first.next.clone();
        let mut releases = first.items;
        let mut pages = 1;
        while let Some(page) = self.client.get_page::<Release>(&next).await? {
            pages += 1;
            releases.extend(page.items);
            next = page.next;
            if pages >= MAX_RELEASE_PAGES {
                // A list that long (or a server that pages forever) is
                // read as far as this: the highest release is most likely
                // among the newest.
                tracing::warn!(pages, "releases: stopped after {MAX_RELEASE_PAGES} pages");
                break;
            }
        }
        Ok(releases)
    }

    /// The newest published releases (no drafts), newest first, at most
    /// `n` (≤ 100: one page).
    pub async fn recent_releases(&self, n: u8) -> Result<Vec<Release>, GithubError> {
        let route = self.route(&format!("/releases?per_page={}", n.min(100)));
        let releases: Vec<Release> = self.client.get(route, None::<&()>).await?;
        Ok(releases.into_iter().filter(|r| !r.draft).collect())
    }

    /// Opens an issue; returns its number and URL.
    pub async fn create_issue(
        &self,
        title: &str,
        body: &str,
        labels: &[String],
    ) -> Result<(u64, String), GithubError> {
        #[derive(Deserialize)]
        struct Created {
            number: u64,
            html_url: String,
        }
        let request = serde_json::json!({"title": title, "body": body, "labels": labels});
        let created: Created = self
            .client
            .post(self.route("/issues"), Some(&request))
            .await?;
        Ok((created.number, created.html_url))
    }

    /// The published release of a version, tagged `v1.2.3` or `1.2.3`.
    pub async fn release_for(&self, version: &str) -> Result<Option<Release>, GithubError> {
        for tag in [format!("v{version}"), version.to_owned()] {
            match self
                .client
                .get::<Release, _, ()>(self.route(&format!("/releases/tags/{tag}")), None)
                .await
            {
                Ok(release) => return Ok(Some(release)),
                Err(e) => match GithubError::from(e) {
                    GithubError::NotFound => continue,
                    other => return Err(other),
                },
            }
        }
        Ok(None)
    }

    /// Dispatches a workflow on the configured branch. Asks GitHub to
    /// return the run; a server that rejects that parameter (400/422:
    /// nothing ran) gets the same request without it. Any other failure,
    /// a timeout above all, is returned as it is and never retried here:
    /// the run may have started.
    pub async fn dispatch(
        &self,
        file: &str,
        inputs: &[(&str, String)],
    ) -> Result<Dispatched, GithubError> {
        let route = self.route(&format!("/actions/workflows/{file}/dispatches"));
        let inputs: serde_json::Map<String, serde_json::Value> = inputs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(v.clone())))
            .collect();
        let mut body = serde_json::json!({
            "ref": self.git_ref,
            "inputs": inputs,
            "return_run_details": true,
        });
        let (status, text) = self.post_raw(&route, &body).await?;
        let (status, text) = if status == 400 || status == 422 {
            body.as_object_mut()
                .expect("a JSON object")
                .remove("return_run_details");
            self.post_raw(&route, &body).await?
        } else {
            (status, text)
        };
        match status {
            200 => {
                let details: RunDetails =
                    serde_json::from_str(&text).map_err(|e| GithubError::Status {
                        status,
                        message: format!("unreadable dispatch answer: {e}"),
                    })?;
                Ok(Dispatched {
                    run_id: Some(details.workflow_run_id),
                    html_url: details.html_url,
                })
            }
            204 => Ok(Dispatched {
                run_id: None,
                html_url: None,
            }),
            404 => Err(GithubError::NotFound),
            _ => Err(GithubError::Status {
                status,
                message: readable(
                    status,
                    &serde_json::from_str::<serde_json::Value>(&text)
                        .ok()
                        .and_then(|v| v["message"].as_str().map(str::to_owned))
                        .unwrap_or(text),
                ),
            }),
        }
    }

    async fn post_raw(
        &self,
        route: &str,
        body: &serde_json::Value,
    ) -> Result<(u16, String), GithubError> {
        let response = self.client._post(route.to_owned(), Some(body)).await?;
        let status = response.status().as_u16();
        let text = self.client.body_to_string(response).await?;
        Ok((status, text))
    }

    /// The commits between two tags, oldest first (first page), and the
    /// web page comparing them.
    pub async fn compare(&self, base: &str, head: &str) -> Result<Comparison, GithubError> {
        #[derive(Deserialize)]
        struct Raw {
            html_url: String,
            total_commits: Option<u64>,
            commits: Vec<RawCommit>,
            #[serde(default)]
            files: Vec<RawFile>,
        }
        #[derive(Deserialize)]
        struct RawFile {
            filename: String,
            status: String,
        }
        #[derive(Deserialize)]
        struct RawCommit {
            commit: CommitBody,
        }
        #[derive(Deserialize)]
        struct CommitBody {
            message: String,
        }
        let raw: Raw = self
            .client
            .get(
                self.route(&format!("/compare/{base}...{head}")),
                None::<&()>,
            )
            .await?;
        Ok(Comparison {
            added_files: raw
                .files
                .iter()
                .filter(|f| f.status == "added")
                .map(|f| f.filename.clone())
                .collect(),
            html_url: raw.html_url,
            total: raw.total_commits.unwrap_or(raw.commits.len() as u64),
            subjects: raw
                .commits
                .into_iter()
                .map(|c| {
                    c.commit
                        .message
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect(),
        })
    }

    /// One run.
    pub async fn run(&self, run_id: u64) -> Result<WorkflowRun, GithubError> {
        Ok(self
            .client
            .get(self.route(&format!("/actions/runs/{run_id}")), None::<&()>)
            .await?)
    }

    /// The newest dispatched runs of a workflow (first page).
    pub async fn recent_runs(&self, file: &str) -> Result<Vec<WorkflowRun>, GithubError> {
        let route = self.route(&format!(
            "/actions/workflows/{file}/runs?event=workflow_dispatch&per_page=30"
        ));
        let runs: Runs = self.client.get(route, None::<&()>).await?;
        Ok(runs.workflow_runs)
    }

    /// The runs of a workflow created at or after `since`, whatever
    /// started them, newest first: one page of [`RUNS_PER_PAGE`], and how
    /// many there are in all.
    pub async fn runs_created_since(
        &self,
        file: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<(Vec<WorkflowRun>, u64), GithubError> {
        // GitHub's search syntax, whole seconds (`>=` keeps the second the
        // mark falls in).
        let since = since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let route = self.route(&format!(
            "/actions/workflows/{file}/runs?per_page={RUNS_PER_PAGE}&created=%3E%3D{}",
            since.replace(':', "%3A")
        ));
        let runs: Runs = self.client.get(route, None::<&()>).await?;
        Ok((runs.workflow_runs, runs.total_count))
    }

    /// The jobs of a run (of its latest attempt), up to 100.
    pub async fn jobs(&self, run_id: u64) -> Result<Vec<Job>, GithubError> {
        let route = self.route(&format!("/actions/runs/{run_id}/jobs?per_page=100"));
        let jobs: Jobs = self.client.get(route, None::<&()>).await?;
        Ok(jobs.jobs)
    }

    /// The jobs of a run that did not succeed.
    pub async fn failed_jobs(&self, run_id: u64) -> Result<Vec<Job>, GithubError> {
        let mut jobs = self.jobs(run_id).await?;
        jobs.retain(Job::failed);
        Ok(jobs)
    }
}
