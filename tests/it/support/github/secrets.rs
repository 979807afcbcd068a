//! The fake GitHub's Actions secrets: the repository's and its
//! environments', listed as GitHub does (names and dates, never a value),
//! paginated (`per_page` at most 100, default 30), 404 for an environment
//! the repository lacks, 403 when the token lacks the permission.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::routes::{not_found, our_repo};
use super::{FakeGithub, Inner};

impl FakeGithub {
    /// A repository secret last updated `days_ago` days ago.
    pub fn add_repo_secret(&self, name: &str, days_ago: i64) {
        self.inner
            .lock()
            .unwrap()
            .repo_secrets
            .push(secret(name, days_ago));
    }

    /// A secret of GitHub environment `env` (which then exists).
    pub fn add_env_secret(&self, env: &str, name: &str, days_ago: i64) {
        self.inner
            .lock()
            .unwrap()
            .env_secrets
            .entry(env.to_owned())
            .or_default()
            .push(secret(name, days_ago));
    }

    /// The token lacks "Secrets" and "Environments": listings answer 403.
    pub fn forbid_secrets(&self) {
        self.inner.lock().unwrap().secrets_forbidden = true;
    }

    /// The permissions are granted again.
    pub fn allow_secrets(&self) {
        self.inner.lock().unwrap().secrets_forbidden = false;
    }
}

fn secret(name: &str, days_ago: i64) -> Value {
    let updated =
        chrono::Utc::now() - chrono::Duration::days(days_ago) - chrono::Duration::hours(1);
    let created = updated - chrono::Duration::days(365);
    let at =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({"name": name, "created_at": at(created), "updated_at": at(updated)})
}

/// One page as GitHub gives it: `per_page` 30 unless asked, 100 at most.
fn page(all: &[Value], query: &HashMap<String, String>) -> Response {
    let number = |key: &str, default: usize| {
        query
            .get(key)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(default)
    };
    let (per_page, page) = (number("per_page", 30).clamp(1, 100), number("page", 1));
    let from = page.max(1).saturating_sub(1).saturating_mul(per_page);
    let items: Vec<Value> = all.iter().skip(from).take(per_page).cloned().collect();
    axum::Json(json!({"total_count": all.len(), "secrets": items})).into_response()
}

fn forbidden(permission: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        [(
            "x-accepted-github-permissions",
            format!("{permission}=read"),
        )],
        axum::Json(json!({
            "message": "Resource not accessible by personal access token",
            "documentation_url": "https://docs.github.com/rest/actions/secrets",
            "status": "403"
        })),
    )
        .into_response()
}

/// A listing of our repository's secrets, or GitHub's refusal: 404 for
/// another repository or an environment it lacks, 403 without the
/// `permission`. `of` picks the secrets (`None`: no such environment).
fn listing(
    inner: &Mutex<Inner>,
    (owner, repo): (&str, &str),
    permission: &str,
    query: &HashMap<String, String>,
    of: impl FnOnce(&Inner) -> Option<&Vec<Value>>,
) -> Response {
    if !our_repo(owner, repo) {
        return not_found();
    }
    let inner = inner.lock().unwrap();
    if inner.secrets_forbidden {
        return forbidden(permission);
    }
    match of(&inner) {
        Some(secrets) => page(secrets, query),
        None => not_found(),
    }
}

pub(super) async fn repo_secrets(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((owner, repo)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    listing(&inner, (&owner, &repo), "secrets", &query, |i| {
        Some(&i.repo_secrets)
    })
}

pub(super) async fn env_secrets(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((owner, repo, env)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    listing(&inner, (&owner, &repo), "environments", &query, |i| {
        i.env_secrets.get(&env)
    })
}
