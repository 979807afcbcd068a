//! The HTTP server: `POST /github/webhook` (HMAC-SHA256 verified, delivery
//! ids de-duplicated), `GET /livez`, `GET /readyz` (and `/healthz`, its old
//! name), `GET /metrics`.

mod body;
mod serve;
mod signature;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::service::{App, WebhookOutcome, WebhookRequest};

pub use serve::serve;
pub use signature::verify;

/// The most a request body may carry. GitHub allows webhook payloads of up
/// to 25 MB, but the events the bot takes (workflow runs and jobs, releases)
/// weigh tens of kilobytes; a larger one is refused (413) unkept (what is
/// left of it is thrown away for a moment first: `body::linger`).
pub const MAX_BODY: usize = 1024 * 1024;

/// Telegram's webhook (webhook mode): teloxide's receiver of updates,
/// behind a constant-time check of the secret token Telegram sends with
/// each. A request without it gets 401 and reaches nothing.
pub fn telegram_router(receiver: Router, secret: crate::config::Secret) -> Router {
    use subtle::ConstantTimeEq;
    let secret = Arc::new(secret);
    receiver
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let secret = secret.clone();
                async move {
                    let given = request
                        .headers()
                        .get("x-telegram-bot-api-secret-token")
                        .map(|v| v.as_bytes())
                        .unwrap_or_default();
                    if bool::from(given.ct_eq(secret.expose().as_bytes())) {
                        next.run(request).await
                    } else {
                        tracing::warn!("telegram webhook: wrong or missing secret token; refused");
                        StatusCode::UNAUTHORIZED.into_response()
                    }
                }
            },
        ))
        .layer(axum::middleware::from_fn(in_request_span))
}

/// The router, with the app as state.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/healthz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/github/webhook", post(webhook))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(in_request_span))
        .with_state(app)
}

/// Handles a request inside a span naming it, so that every log line
/// written meanwhile carries its `request_id`: GitHub's delivery id, else
/// the caller's `X-Request-Id`, else one made up here.
async fn in_request_span(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use tracing::Instrument;
    let span = tracing::info_span!(
        "http_request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id(request.headers()),
    );
    next.run(request).instrument(span).await
}

fn request_id(headers: &HeaderMap) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 100)
            .map(str::to_owned)
    };
    header("x-github-delivery")
        .or_else(|| header("x-request-id"))
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The process answers: nothing else is asked (a liveness probe that
/// waited on the database would restart a bot whose database is down).
async fn livez() -> &'static str {
    "ok\n"
}

/// The database answers. One probe at a time holds a database connection,
/// however many clients ask.
async fn readyz(State(app): State<Arc<App>>) -> Response {
    static ONE_AT_A_TIME: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
    let _turn = ONE_AT_A_TIME.acquire().await;
    match app.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readyz: store unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "store unreachable\n").into_response()
        }
    }
}

/// The registry as it is in memory (the outbox gauges are refreshed by
/// delivery); with `METRICS_TOKEN` set, only for `Authorization: Bearer`
/// with it.
async fn metrics(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    use subtle::ConstantTimeEq;
    if let Some(token) = &app.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
            .unwrap_or_default();
        if !bool::from(given.ct_eq(token.expose().as_bytes())) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "metrics need the bearer token\n",
            )
                .into_response();
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.render(),
    )
        .into_response()
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn webhook(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Response {
    let claimed = header_str(&headers, "x-github-event").unwrap_or("");
    // Until the signature holds, the event's name is anyone's word: it is
    // counted as `other`, so made-up names cannot add series to /metrics.
    let reject = |label: &'static str, status: StatusCode, why: &'static str| {
        app.metrics.webhook(label, "rejected");
        tracing::warn!(event = %claimed.chars().take(64).collect::<String>(), why, "webhook rejected");
        (status, why).into_response()
    };
    let Some(signature) = header_str(&headers, "x-hub-signature-256") else {
        return reject(
            "other",
            StatusCode::UNAUTHORIZED,
            "missing X-Hub-Signature-256\n",
        );
    };
    let Some(mut verifier) =
        signature::Verifier::new(app.webhook_secret.expose().as_bytes(), signature)
    else {
        return reject("other", StatusCode::UNAUTHORIZED, "bad signature\n");
    };
    let body =
        match body::read_capped(&headers, body, MAX_BODY, |piece| verifier.update(piece)).await {
            Ok(body) => body,
            Err(body::BodyError::TooLarge) => {
                return reject("other", StatusCode::PAYLOAD_TOO_LARGE, "body over 1 MiB\n");
            }
            Err(body::BodyError::Unreadable) => {
                return reject("other", StatusCode::BAD_REQUEST, "body unreadable\n");
            }
        };
    if !verifier.holds() {
        return reject("other", StatusCode::UNAUTHORIZED, "bad signature\n");
    }
    let label = crate::metrics::webhook_event_label(claimed);
    let event = claimed.to_owned();
    let Some(delivery_id) = header_str(&headers, "x-github-delivery").filter(|d| valid_id(d))
    else {
        return reject(
            label,
            StatusCode::BAD_REQUEST,
            "missing or malformed X-GitHub-Delivery\n",
        );
    };
    if event.is_empty() || !valid_id(&event) {
        return reject(
            label,
            StatusCode::BAD_REQUEST,
            "missing or malformed X-GitHub-Event\n",
        );
    }
    let Ok(body) = String::from_utf8(body) else {
        return reject(label, StatusCode::BAD_REQUEST, "body is not UTF-8\n");
    };
    let request = WebhookRequest {
        delivery_id: delivery_id.to_owned(),
        event: event.clone(),
        body,
    };
    match app.current().accept_webhook(request).await {
        Ok(WebhookOutcome::Accepted) => {
            app.metrics.webhook(label, "accepted");
            (StatusCode::ACCEPTED, "accepted\n").into_response()
        }
        Ok(WebhookOutcome::Ignored) => {
            app.metrics.webhook(label, "ignored");
            (
                StatusCode::ACCEPTED,
                "accepted; not this bot's repository, ignored\n",
            )
                .into_response()
        }
        Ok(WebhookOutcome::Duplicate) => {
            app.metrics.webhook(label, "duplicate");
            (StatusCode::OK, "duplicate delivery, ignored\n").into_response()
        }
        Ok(WebhookOutcome::Malformed(why)) => {
            app.metrics.webhook(label, "rejected");
            tracing::warn!(event = %event, why = %why, "webhook payload unreadable");
            (StatusCode::BAD_REQUEST, "payload is not readable JSON\n").into_response()
        }
        Err(e) => {
            // GitHub shows the failure and the delivery can be redelivered.
            tracing::error!(error = %e, "webhook: store failed");
            app.metrics.webhook(label, "error");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "store unavailable, redeliver later\n",
            )
                .into_response()
        }
    }
}

/// Delivery ids are UUIDs and event names are snake_case words; anything
/// else is not from GitHub.
fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
