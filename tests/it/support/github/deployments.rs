//! The fake's Deployments, as GitHub keeps them: created for a ref it
//! knows (422 otherwise), refused (409) unless the caller turns off the
//! default branch merge and the required status checks, listed newest
//! first with GitHub's filters; statuses from GitHub's set of states only,
//! descriptions up to 140 characters, and `auto_inactive` (default true)
//! marking inactive the earlier non-transient, non-production deployments
//! of the environment whose last status was a success.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{FakeGithub, Inner, OWNER, REPO, not_found, our_repo};

const STATES: [&str; 7] = [
    "error",
    "failure",
    "inactive",
    "in_progress",
    "queued",
    "pending",
    "success",
];

/// One deployment and its statuses, oldest first.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub environment: String,
    pub git_ref: String,
    pub payload: Value,
    pub description: Value,
    pub statuses: Vec<Value>,
}

impl Deployment {
    /// The states of its statuses, oldest first.
    pub fn states(&self) -> Vec<String> {
        self.statuses
            .iter()
            .map(|s| s["state"].as_str().unwrap().to_owned())
            .collect()
    }
}

impl FakeGithub {
    /// The next deployment made (`"deployment"`) or status of each of
    /// these states posted is made, then answered 502, as a proxy that
    /// timed out after GitHub acted would.
    pub fn lose_answers_to(&self, posts: &[&str]) {
        self.inner.lock().unwrap().lost_deployment_answers =
            posts.iter().map(|p| (*p).to_owned()).collect();
    }

    /// The deployments created, oldest first, with their statuses.
    pub fn deployments(&self) -> Vec<Deployment> {
        let inner = self.inner.lock().unwrap();
        inner
            .deployments
            .iter()
            .map(|d| {
                let id = d["id"].as_u64().unwrap();
                Deployment {
                    environment: d["environment"].as_str().unwrap().to_owned(),
                    git_ref: d["ref"].as_str().unwrap().to_owned(),
                    payload: d["payload"].clone(),
                    description: d["description"].clone(),
                    statuses: inner
                        .deployment_statuses
                        .iter()
                        .filter(|(of, _)| *of == id)
                        .map(|(_, s)| s.clone())
                        .collect(),
                }
            })
            .collect()
    }
}

fn invalid(message: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest/deployments/deployments#create-a-deployment"
        })),
    )
        .into_response()
}

/// A body key, how to tell its value is of the right type, and the type's name.
type Check = (&'static str, fn(&Value) -> bool, &'static str);

fn not_a(body: &Value, key: &str, check: fn(&Value) -> bool, kind: &str) -> Option<Response> {
    match body.get(key) {
        Some(v) if !check(v) => Some(invalid(&format!(
            "Invalid request.\n\nFor 'properties/{key}', {v} is not a {kind}."
        ))),
        _ => None,
    }
}

/// The refs GitHub knows in the fake's repository: its branch and the
/// tags of its published releases.
fn known_ref(inner: &Inner, git_ref: &str) -> bool {
    git_ref == "main"
        || inner
            .releases
            .iter()
            .any(|r| r["draft"] == false && r["tag_name"] == git_ref)
}

pub(super) async fn create_deployment(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((owner, repo)): Path<(String, String)>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if !our_repo(&owner, &repo) {
        return not_found();
    }
    let Some(git_ref) = body.get("ref").and_then(Value::as_str) else {
        return invalid("Invalid request.\n\n\"ref\" wasn't supplied.");
    };
    let checks: [Check; 8] = [
        ("environment", Value::is_string, "string"),
        ("description", |v| v.is_string() || v.is_null(), "string"),
        ("task", Value::is_string, "string"),
        ("auto_merge", Value::is_boolean, "boolean"),
        ("transient_environment", Value::is_boolean, "boolean"),
        ("production_environment", Value::is_boolean, "boolean"),
        ("payload", |v| v.is_object() || v.is_string(), "object"),
        (
            "required_contexts",
            |v| v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            "array",
        ),
    ];
    for (key, check, kind) in checks {
        if let Some(refusal) = not_a(&body, key, check, kind) {
            return refusal;
        }
    }
    let mut inner = inner.lock().unwrap();
    if !known_ref(&inner, git_ref) {
        return invalid(&format!("No ref found for: {git_ref}"));
    }
    // GitHub's defaults: merge the default branch into the ref first, and
    // require every status check on it to pass. Neither holds for a tag.
    if body.get("auto_merge") != Some(&json!(false)) {
        return conflict(&format!("Conflict merging main into {git_ref}."));
    }
    if body.get("required_contexts").is_none() {
        return conflict(&format!(
            "Conflict: Commit status checks failed for {git_ref}."
        ));
    }
    let environment = body["environment"]
        .as_str()
        .unwrap_or("production")
        .to_owned();
    let id = 700 + inner.deployments.len() as u64 + 1;
    let now = chrono::Utc::now().to_rfc3339();
    let deployment = json!({
        "url": format!("https://api.github.com/repos/{OWNER}/{REPO}/deployments/{id}"),
        "id": id,
        "node_id": format!("DE_{id}"),
        "sha": format!("sha-{git_ref}"),
        "ref": git_ref,
        "task": body.get("task").cloned().unwrap_or(json!("deploy")),
        "payload": body.get("payload").cloned().unwrap_or(json!({})),
        "original_environment": environment,
        "environment": environment,
        "description": body.get("description").cloned().unwrap_or(Value::Null),
        "creator": creator(),
        "created_at": now,
        "updated_at": now,
        "statuses_url": format!("https://api.github.com/repos/{OWNER}/{REPO}/deployments/{id}/statuses"),
        "repository_url": format!("https://api.github.com/repos/{OWNER}/{REPO}"),
        "transient_environment": body.get("transient_environment").cloned().unwrap_or(json!(false)),
        "production_environment": body.get("production_environment").cloned()
            .unwrap_or(json!(environment == "production")),
    });
    inner.deployments.push(deployment.clone());
    answer(&mut inner, "deployment", deployment)
}

/// The token's user, as GitHub shows who made a deployment or status.
fn creator() -> Value {
    let api = "https://api.github.com/users/aletheia-bot";
    json!({
        "login": "aletheia-bot", "id": 1, "node_id": "U_1",
        "avatar_url": "https://avatars.githubusercontent.com/u/1?v=4", "gravatar_id": "",
        "url": api, "html_url": "https://github.com/aletheia-bot",
        "followers_url": format!("{api}/followers"),
        "following_url": format!("{api}/following{{/other_user}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/subscriptions"),
        "organizations_url": format!("{api}/orgs"),
        "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events{{/privacy}}"),
        "received_events_url": format!("{api}/received_events"),
        "type": "User", "site_admin": false,
    })
}

/// 201 with what was made, unless its answer is to be lost.
fn answer(inner: &mut Inner, what: &str, made: Value) -> Response {
    if let Some(i) = inner.lost_deployment_answers.iter().position(|p| p == what) {
        inner.lost_deployment_answers.remove(i);
        return (
            StatusCode::BAD_GATEWAY,
            axum::Json(json!({"message": "Bad Gateway"})),
        )
            .into_response();
    }
    (StatusCode::CREATED, axum::Json(made)).into_response()
}

fn conflict(message: &str) -> Response {
    (
        StatusCode::CONFLICT,
        axum::Json(
            json!({"message": message, "documentation_url": "https://docs.github.com/rest"}),
        ),
    )
        .into_response()
}

/// A page of a list newest first, as GitHub's `per_page` and `page` say.
fn page_of(all: Vec<Value>, query: &HashMap<String, String>) -> Vec<Value> {
    let per_page: usize = query
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30usize)
        .clamp(1, 100);
    let page: usize = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    all.into_iter()
        .rev()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect()
}

pub(super) async fn list_deployments(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((owner, repo)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !our_repo(&owner, &repo) {
        return not_found();
    }
    let inner = inner.lock().unwrap();
    let matching: Vec<Value> = inner
        .deployments
        .iter()
        .filter(|d| {
            ["sha", "ref", "task", "environment"]
                .iter()
                .all(|k| query.get(*k).is_none_or(|want| d[*k] == want.as_str()))
        })
        .cloned()
        .collect();
    axum::Json(page_of(matching, &query)).into_response()
}

pub(super) async fn create_status(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut inner = inner.lock().unwrap();
    let Some(deployment) = inner.deployments.iter().find(|d| d["id"] == id).cloned() else {
        return not_found();
    };
    if !our_repo(&owner, &repo) {
        return not_found();
    }
    let Some(state) = body.get("state").and_then(Value::as_str) else {
        return invalid("Invalid request.\n\n\"state\" wasn't supplied.");
    };
    if !STATES.contains(&state) {
        return invalid(&format!(
            "Invalid request.\n\nFor 'properties/state', \"{state}\" is not one of {STATES:?}."
        ));
    }
    for key in [
        "log_url",
        "environment_url",
        "description",
        "target_url",
        "environment",
    ] {
        if let Some(refusal) = not_a(&body, key, Value::is_string, "string") {
            return refusal;
        }
    }
    if let Some(refusal) = not_a(&body, "auto_inactive", Value::is_boolean, "boolean") {
        return refusal;
    }
    if body["description"]
        .as_str()
        .is_some_and(|d| d.chars().count() > 140)
    {
        return invalid("Validation Failed: description is too long (maximum is 140 characters)");
    }
    let status = push_status(&mut inner, &deployment, state, &body);
    if state == "success" && body.get("auto_inactive") != Some(&json!(false)) {
        auto_inactivate(&mut inner, &deployment);
    }
    answer(&mut inner, state, status)
}

fn push_status(inner: &mut Inner, deployment: &Value, state: &str, body: &Value) -> Value {
    let id = 800 + inner.deployment_statuses.len() as u64 + 1;
    let of = deployment["id"].as_u64().unwrap();
    let now = chrono::Utc::now().to_rfc3339();
    let log_url = body.get("log_url").or(body.get("target_url")).cloned();
    let status = json!({
        "url": format!("https://api.github.com/repos/{OWNER}/{REPO}/deployments/{of}/statuses/{id}"),
        "id": id,
        "node_id": format!("DES_{id}"),
        "state": state,
        "creator": creator(),
        "description": body.get("description").cloned().unwrap_or(json!("")),
        "environment": body.get("environment").cloned().unwrap_or(deployment["environment"].clone()),
        "target_url": log_url.clone().unwrap_or(json!("")),
        "log_url": log_url.unwrap_or(json!("")),
        "environment_url": body.get("environment_url").cloned().unwrap_or(json!("")),
        "created_at": now,
        "updated_at": now,
        "deployment_url": deployment["url"],
        "repository_url": format!("https://api.github.com/repos/{OWNER}/{REPO}"),
    });
    inner.deployment_statuses.push((of, status.clone()));
    status
}

/// GitHub's `auto_inactive`: the earlier deployments of the environment,
/// non-transient and non-production, whose last status was a success,
/// get an inactive status.
fn auto_inactivate(inner: &mut Inner, deployment: &Value) {
    let id = deployment["id"].as_u64().unwrap();
    let earlier: Vec<Value> = inner
        .deployments
        .iter()
        .filter(|d| d["id"].as_u64().unwrap() < id)
        .filter(|d| d["environment"] == deployment["environment"])
        .filter(|d| d["transient_environment"] != true && d["production_environment"] != true)
        .filter(|d| {
            inner
                .deployment_statuses
                .iter()
                .rev()
                .find(|(of, _)| Some(*of) == d["id"].as_u64())
                .is_some_and(|(_, s)| s["state"] == "success")
        })
        .cloned()
        .collect();
    for d in earlier {
        push_status(inner, &d, "inactive", &json!({}));
    }
}

pub(super) async fn list_statuses(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let inner = inner.lock().unwrap();
    if !our_repo(&owner, &repo) || !inner.deployments.iter().any(|d| d["id"] == id) {
        return not_found();
    }
    let statuses: Vec<Value> = inner
        .deployment_statuses
        .iter()
        .filter(|(of, _)| *of == id)
        .map(|(_, s)| s.clone())
        .collect();
    axum::Json(page_of(statuses, &query)).into_response()
}
