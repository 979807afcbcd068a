//! The fake's releases, as GitHub keeps them: listed newest first by
//! creation, a page at a time; "latest" by creation date unless one is
//! marked; drafts and pre-releases never the latest.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{FakeGithub, Inner, OWNER, REPO, not_found, our_repo};

impl FakeGithub {
    /// Publishes a release (newest last). GitHub makes a newly published
    /// release the "latest" (`make_latest` defaults to true).
    pub fn add_release(&self, tag: &str) {
        let mut inner = self.inner.lock().unwrap();
        push_release(&mut inner, tag, false, false);
        inner.latest_pin = None;
    }

    /// A draft release: listed to a token that may see drafts, never the
    /// "latest", not found by its tag.
    pub fn add_draft_release(&self, tag: &str) {
        push_release(&mut self.inner.lock().unwrap(), tag, true, false);
    }

    /// A release marked as a pre-release: never GitHub's "latest".
    pub fn add_prerelease(&self, tag: &str) {
        push_release(&mut self.inner.lock().unwrap(), tag, false, true);
    }

    /// What `generate-notes` answers for any tag from now on: its markdown
    /// body (the fake otherwise writes GitHub's usual short one).
    pub fn set_release_notes(&self, body: &str) {
        self.inner.lock().unwrap().notes_body = Some(body.to_owned());
    }

    /// The bodies `generate-notes` was posted, in order.
    pub fn notes_requests(&self) -> Vec<Value> {
        self.inner.lock().unwrap().notes_requests.clone()
    }

    /// Marks a release as the repository's "latest" (`make_latest: true`
    /// on an update, as someone may do by hand in the UI); GitHub refuses
    /// it for drafts and pre-releases.
    pub fn make_latest(&self, tag: &str) {
        let mut inner = self.inner.lock().unwrap();
        let release = inner
            .releases
            .iter()
            .find(|r| r["tag_name"] == tag)
            .expect("a release the fake has");
        assert!(
            release["draft"] == false && release["prerelease"] == false,
            "GitHub answers 422: drafts and pre-releases cannot be the latest"
        );
        inner.latest_pin = release["id"].as_u64();
    }
}

/// A new release, created now (after every other).
fn push_release(inner: &mut Inner, tag: &str, draft: bool, prerelease: bool) {
    let id = inner.releases.len() as u64 + 1;
    // Creation times strictly rise, as they do for releases made one
    // after another.
    let now = chrono::Utc::now();
    let created = inner
        .releases
        .last()
        .and_then(|r| r["created_at"].as_str())
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc) + chrono::TimeDelta::milliseconds(1))
        .map_or(now, |after| after.max(now));
    inner.releases.push(json!({
        "id": id,
        "tag_name": tag,
        "name": tag,
        "html_url": format!("https://github.com/{OWNER}/{REPO}/releases/tag/{tag}"),
        "draft": draft,
        "prerelease": prerelease,
        "created_at": created.to_rfc3339(),
        "published_at": if draft { Value::Null } else { json!(created.to_rfc3339()) },
    }));
}

/// GitHub's "latest": the release marked `make_latest`, else the most
/// recently created one that is neither a draft nor a pre-release.
pub(super) async fn latest_release(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((owner, repo)): Path<(String, String)>,
) -> Response {
    let inner = inner.lock().unwrap();
    let published = |r: &&Value| r["draft"] == false && r["prerelease"] == false;
    let pinned = inner
        .latest_pin
        .and_then(|id| inner.releases.iter().find(|r| r["id"] == id))
        .filter(published);
    match pinned.or_else(|| inner.releases.iter().rev().find(published)) {
        Some(r) if our_repo(&owner, &repo) => axum::Json(r.clone()).into_response(),
        _ => not_found(),
    }
}

/// Newest first by creation, `per_page` (30, at most 100) a page, `page`
/// from 1, with GitHub's `Link` header when there is more than one page.
pub(super) async fn list_releases(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((owner, repo)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> Response {
    if !our_repo(&owner, &repo) {
        return not_found();
    }
    let number = |key: &str, default: usize| {
        query
            .get(key)
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(default)
    };
    let per_page = number("per_page", 30).min(100);
    let page = number("page", 1);
    let inner = inner.lock().unwrap();
    let total = inner.releases.len();
    let newest_first: Vec<Value> = inner
        .releases
        .iter()
        .rev()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect();
    let last = total.div_ceil(per_page).max(1);
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let at = |n: usize| {
        format!("<http://{host}/repos/{owner}/{repo}/releases?per_page={per_page}&page={n}>")
    };
    let mut links = Vec::new();
    if page < last {
        links.push(format!("{}; rel=\"next\"", at(page + 1)));
        links.push(format!("{}; rel=\"last\"", at(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", at(1)));
        links.push(format!("{}; rel=\"prev\"", at(page - 1)));
    }
    let mut response = axum::Json(newest_first).into_response();
    if !links.is_empty() {
        response
            .headers_mut()
            .insert("link", links.join(", ").parse().unwrap());
    }
    response
}

pub(super) async fn release_by_tag(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((owner, repo, tag)): Path<(String, String, String)>,
) -> Response {
    let inner = inner.lock().unwrap();
    // Only a published release is found by its tag.
    match inner
        .releases
        .iter()
        .find(|r| r["tag_name"] == tag.as_str() && r["draft"] == false)
    {
        Some(r) if our_repo(&owner, &repo) => axum::Json(r.clone()).into_response(),
        _ => not_found(),
    }
}

/// `POST /releases/generate-notes`: as GitHub, `tag_name` is required (a
/// string), `target_commitish` and `previous_tag_name` are strings when
/// given (422 otherwise), and a `previous_tag_name` that names no tag of
/// the repository is 404. Nothing is created; `{name, body}` comes back.
pub(super) async fn generate_notes(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((owner, repo)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    if !our_repo(&owner, &repo) {
        return not_found();
    }
    let invalid = |message: &str| {
        (
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"message": message, "documentation_url": "https://docs.github.com/rest/releases/releases#generate-release-notes-content-for-a-release"})),
        )
            .into_response()
    };
    let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(&body) else {
        return invalid("Problems parsing JSON");
    };
    let Some(tag) = request.get("tag_name").and_then(Value::as_str) else {
        return invalid("Invalid request.\n\n\"tag_name\" wasn't supplied.");
    };
    for key in [
        "target_commitish",
        "previous_tag_name",
        "configuration_file_path",
    ] {
        if request.get(key).is_some_and(|v| !v.is_string()) {
            return invalid(&format!(
                "Invalid request.\n\nFor '{key}', is not a string."
            ));
        }
    }
    if tag.is_empty() {
        return invalid("Validation Failed");
    }
    let mut inner = inner.lock().unwrap();
    inner.notes_requests.push(Value::Object(request.clone()));
    let previous = request.get("previous_tag_name").and_then(Value::as_str);
    if let Some(previous) = previous
        && !inner.releases.iter().any(|r| r["tag_name"] == previous)
    {
        return not_found();
    }
    let body = inner.notes_body.clone().unwrap_or_else(|| {
        let range = previous.map_or(tag.to_owned(), |p| format!("{p}...{tag}"));
        format!(
            "<!-- Release notes generated using configuration in .github/release.yml at main -->\n\n\
             **Full Changelog**: https://github.com/{OWNER}/{REPO}/compare/{range}"
        )
    });
    axum::Json(json!({"name": tag, "body": body})).into_response()
}
