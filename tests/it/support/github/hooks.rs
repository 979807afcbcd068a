//! GitHub's webhooks, as the fake sends them: payloads, the signature,
//! the delivery.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{OWNER, REPO, WEBHOOK_SECRET};

/// A `workflow_run` webhook payload for a run, as GitHub sends it.
pub fn workflow_run_event(action: &str, run: &Value) -> Value {
    json!({
        "action": action,
        "workflow_run": run,
        "repository": {"full_name": format!("{OWNER}/{REPO}")}
    })
}

/// The `X-Hub-Signature-256` GitHub computes.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Posts a webhook delivery to the bot as GitHub does.
pub async fn post_webhook(
    bot_url: &str,
    event: &str,
    delivery: &str,
    payload: &Value,
    signature_header: Option<String>,
) -> reqwest::Response {
    let body = serde_json::to_vec(payload).unwrap();
    let mut request = reqwest::Client::new()
        .post(format!("{bot_url}/github/webhook"))
        .header("content-type", "application/json")
        .header("x-github-event", event)
        .header("x-github-delivery", delivery)
        .header("user-agent", "GitHub-Hookshot/test");
    if let Some(sig) = signature_header {
        request = request.header("x-hub-signature-256", sig);
    }
    request.body(body).send().await.unwrap()
}

/// Like [`post_webhook`], signed with the right secret.
pub async fn post_signed_webhook(
    bot_url: &str,
    event: &str,
    delivery: &str,
    payload: &Value,
) -> reqwest::Response {
    let body = serde_json::to_vec(payload).unwrap();
    post_webhook(
        bot_url,
        event,
        delivery,
        payload,
        Some(signature(WEBHOOK_SECRET, &body)),
    )
    .await
}

pub fn release_published(id: u64, tag: &str) -> Value {
    json!({
        "action": "published",
        "release": {
            "id": id,
            "tag_name": tag,
            "name": tag,
            "draft": false,
            "html_url": format!("https://github.com/{OWNER}/{REPO}/releases/tag/{tag}"),
            "author": {"login": "github-actions[bot]"}
        },
        "repository": {"full_name": format!("{OWNER}/{REPO}")}
    })
}
