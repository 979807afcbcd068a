//! The fake GitHub's side of the wire: the REST routes it serves, each
//! answering as GitHub does (404 with GitHub's body for what it lacks).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Inner, OWNER, REPO, TOKEN};

/// Checks the token like GitHub does and applies injected failures.
pub(super) async fn gate(
    State(inner): State<Arc<Mutex<Inner>>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let hanging = {
        let mut inner = inner.lock().unwrap();
        if inner.hanging {
            inner.requests.push(path.clone());
        }
        inner.hanging
    };
    if hanging {
        std::future::pending::<()>().await;
    }
    let held = {
        let inner = inner.lock().unwrap();
        inner
            .held
            .iter()
            .find(|(prefix, released)| path.starts_with(prefix.as_str()) && !*released.borrow())
            .map(|(_, released)| released.clone())
    };
    if let Some(mut released) = held {
        // A dropped guard closes the channel too: either way, go on.
        let _ = released.wait_for(|released| *released).await;
    }
    {
        let mut inner = inner.lock().unwrap();
        if inner.down {
            // The front end answers before any token is looked at, and
            // not in JSON.
            inner.requests.push(path);
            return (
                StatusCode::BAD_GATEWAY,
                [("content-type", "text/html")],
                "<!DOCTYPE html><html><head><title>Unicorn! · GitHub</title></head>\
                 <body><p>No server is currently available to service your request.</p></body></html>",
            )
                .into_response();
        }
    }
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or(path.clone(), |p| p.as_str().to_owned());
    let auth = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if auth != format!("Bearer {TOKEN}") && auth != format!("token {TOKEN}") {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})),
        )
            .into_response();
    }
    let (failing, delay) = {
        let mut inner = inner.lock().unwrap();
        inner.requests.push(path_and_query);
        let delay = inner.latency.map(|(min, max)| {
            inner.delayed += 1;
            // An even spread over the range, in a scrambled order.
            let span = (max - min).as_millis() as u64;
            min + std::time::Duration::from_millis(inner.delayed * 7919 % (span + 1))
        });
        let failing = inner
            .failing
            .iter()
            .find(|(prefix, _)| path.starts_with(prefix.as_str()))
            .map(|(_, status)| *status);
        (failing, delay)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(status) = failing {
        return (
            StatusCode::from_u16(status).unwrap(),
            axum::Json(json!({"message": "Server Error", "documentation_url": "https://docs.github.com/rest"})),
        )
            .into_response();
    }
    next.run(request).await
}

pub(super) fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(
            json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
        ),
    )
        .into_response()
}

pub(super) async fn unknown_route(
    State(inner): State<Arc<Mutex<Inner>>>,
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> Response {
    inner
        .lock()
        .unwrap()
        .unknown
        .push(format!("{method} {uri}"));
    not_found()
}

pub(super) fn our_repo(owner: &str, repo: &str) -> bool {
    owner == OWNER && repo == REPO
}

pub(super) async fn repository(Path((owner, repo)): Path<(String, String)>) -> Response {
    if !our_repo(&owner, &repo) {
        return not_found();
    }
    axum::Json(json!({"id": 1, "full_name": format!("{OWNER}/{REPO}"), "default_branch": "main"}))
        .into_response()
}

pub(super) async fn create_issue(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((owner, repo)): Path<(String, String)>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if !our_repo(&owner, &repo) {
        return not_found();
    }
    let mut inner = inner.lock().unwrap();
    let number = inner.issues.len() as u64 + 101;
    let issue = json!({
        "number": number,
        "html_url": format!("https://github.com/{OWNER}/{REPO}/issues/{number}"),
        "title": body["title"],
        "body": body["body"],
        "labels": body["labels"],
    });
    inner.issues.push(issue.clone());
    (StatusCode::CREATED, axum::Json(issue)).into_response()
}

pub(super) async fn check_runs(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((owner, repo, _git_ref)): Path<(String, String, String)>,
) -> Response {
    if !our_repo(&owner, &repo) {
        return not_found();
    }
    let inner = inner.lock().unwrap();
    axum::Json(json!({"total_count": inner.check_runs.len(), "check_runs": inner.check_runs}))
        .into_response()
}

pub(super) async fn combined_status(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((owner, repo, _git_ref)): Path<(String, String, String)>,
) -> Response {
    if !our_repo(&owner, &repo) {
        return not_found();
    }
    let inner = inner.lock().unwrap();
    // GitHub says "pending" when there are no statuses at all.
    let state = if inner.statuses.is_empty() {
        "pending"
    } else {
        "success"
    };
    axum::Json(json!({
        "state": state,
        "sha": "3f9c2ab41d5e6f708192a3b4c5d6e7f809a1b2c3",
        "total_count": inner.statuses.len(),
        "statuses": inner.statuses
    }))
    .into_response()
}

pub(super) async fn workflow(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((owner, repo, file)): Path<(String, String, String)>,
) -> Response {
    let inner = inner.lock().unwrap();
    match inner.workflows.get(&file) {
        Some(w) if our_repo(&owner, &repo) => axum::Json(w.clone()).into_response(),
        _ => not_found(),
    }
}

pub(super) async fn dispatch(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((owner, repo, file)): Path<(String, String, String)>,
    body: axum::Json<Value>,
) -> Response {
    let mut inner = inner.lock().unwrap();
    if !our_repo(&owner, &repo) || !inner.workflows.contains_key(&file) {
        return not_found();
    }
    let wants_details = body.0.get("return_run_details") == Some(&json!(true));
    if wants_details && inner.reject_run_details {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"message": "Invalid request.\n\n\"return_run_details\" is not a permitted key."})),
        )
            .into_response();
    }
    inner.next_run_id += 1;
    let run_id = 9000 + inner.next_run_id;
    // The workflows put the request id into their run-name, as the README asks.
    let input = |k: &str| body.0["inputs"][k].as_str().unwrap_or_default().to_owned();
    let name = inner.workflows[&file]["name"].as_str().unwrap().to_owned();
    let title = match file.as_str() {
        _ if inner.plain_run_names => name.clone(),
        "release.yml" => format!("Release {} ({})", input("version"), input("request_id")),
        _ => format!(
            "{name} {} to {} ({})",
            input("version"),
            input("environment"),
            input("request_id")
        ),
    };
    let now = chrono::Utc::now().to_rfc3339();
    inner.runs.push(json!({
        "id": run_id,
        "name": name,
        "path": format!(".github/workflows/{file}"),
        "display_title": title,
        "event": "workflow_dispatch",
        "head_branch": "main",
        "status": "queued",
        "conclusion": null,
        "html_url": format!("https://github.com/{OWNER}/{REPO}/actions/runs/{run_id}"),
        "created_at": now,
        "run_started_at": now,
        "updated_at": now,
    }));
    inner.dispatches.push((file, body.0));
    inner.dispatch_times.push(std::time::Instant::now());
    if let Some(status) = inner.dispatch_answer {
        return (
            StatusCode::from_u16(status).unwrap(),
            axum::Json(json!({"message": "Bad Gateway"})),
        )
            .into_response();
    }
    if wants_details {
        axum::Json(json!({
            "workflow_run_id": run_id,
            "run_url": format!("https://api.github.com/repos/{OWNER}/{REPO}/actions/runs/{run_id}"),
            "html_url": format!("https://github.com/{OWNER}/{REPO}/actions/runs/{run_id}"),
        }))
        .into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}

pub(super) async fn list_runs(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((_owner, _repo, file)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let inner = inner.lock().unwrap();
    let path = format!(".github/workflows/{file}");
    // GitHub's `created` search syntax: `>=T`, `>T`, `<=T`, `<T`, `A..B`.
    let created = match query.get("created").map(|c| created_range(c)) {
        None => None,
        Some(Some(range)) => Some(range),
        Some(None) => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                axum::Json(json!({"message": "Validation Failed"})),
            )
                .into_response();
        }
    };
    let per_page: usize = match query.get("per_page").map(|p| p.parse::<usize>()) {
        None => 30,
        Some(Ok(n)) => n.clamp(1, 100),
        Some(Err(_)) => 30,
    };
    let page: usize = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    // Newest first, like GitHub.
    let runs: Vec<&Value> = inner
        .runs
        .iter()
        .rev()
        .filter(|r| r["path"] == path.as_str())
        .filter(|r| query.get("event").is_none_or(|e| r["event"] == e.as_str()))
        .filter(|r| {
            query
                .get("status")
                .is_none_or(|s| r["status"] == s.as_str())
        })
        .filter(|r| {
            created.is_none_or(|(from, to)| {
                let at = chrono::DateTime::parse_from_rfc3339(r["created_at"].as_str().unwrap())
                    .unwrap()
                    .timestamp();
                from.is_none_or(|f| at >= f) && to.is_none_or(|t| at <= t)
            })
        })
        .collect();
    let total = runs.len();
    let page: Vec<&Value> = runs
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    axum::Json(json!({"total_count": total, "workflow_runs": page})).into_response()
}

/// A `created` filter as inclusive bounds in Unix seconds (GitHub compares
/// whole seconds).
fn created_range(filter: &str) -> Option<(Option<i64>, Option<i64>)> {
    let at = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|d| d.timestamp())
    };
    if let Some(t) = filter.strip_prefix(">=") {
        Some((Some(at(t)?), None))
    } else if let Some(t) = filter.strip_prefix('>') {
        Some((Some(at(t)? + 1), None))
    } else if let Some(t) = filter.strip_prefix("<=") {
        Some((None, Some(at(t)?)))
    } else if let Some(t) = filter.strip_prefix('<') {
        Some((None, Some(at(t)? - 1)))
    } else {
        let (a, b) = filter.split_once("..")?;
        Some((Some(at(a)?), Some(at(b)?)))
    }
}

pub(super) async fn get_run(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((_owner, _repo, run_id)): Path<(String, String, u64)>,
) -> Response {
    let inner = inner.lock().unwrap();
    match inner.runs.iter().find(|r| r["id"] == run_id) {
        Some(run) => axum::Json(run.clone()).into_response(),
        None => not_found(),
    }
}

pub(super) async fn get_jobs(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((_owner, _repo, run_id)): Path<(String, String, u64)>,
) -> Response {
    let inner = inner.lock().unwrap();
    let jobs = inner.jobs.get(&run_id).cloned().unwrap_or_default();
    axum::Json(json!({"total_count": jobs.len(), "jobs": jobs})).into_response()
}

/// A job's log: as GitHub, a redirect to a short-lived signed address of
/// its log storage; 404 for a job it does not know (or without a log).
pub(super) async fn job_log(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((_owner, _repo, job_id)): Path<(String, String, u64)>,
) -> Response {
    let storage = {
        let inner = inner.lock().unwrap();
        if !inner.job_logs.contains_key(&job_id) {
            return not_found();
        }
        inner.storage.expect("the log storage listens")
    };
    (
        StatusCode::FOUND,
        [(
            "location",
            format!(
                "http://{storage}/job-logs/{job_id}?sig={}",
                signature(job_id)
            ),
        )],
    )
        .into_response()
}

fn signature(job_id: u64) -> String {
    format!("sv-{}", job_id * 7919)
}

/// The log storage: the signature in the address is the credential; a
/// request that also carries an `Authorization` header (GitHub's token
/// sent along) is refused, as the storage does.
pub(super) async fn stored_log(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(job_id): Path<u64>,
    Query(query): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> Response {
    if headers.contains_key("authorization") {
        return (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/xml")],
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>InvalidAuthenticationInfo</Code></Error>",
        )
            .into_response();
    }
    if query.get("sig") != Some(&signature(job_id)) {
        return (
            StatusCode::FORBIDDEN,
            [("content-type", "application/xml")],
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code></Error>",
        )
            .into_response();
    }
    match inner.lock().unwrap().job_logs.get(&job_id) {
        Some(log) => (
            StatusCode::OK,
            [("content-type", "text/plain; charset=utf-8")],
            log.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Compares two tags: one commit per release between them, named after it.
pub(super) async fn compare(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((_owner, _repo, range)): Path<(String, String, String)>,
) -> Response {
    let inner = inner.lock().unwrap();
    let Some((base, head)) = range.split_once("...") else {
        return not_found();
    };
    let tags: Vec<&str> = inner
        .releases
        .iter()
        .map(|r| r["tag_name"].as_str().unwrap())
        .collect();
    let (Some(b), Some(h)) = (
        tags.iter().position(|t| *t == base),
        tags.iter().position(|t| *t == head),
    ) else {
        return not_found();
    };
    let commits: Vec<Value> = tags
        .iter()
        .take(h + 1)
        .skip(b + 1)
        .map(|t| json!({"sha": format!("sha-{t}"), "commit": {"message": format!("Changes for {t}\n\nDetails.")}}))
        .collect();
    let files: Vec<Value> = tags
        .iter()
        .take(h + 1)
        .skip(b + 1)
        .flat_map(|t| inner.added_files.get(*t).cloned().unwrap_or_default())
        .map(|f| json!({"filename": f, "status": "added"}))
        .collect();
    axum::Json(json!({
        "html_url": format!("https://github.com/{OWNER}/{REPO}/compare/{base}...{head}"),
        "total_commits": commits.len(),
        "commits": commits,
        "files": files,
    }))
    .into_response()
}
