//! The fake's environment gates, as GitHub keeps them: a run held by
//! environments' required reviewers has status `waiting` and lists them
//! (`GET …/actions/runs/{id}/pending_deployments`); a review (`POST` to
//! the same path) needs `environment_ids`, `state` and `comment`, is 422
//! for an environment the run does not wait on or the token's user may
//! not review, and moves the run: on once every environment is approved,
//! to a failure at the first rejection.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{FakeGithub, Inner, OWNER, REPO, not_found, our_repo};

fn unprocessable(message: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest/actions/workflow-runs#review-pending-deployments-for-a-workflow-run"
        })),
    )
        .into_response()
}

impl FakeGithub {
    /// The run waits for the review of these GitHub environments: (id,
    /// name, whether the bot's token is one of their reviewers). Returns
    /// the run as GitHub shows it now.
    pub fn hold_at_gates(&self, run_id: u64, gates: &[(u64, &str, bool)]) -> Value {
        let pending = gates
            .iter()
            .map(|(id, name, can)| {
                json!({
                    "environment": {
                        "id": id, "node_id": format!("EN_{id}"), "name": name,
                        "url": format!("https://api.github.com/repos/{OWNER}/{REPO}/environments/{name}"),
                        "html_url": format!("https://github.com/{OWNER}/{REPO}/deployments/activity_log?environments_filter={name}"),
                    },
                    "wait_timer": 0,
                    "wait_timer_started_at": null,
                    "current_user_can_approve": can,
                    "reviewers": [{"type": "User", "reviewer": {"login": "aletheia-bot", "id": 1}}],
                })
            })
            .collect();
        self.inner.lock().unwrap().pending.insert(run_id, pending);
        self.set_run(run_id, "waiting", None)
    }

    /// The reviews posted: (run id, body), oldest first.
    pub fn reviews(&self) -> Vec<(u64, Value)> {
        self.inner.lock().unwrap().reviews.clone()
    }
}

pub(super) async fn list_pending(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((owner, repo, run_id)): Path<(String, String, u64)>,
) -> Response {
    let inner = inner.lock().unwrap();
    if !our_repo(&owner, &repo) || !inner.runs.iter().any(|r| r["id"] == run_id) {
        return not_found();
    }
    let pending = inner.pending.get(&run_id).cloned().unwrap_or_default();
    axum::Json(Value::Array(pending)).into_response()
}

pub(super) async fn review_pending(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((owner, repo, run_id)): Path<(String, String, u64)>,
    body: axum::body::Bytes,
) -> Response {
    let mut inner = inner.lock().unwrap();
    if !our_repo(&owner, &repo) || !inner.runs.iter().any(|r| r["id"] == run_id) {
        return not_found();
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"message": "Problems parsing JSON"})),
        )
            .into_response();
    };
    let ids: Option<Vec<u64>> = body["environment_ids"]
        .as_array()
        .and_then(|ids| ids.iter().map(Value::as_u64).collect());
    let Some(ids) = ids.filter(|ids| !ids.is_empty()) else {
        return unprocessable("Invalid request.\n\n\"environment_ids\" wasn't supplied.");
    };
    let approved = match body["state"].as_str() {
        Some("approved") => true,
        Some("rejected") => false,
        _ => return unprocessable("Invalid request.\n\n\"state\" wasn't supplied."),
    };
    if !body["comment"].is_string() {
        return unprocessable("Invalid request.\n\n\"comment\" wasn't supplied.");
    }
    let pending = inner.pending.get(&run_id).cloned().unwrap_or_default();
    let mut reviewed = Vec::new();
    for id in &ids {
        match pending.iter().find(|p| p["environment"]["id"] == *id) {
            Some(p) if p["current_user_can_approve"] == true => reviewed.push(p.clone()),
            Some(_) => {
                return unprocessable("The user is not a required reviewer of this environment.");
            }
            None => return unprocessable("No pending deployment requests to approve or reject"),
        }
    }
    inner.reviews.push((run_id, body.clone()));
    let left: Vec<Value> = pending
        .into_iter()
        .filter(|p| !ids.iter().any(|id| p["environment"]["id"] == *id))
        .collect();
    let status = if !approved {
        inner.pending.remove(&run_id);
        Some(("completed", Some("failure")))
    } else if left.is_empty() {
        inner.pending.remove(&run_id);
        Some(("in_progress", None))
    } else {
        inner.pending.insert(run_id, left);
        None
    };
    if let Some((status, conclusion)) = status {
        let run = inner
            .runs
            .iter_mut()
            .find(|r| r["id"] == run_id)
            .expect("found above");
        run["status"] = json!(status);
        run["conclusion"] = json!(conclusion);
        run["updated_at"] = json!(chrono::Utc::now().to_rfc3339());
    }
    let deployments: Vec<Value> = reviewed
        .iter()
        .enumerate()
        .map(|(i, p)| {
            json!({
                "id": run_id * 10 + i as u64,
                "environment": p["environment"]["name"],
                "task": "deploy",
                "ref": "main",
                "creator": {"login": "aletheia-bot"},
            })
        })
        .collect();
    axum::Json(Value::Array(deployments)).into_response()
}
