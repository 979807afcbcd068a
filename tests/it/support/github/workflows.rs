//! The fake GitHub's list of the repository's workflows, as GitHub gives
//! it: `{total_count, workflows: [{id, node_id, name, path, state, …}]}`,
//! by id, paginated (`per_page` at most 100, default 30).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::routes::{not_found, our_repo};
use super::{FakeGithub, Inner};

impl FakeGithub {
    /// Adds a workflow of the repository (`file` under `.github/workflows/`).
    pub fn add_workflow(&self, file: &str, name: &str) {
        let mut inner = self.inner.lock().unwrap();
        let id = inner
            .workflows
            .values()
            .filter_map(|w| w["id"].as_u64())
            .max()
            .unwrap_or(0)
            + 1;
        inner.workflows.insert(
            file.to_owned(),
            json!({"id": id, "name": name, "path": format!(".github/workflows/{file}"), "state": "active"}),
        );
    }
}

pub(super) async fn list_workflows(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((owner, repo)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !our_repo(&owner, &repo) {
        return not_found();
    }
    let inner = inner.lock().unwrap();
    let mut all: Vec<Value> = inner.workflows.values().cloned().collect();
    all.sort_by_key(|w| w["id"].as_u64());
    let number = |key: &str, default: usize| {
        query
            .get(key)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(default)
    };
    let (per_page, page) = (number("per_page", 30).clamp(1, 100), number("page", 1));
    let from = page.max(1).saturating_sub(1).saturating_mul(per_page);
    let items: Vec<Value> = all
        .iter()
        .skip(from)
        .take(per_page)
        .map(|w| {
            let mut w = w.clone();
            let id = w["id"].as_u64().unwrap_or_default();
            let path = w["path"].as_str().unwrap_or_default().to_owned();
            w["node_id"] = json!(format!("W_kwDOA{id:08}"));
            w["created_at"] = json!("2026-01-05T10:00:00.000Z");
            w["updated_at"] = json!("2026-01-05T10:00:00.000Z");
            w["url"] = json!(format!(
                "https://api.github.com/repos/{owner}/{repo}/actions/workflows/{id}"
            ));
            w["html_url"] = json!(format!(
                "https://github.com/{owner}/{repo}/blob/main/{path}"
            ));
            w["badge_url"] = json!(format!(
                "https://github.com/{owner}/{repo}/workflows/{}/badge.svg",
                w["name"].as_str().unwrap_or_default()
            ));
            w
        })
        .collect();
    axum::Json(json!({"total_count": all.len(), "workflows": items})).into_response()
}
