//! A fake GitHub REST API on 127.0.0.1: one repository with releases, CI
//! results on its branch, workflows; records dispatches; can be told to
//! fail a route; signs and posts webhooks like GitHub does.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{get, post};
use serde_json::{Value, json};

mod routes;

use routes::{
    check_runs, combined_status, compare, create_issue, dispatch, gate, get_jobs, get_run, job_log,
    list_runs, not_found, our_repo, repository, stored_log, unknown_route, workflow,
};

pub const TOKEN: &str = "ghp_TESTtoken";
pub const OWNER: &str = "mindburn-labs";
pub const REPO: &str = "aletheia";
pub const WEBHOOK_SECRET: &str = "webhook-TEST-secret";

mod deployments;
mod gates;
mod hooks;
mod releases;
mod secrets;
mod workflows;

#[allow(unused_imports)]
pub use deployments::Deployment;
use deployments::{create_deployment, create_status, list_deployments, list_statuses};
pub use hooks::*;
use releases::{generate_notes, latest_release, list_releases, release_by_tag};

#[derive(Default)]
struct Inner {
    /// In creation order (`created_at` rises with the index).
    releases: Vec<Value>,
    /// The release marked `make_latest`, as GitHub's "latest" (else the
    /// newest published one by creation date).
    latest_pin: Option<u64>,
    check_runs: Vec<Value>,
    statuses: Vec<Value>,
    workflows: HashMap<String, Value>,
    dispatches: Vec<(String, Value)>,
    dispatch_times: Vec<std::time::Instant>,
    /// Answer 422 to dispatches that ask for `return_run_details`, as
    /// older GitHub Enterprise Servers do.
    reject_run_details: bool,
    /// Runs are named after their workflow only (no request id in their
    /// run-name), as a workflow that ignores the README's advice does.
    plain_run_names: bool,
    /// Start the run, then answer the dispatch with this status anyway
    /// (a proxy timing out after GitHub acted).
    dispatch_answer: Option<u16>,
    next_run_id: u64,
    runs: Vec<Value>,
    jobs: HashMap<u64, Vec<Value>>,
    /// Job id → its plain-text log.
    job_logs: HashMap<u64, String>,
    /// Where the log storage listens.
    storage: Option<SocketAddr>,
    /// Route prefix → status to answer instead.
    failing: Vec<(String, u16)>,
    /// GitHub is down: every request, whatever its route or token, is
    /// answered 502 with GitHub's HTML error page (`set_down`).
    down: bool,
    /// GitHub takes every request and never answers (`set_hanging`).
    hanging: bool,
    /// Route prefix → requests there wait until it is let go (`hold`).
    held: Vec<(String, tokio::sync::watch::Receiver<bool>)>,
    /// Every API request is answered after a delay spread over this range
    /// (`set_latency`), as GitHub's own answers take 100–300 ms.
    latency: Option<(std::time::Duration, std::time::Duration)>,
    /// Requests delayed so far (spreads the delays).
    delayed: u64,
    requests: Vec<String>,
    /// Calls of routes GitHub does not have (method and path).
    unknown: Vec<String>,
    /// Issues opened through the API.
    issues: Vec<Value>,
    /// Files a release's commits added: tag → file names.
    added_files: HashMap<String, Vec<String>>,
    /// What `generate-notes` answers (`set_release_notes`).
    notes_body: Option<String>,
    /// The bodies `generate-notes` was posted.
    notes_requests: Vec<Value>,
    /// The repository's Actions secrets (name, dates).
    repo_secrets: Vec<Value>,
    /// GitHub environment → its Actions secrets; the environments there are.
    env_secrets: HashMap<String, Vec<Value>>,
    /// The token lacks the secrets' read permissions (403).
    secrets_forbidden: bool,
    /// Deployments, oldest first.
    deployments: Vec<Value>,
    /// Deployment statuses (deployment id, status), oldest first.
    deployment_statuses: Vec<(u64, Value)>,
    /// Deployments (`"deployment"`) or statuses (their state) made, then
    /// answered 502 anyway, once each (a proxy timing out after GitHub
    /// acted).
    lost_deployment_answers: Vec<String>,
    /// Run id → the environments it waits on (`hold_at_gates`).
    pending: HashMap<u64, Vec<Value>>,
    /// Reviews of pending deployments: (run id, body), oldest first.
    reviews: Vec<(u64, Value)>,
}

/// Requests held by [`FakeGithub::hold`] go on when this is dropped.
pub struct Held(tokio::sync::watch::Sender<bool>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.send_replace(true);
    }
}

pub struct FakeGithub {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    _server: super::background::Task,
    _storage: super::background::Task,
}

impl FakeGithub {
    pub async fn start() -> Self {
        let mut inner = Inner::default();
        for (id, file, name) in [
            (1, "release.yml", "Release"),
            (2, "deploy.yml", "Deploy"),
            (3, "rollback.yml", "Rollback"),
        ] {
            inner.workflows.insert(
                file.to_owned(),
                json!({"id": id, "name": name, "path": format!(".github/workflows/{file}"), "state": "active"}),
            );
        }
        let inner = Arc::new(Mutex::new(inner));
        let app = Router::new()
            .route("/repos/{owner}/{repo}", get(repository))
            .route("/repos/{owner}/{repo}/releases/latest", get(latest_release))
            .route("/repos/{owner}/{repo}/releases", get(list_releases))
            .route(
                "/repos/{owner}/{repo}/releases/generate-notes",
                post(generate_notes),
            )
            .route("/repos/{owner}/{repo}/issues", post(create_issue))
            .route(
                "/repos/{owner}/{repo}/releases/tags/{tag}",
                get(release_by_tag),
            )
            .route(
                "/repos/{owner}/{repo}/commits/{git_ref}/check-runs",
                get(check_runs),
            )
            .route(
                "/repos/{owner}/{repo}/commits/{git_ref}/status",
                get(combined_status),
            )
            .route(
                "/repos/{owner}/{repo}/actions/workflows",
                get(workflows::list_workflows),
            )
            .route(
                "/repos/{owner}/{repo}/actions/workflows/{file}",
                get(workflow),
            )
            .route(
                "/repos/{owner}/{repo}/actions/workflows/{file}/dispatches",
                post(dispatch),
            )
            .route(
                "/repos/{owner}/{repo}/actions/workflows/{file}/runs",
                get(list_runs),
            )
            .route("/repos/{owner}/{repo}/actions/runs/{run_id}", get(get_run))
            .route(
                "/repos/{owner}/{repo}/actions/runs/{run_id}/pending_deployments",
                get(gates::list_pending).post(gates::review_pending),
            )
            .route("/repos/{owner}/{repo}/compare/{range}", get(compare))
            .route(
                "/repos/{owner}/{repo}/actions/secrets",
                get(secrets::repo_secrets),
            )
            .route(
                "/repos/{owner}/{repo}/environments/{env}/secrets",
                get(secrets::env_secrets),
            )
            .route(
                "/repos/{owner}/{repo}/deployments",
                post(create_deployment).get(list_deployments),
            )
            .route(
                "/repos/{owner}/{repo}/deployments/{id}/statuses",
                post(create_status).get(list_statuses),
            )
            .route(
                "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs",
                get(get_jobs),
            )
            .route(
                "/repos/{owner}/{repo}/actions/jobs/{job_id}/logs",
                get(job_log),
            )
            // As GitHub: a route it does not have, or a method a route
            // does not take, is 404 with its JSON body.
            .fallback(unknown_route)
            .method_not_allowed_fallback(unknown_route)
            .layer(axum::middleware::from_fn_with_state(inner.clone(), gate))
            .with_state(inner.clone());
        // GitHub's log storage, where a job's log redirects: another host,
        // reached without GitHub's token.
        let storage = Router::new()
            .route("/job-logs/{job_id}", get(stored_log))
            .with_state(inner.clone());
        let (storage_addr, storage) = super::background::serve(storage);
        inner.lock().unwrap().storage = Some(storage_addr);
        let (addr, server) = super::background::serve(app);
        Self {
            addr,
            inner,
            _server: server,
            _storage: storage,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The issues opened so far.
    pub fn issues(&self) -> Vec<Value> {
        self.inner.lock().unwrap().issues.clone()
    }

    /// The commits of release `tag` added these files (the compare API
    /// lists them for any range that includes the release).
    pub fn release_adds_files(&self, tag: &str, files: &[&str]) {
        self.inner.lock().unwrap().added_files.insert(
            tag.to_owned(),
            files.iter().map(|f| (*f).to_owned()).collect(),
        );
    }

    /// Adds a check run on the branch head.
    pub fn add_check_run(&self, name: &str, status: &str, conclusion: Option<&str>) {
        self.inner.lock().unwrap().check_runs.push(json!({
            "id": 1, "name": name, "status": status, "conclusion": conclusion,
            "head_sha": "3f9c2ab41d5e6f708192a3b4c5d6e7f809a1b2c3"
        }));
    }

    pub fn disable_workflow(&self, file: &str) {
        let mut inner = self.inner.lock().unwrap();
        if let Some(w) = inner.workflows.get_mut(file) {
            w["state"] = json!("disabled_manually");
        }
    }

    pub fn remove_workflow(&self, file: &str) {
        self.inner.lock().unwrap().workflows.remove(file);
    }

    /// Requests whose path starts with `prefix` answer `status`.
    pub fn fail(&self, prefix: &str, status: u16) {
        self.inner
            .lock()
            .unwrap()
            .failing
            .push((prefix.to_owned(), status));
    }

    /// GitHub goes down (`true`: every call answers 502, as GitHub's
    /// front end does when nothing behind it answers) or comes back.
    pub fn set_down(&self, down: bool) {
        self.inner.lock().unwrap().down = down;
    }

    /// GitHub hangs (`true`: every call is taken and never answered, as
    /// behind a load balancer whose backends stall) or answers again.
    pub fn set_hanging(&self, hanging: bool) {
        self.inner.lock().unwrap().hanging = hanging;
    }

    /// Requests whose path starts with `prefix` wait (a slow GitHub) until
    /// the returned guard is dropped.
    pub fn hold(&self, prefix: &str) -> Held {
        let (release, released) = tokio::sync::watch::channel(false);
        self.inner
            .lock()
            .unwrap()
            .held
            .push((prefix.to_owned(), released));
        Held(release)
    }

    /// Every API request from now on is answered after a delay between
    /// `min` and `max` (spread evenly over the range, request by request),
    /// as GitHub answers in its usual time; the log storage stays quick.
    #[allow(dead_code)] // benches/e2e
    pub fn set_latency(&self, min: std::time::Duration, max: std::time::Duration) {
        self.inner.lock().unwrap().latency = Some((min, max));
    }

    /// Requests whose path starts with `prefix` are answered again.
    pub fn heal(&self, prefix: &str) {
        self.inner
            .lock()
            .unwrap()
            .failing
            .retain(|(p, _)| p != prefix);
    }

    pub fn answer_dispatches_with(&self, status: u16) {
        self.inner.lock().unwrap().dispatch_answer = Some(status);
    }

    pub fn plain_run_names(&self) {
        self.inner.lock().unwrap().plain_run_names = true;
    }

    pub fn reject_run_details(&self) {
        self.inner.lock().unwrap().reject_run_details = true;
    }

    /// The runs dispatches started, oldest first.
    pub fn runs(&self) -> Vec<Value> {
        self.inner.lock().unwrap().runs.clone()
    }

    /// A run nobody dispatched through the bot (another workflow started
    /// it, or someone in the GitHub UI), with this `run-name`.
    pub fn start_run(&self, file: &str, title: &str) -> Value {
        let mut inner = self.inner.lock().unwrap();
        inner.next_run_id += 1;
        let run_id = 9000 + inner.next_run_id;
        let name = inner.workflows[file]["name"].as_str().unwrap().to_owned();
        let now = chrono::Utc::now().to_rfc3339();
        let run = json!({
            "id": run_id, "name": name, "path": format!(".github/workflows/{file}"),
            "display_title": title, "event": "workflow_call", "head_branch": "main",
            "status": "in_progress", "conclusion": null,
            "html_url": format!("https://github.com/{OWNER}/{REPO}/actions/runs/{run_id}"),
            "created_at": now, "run_started_at": now, "updated_at": now,
        });
        inner.runs.push(run.clone());
        run
    }

    /// The run a dispatch with this request id started, if any.
    pub fn run_of_request(&self, request_id: &str) -> Option<u64> {
        self.inner
            .lock()
            .unwrap()
            .runs
            .iter()
            .find(|r| {
                r["display_title"]
                    .as_str()
                    .is_some_and(|t| t.contains(request_id))
            })
            .and_then(|r| r["id"].as_u64())
    }

    /// Moves a run through its lifecycle (`in_progress`, `completed`…).
    pub fn set_run(&self, run_id: u64, status: &str, conclusion: Option<&str>) -> Value {
        let mut inner = self.inner.lock().unwrap();
        let run = inner
            .runs
            .iter_mut()
            .find(|r| r["id"] == run_id)
            .expect("a run the fake started");
        run["status"] = json!(status);
        run["conclusion"] = json!(conclusion);
        run["updated_at"] = json!(chrono::Utc::now().to_rfc3339());
        run.clone()
    }

    /// The jobs of a run: (name, conclusion), or (name, "queued" or
    /// "in_progress") for a job not done yet.
    pub fn set_jobs(&self, run_id: u64, jobs: &[(&str, &str)]) {
        let jobs = jobs
            .iter()
            .enumerate()
            .map(|(i, (name, conclusion))| {
                let (status, conclusion) = match *conclusion {
                    "queued" | "in_progress" => (*conclusion, None),
                    done => ("completed", Some(done)),
                };
                json!({"id": run_id * 100 + i as u64, "name": name, "status": status, "conclusion": conclusion,
                       "html_url": format!("https://github.com/{OWNER}/{REPO}/actions/runs/{run_id}/job/{i}")})
            })
            .collect();
        self.inner.lock().unwrap().jobs.insert(run_id, jobs);
    }

    /// The `index`-th job of a run (set by [`Self::set_jobs`]) failed in
    /// `step`, and its log reads `log`.
    pub fn set_job_log(&self, run_id: u64, index: usize, step: &str, log: &str) {
        let mut inner = self.inner.lock().unwrap();
        let job = &mut inner.jobs.get_mut(&run_id).expect("jobs set")[index];
        job["steps"] = json!([
            {"name": "Set up job", "status": "completed", "conclusion": "success", "number": 1},
            {"name": step, "status": "completed", "conclusion": "failure", "number": 2},
            {"name": "Complete job", "status": "completed", "conclusion": "success", "number": 3},
        ]);
        let id = job["id"].as_u64().unwrap();
        inner.job_logs.insert(id, log.to_owned());
    }

    /// When each dispatch arrived, in order.
    #[allow(dead_code)] // benches/e2e
    pub fn dispatch_times(&self) -> Vec<std::time::Instant> {
        self.inner.lock().unwrap().dispatch_times.clone()
    }

    pub fn dispatches(&self) -> Vec<(String, Value)> {
        self.inner.lock().unwrap().dispatches.clone()
    }

    /// Every request's path and query, in order.
    /// Every request's path and query, in order.
    pub fn requests(&self) -> Vec<String> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// The calls of routes GitHub does not have, taken: a scenario that
    /// leaves any fails (the bot called GitHub wrong).
    pub fn take_unknown_routes(&self) -> Vec<String> {
        std::mem::take(&mut self.inner.lock().unwrap().unknown)
    }
}

impl Drop for FakeGithub {
    fn drop(&mut self) {
        let unknown = self.take_unknown_routes();
        if unknown.is_empty() {
            return;
        }
        if std::thread::panicking() {
            eprintln!("GitHub also answered 404 to routes it does not have: {unknown:#?}");
        } else {
            panic!("GitHub answered 404 to routes it does not have: {unknown:#?}");
        }
    }
}
