//! The HTTP server: `POST /github/webhook` (HMAC-SHA256 verified, delivery
//! ids de-duplicated), `GET /healthz`, `GET /metrics`.

mod signature;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::service::{App, WebhookOutcome, WebhookRequest};

pub use signature::verify;

/// GitHub caps webhook payloads at 25 MB.
const MAX_BODY: usize = 25 * 1024 * 1024;

/// Telegram's webhook (webhook mode): teloxide's receiver of updates,
/// behind a constant-time check of the secret token Telegram sends with
/// each. A request without it gets 401 and reaches nothing.
pub fn telegram_router(receiver: Router, secret: crate::config::Secret) -> Router {
    use subtle::ConstantTimeEq;
    let secret = Arc::new(secret);
    receiver.layer(axum::middleware::from_fn(
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
}

/// The router, with the app as state.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/github/webhook", post(webhook))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(app)
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    match app.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "healthz: store unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "store unreachable\n").into_response()
        }
    }
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    if let Ok(stats) = app.store.outbox_stats().await {
        app.metrics.outbox_pending.set(stats.pending);
        app.metrics.outbox_failed.set(stats.failed);
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

async fn webhook(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let event = header_str(&headers, "x-github-event")
        .unwrap_or("")
        .to_owned();
    let reject = |status: StatusCode, why: &'static str| {
        app.metrics.webhook(
            if event.is_empty() { "unknown" } else { &event },
            "rejected",
        );
        tracing::warn!(event = %event, why, "webhook rejected");
        (status, why).into_response()
    };
    let Some(signature) = header_str(&headers, "x-hub-signature-256") else {
        return reject(StatusCode::UNAUTHORIZED, "missing X-Hub-Signature-256\n");
    };
    if !verify(app.webhook_secret.expose().as_bytes(), &body, signature) {
        return reject(StatusCode::UNAUTHORIZED, "bad signature\n");
    }
    let Some(delivery_id) = header_str(&headers, "x-github-delivery").filter(|d| valid_id(d))
    else {
        return reject(
            StatusCode::BAD_REQUEST,
            "missing or malformed X-GitHub-Delivery\n",
        );
    };
    if event.is_empty() || !valid_id(&event) {
        return reject(
            StatusCode::BAD_REQUEST,
            "missing or malformed X-GitHub-Event\n",
        );
    }
    let Ok(body) = String::from_utf8(body.to_vec()) else {
        return reject(StatusCode::BAD_REQUEST, "body is not UTF-8\n");
    };
    let request = WebhookRequest {
        delivery_id: delivery_id.to_owned(),
        event: event.clone(),
        body,
    };
    match app.accept_webhook(request).await {
        Ok(WebhookOutcome::Accepted) => {
            app.metrics.webhook(&event, "accepted");
            (StatusCode::ACCEPTED, "accepted\n").into_response()
        }
        Ok(WebhookOutcome::Ignored) => {
            app.metrics.webhook(&event, "ignored");
            (
                StatusCode::ACCEPTED,
                "accepted; not this bot's repository, ignored\n",
            )
                .into_response()
        }
        Ok(WebhookOutcome::Duplicate) => {
            app.metrics.webhook(&event, "duplicate");
            (StatusCode::OK, "duplicate delivery, ignored\n").into_response()
        }
        Ok(WebhookOutcome::Malformed(why)) => {
            app.metrics.webhook(&event, "rejected");
            tracing::warn!(event = %event, why = %why, "webhook payload unreadable");
            (StatusCode::BAD_REQUEST, "payload is not readable JSON\n").into_response()
        }
        Err(e) => {
            // GitHub shows the failure and the delivery can be redelivered.
            tracing::error!(error = %e, "webhook: store failed");
            app.metrics.webhook(&event, "error");
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
