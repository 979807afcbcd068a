//! GitHub App authentication against a fake of GitHub's App endpoints:
//! the bot signs its JWT (RS256, RustCrypto since the one-TLS-stack
//! change), finds the installation on the repository, trades the JWT for
//! an installation token and calls the API with that token only.
//!
//! The key pair in `fixtures/` was made for this test alone
//! (`openssl genrsa -traditional 2048`); it grants nothing anywhere.

use std::sync::{Arc, Mutex};

use aletheia_bot::adapters::github::{GitHub, GithubError};
use aletheia_bot::config::Config;
use aletheia_bot::config::{GithubAuth, Secret};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde_json::{Value, json};

const APP_ID: u64 = 12345;
const KEY: &str = include_str!("fixtures/github_app_test_key.pem");
const PUBLIC_KEY: &str = include_str!("fixtures/github_app_test_key.pub.pem");
const INSTALLATION_TOKEN: &str = "ghs_installation_token_for_the_test";

#[derive(Default)]
struct Seen {
    /// `(route, what authorised it)`, in order.
    calls: Vec<(String, String)>,
}

type Shared = Arc<Mutex<Seen>>;

/// What the `Authorization` header proves: `jwt` for a JWT signed by the
/// App's key for this App (checked as GitHub does), `installation` for
/// the installation token, `refused: …` otherwise.
fn authorised(headers: &HeaderMap) -> String {
    let Some(bearer) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return "refused: no bearer".into();
    };
    if bearer == INSTALLATION_TOKEN {
        return "installation".into();
    }
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    // GitHub takes the App id as a number in `iss`; the spec check wants
    // a string, so `iss` is compared below.
    validation.set_required_spec_claims(&["exp", "iat"]);
    validation.validate_aud = false;
    match jsonwebtoken::decode::<Value>(bearer, &key, &validation) {
        Ok(token) if token.claims["iss"] == json!(APP_ID) => "jwt".into(),
        Ok(token) => format!("refused: iss {}", token.claims["iss"]),
        Err(e) => format!("refused: {e}"),
    }
}

type Answer = (StatusCode, Json<Value>);

/// Notes the call and what authorised it; 401 unless it was `wanted`.
fn admit(seen: &Shared, route: String, headers: &HeaderMap, wanted: &str) -> Result<(), Answer> {
    let auth = authorised(headers);
    let ok = auth == wanted;
    seen.lock().unwrap().calls.push((route, auth));
    if ok {
        Ok(())
    } else {
        let refusal = Json(json!({"message": "Bad credentials"}));
        Err((StatusCode::UNAUTHORIZED, refusal))
    }
}

async fn installation(
    State(seen): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let route = format!("installation of {owner}/{repo}");
    if let Err(refused) = admit(&seen, route, &headers, "jwt") {
        return refused;
    }
    (StatusCode::OK, Json(json!({"id": 77, "app_id": APP_ID})))
}

async fn access_token(
    State(seen): State<Shared>,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> Answer {
    let route = format!("token for installation {id}");
    if let Err(refused) = admit(&seen, route, &headers, "jwt") {
        return refused;
    }
    if id != 77 {
        return (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found"})));
    }
    let body = json!({
        "token": INSTALLATION_TOKEN,
        "expires_at": "2099-01-01T00:00:00Z",
        "permissions": {"actions": "write", "contents": "read"},
        "repository_selection": "selected",
    });
    (StatusCode::CREATED, Json(body))
}

async fn releases(State(seen): State<Shared>, headers: HeaderMap) -> Answer {
    if let Err(refused) = admit(&seen, "releases".into(), &headers, "installation") {
        return refused;
    }
    let body = json!([{
        "id": 1, "tag_name": "v1.3.0", "name": "1.3.0",
        "html_url": "https://github.com/mindburn-labs/aletheia/releases/tag/v1.3.0",
        "published_at": "2026-11-20T10:00:00Z", "draft": false, "prerelease": false,
    }]);
    (StatusCode::OK, Json(body))
}

/// The fake's address and what it saw.
async fn fake_github() -> (String, Shared) {
    let seen = Shared::default();
    let app = axum::Router::new()
        .route("/repos/{owner}/{repo}/installation", get(installation))
        .route("/app/installations/{id}/access_tokens", post(access_token))
        .route("/repos/{owner}/{repo}/releases", get(releases))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

fn github_config(api_url: &str) -> aletheia_bot::config::GithubConfig {
    let mut config = Config::load(std::path::Path::new("bot.toml"))
        .unwrap()
        .github;
    config.api_url = api_url.parse().unwrap();
    config
}

#[tokio::test]
async fn a_github_app_signs_in_with_its_key_and_then_uses_the_installation_token() {
    let (url, seen) = fake_github().await;
    let auth = GithubAuth::App {
        app_id: APP_ID,
        private_key: Secret::new(KEY.to_owned()),
    };
    let github = GitHub::connect(&github_config(&url), &auth)
        .await
        .unwrap_or_else(|e| panic!("{e}: {:?}", seen.lock().unwrap().calls));
    let release = github.highest_release().await.unwrap().unwrap();
    assert_eq!(release.tag_name, "v1.3.0");
    let calls = seen.lock().unwrap().calls.clone();
    assert_eq!(
        calls,
        [
            (
                "installation of mindburn-labs/aletheia".into(),
                "jwt".into()
            ),
            ("token for installation 77".into(), "jwt".into()),
            ("releases".into(), "installation".into()),
        ]
    );
}

#[tokio::test]
async fn a_github_app_key_that_is_not_an_rsa_key_is_a_clear_error() {
    let (url, seen) = fake_github().await;
    for key in ["", "not a key", PUBLIC_KEY] {
        let auth = GithubAuth::App {
            app_id: APP_ID,
            private_key: Secret::new(key.to_owned()),
        };
        match GitHub::connect(&github_config(&url), &auth).await {
            Err(GithubError::Setup(why)) => {
                assert_eq!(why, "GITHUB_APP_PRIVATE_KEY is not an RSA PEM key")
            }
            Err(other) => panic!("{key:?}: {other}"),
            Ok(_) => panic!("{key:?} was taken for a key"),
        }
    }
    assert!(seen.lock().unwrap().calls.is_empty());
}
