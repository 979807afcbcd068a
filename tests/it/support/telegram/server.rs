//! The fake Bot API's side of the wire: answers each call as Telegram
//! does (its limits, its refusals, its faults when told to fail).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::telegram_html;
use super::{BOT_ID, BOT_USERNAME, Call, Fault, Inner, Refusal, Sent, Shared, TOKEN, buttons_of};

/// HTTP 429, as Telegram answers a request over its limits.
fn too_many_requests(retry_after: u32) -> Response {
    error(
        StatusCode::TOO_MANY_REQUESTS,
        json!({"ok": false, "error_code": 429,
               "description": format!("Too Many Requests: retry after {retry_after}"),
               "parameters": {"retry_after": retry_after}}),
    )
}

pub(super) fn ok(result: Value) -> Response {
    axum::Json(json!({"ok": true, "result": result})).into_response()
}

pub(super) fn error(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Telegram's documented limits: about 1 message a second per chat
/// (bursts allowed), 20 a minute per group, 30 a second in all.
fn over_limit(inner: &mut Inner, chat_id: i64) -> Option<u32> {
    let now = Instant::now();
    inner.global.retain(|t| now - *t < Duration::from_secs(1));
    if inner.global.len() >= 30 {
        return Some(1);
    }
    let times = inner.per_chat.entry(chat_id).or_default();
    times.retain(|t| now - *t < Duration::from_secs(60));
    let last_second = times
        .iter()
        .filter(|t| now - **t < Duration::from_secs(1))
        .count();
    if chat_id < 0 && times.len() >= 20 {
        return Some(60 - times.front().map_or(0, |t| (now - *t).as_secs() as u32));
    }
    if last_second >= 3 {
        return Some(1);
    }
    times.push_back(now);
    inner.global.push_back(now);
    None
}

/// [`FakeTelegram::strict_limits`]: Some(retry_after) when a message to
/// `chat_id` now would break one.
fn over_strict_limit(inner: &mut Inner, chat_id: i64, edit: bool) -> Option<u32> {
    let now = Instant::now();
    let within = |t: &Instant, window: u64| now - *t < Duration::from_secs(window);
    let in_all = inner
        .accepted
        .iter()
        .rev()
        .take_while(|(_, t, _)| within(t, 1))
        .count();
    let chat = inner
        .accepted
        .iter()
        .rev()
        .take_while(|(_, t, _)| within(t, 60))
        .filter(|(c, _, _)| *c == chat_id);
    let last_second = chat.clone().take_while(|(_, t, _)| within(t, 1)).count();
    let sent_last_minute = chat.filter(|(_, _, e)| !e).count();
    if in_all >= 30 || last_second >= 1 {
        return Some(1);
    }
    if chat_id < 0 && !edit && sent_last_minute >= 20 {
        return Some(60);
    }
    None
}

/// Answers a call; every 4xx is noted in [`FakeTelegram::refusals`].
pub(super) async fn handle(
    State(shared): State<Shared>,
    Path((bot, method)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let method_name = method.to_ascii_lowercase();
    let response = respond(&shared, bot, method, body).await;
    if !response.status().is_client_error() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let answer: Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let description = answer["description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // What tests provoke on purpose (an edit of a message that is gone or
    // unchanged) and what the bot handles as normal; every other 400 is a
    // request Telegram would refuse every time.
    let expected = [
        "message is not modified",
        "message to edit not found",
        "query is too old",
    ];
    let malformed = parts.status == StatusCode::BAD_REQUEST
        && !expected.iter().any(|e| description.contains(e));
    shared.inner.lock().unwrap().refusals.push(Refusal {
        method: method_name,
        status: parts.status.as_u16(),
        description,
        malformed,
    });
    shared.changed.notify_waiters();
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

async fn respond(
    shared: &Shared,
    bot: String,
    method: String,
    body: axum::body::Bytes,
) -> Response {
    if bot != format!("bot{TOKEN}") {
        return error(
            StatusCode::UNAUTHORIZED,
            json!({"ok": false, "error_code": 401, "description": "Unauthorized"}),
        );
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or_else(|_| form_fields(&body));
    // Bot API method names are case-insensitive (teloxide sends "GetMe").
    let method = method.to_ascii_lowercase();
    if method == "getupdates" {
        if shared.inner.lock().unwrap().webhook.is_some() {
            // As Telegram: no polling while a webhook is set.
            return error(
                StatusCode::CONFLICT,
                json!({"ok": false, "error_code": 409,
                       "description": "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}),
            );
        }
        let fault = shared
            .inner
            .lock()
            .unwrap()
            .faults
            .get_mut("getupdates")
            .and_then(VecDeque::pop_front);
        match fault {
            Some(Fault::ServerError) => {
                return error(
                    StatusCode::BAD_GATEWAY,
                    json!({"ok": false, "error_code": 502, "description": "Bad Gateway"}),
                );
            }
            Some(Fault::RetryAfter(secs)) => {
                return too_many_requests(secs);
            }
            Some(Fault::Garbage) => {
                return (StatusCode::OK, "<html>bad gateway</html>").into_response();
            }
            Some(Fault::QueryTooOld) => panic!("only answerCallbackQuery answers so"),
            None => return get_updates(shared, &body).await,
        }
    }
    let response = {
        let mut inner = shared.inner.lock().unwrap();
        inner.calls.push(Call {
            method: method.clone(),
            body: body.clone(),
            at: Instant::now(),
        });
        let down = inner.down && method.starts_with("send");
        if down {
            let fault = Fault::Garbage;
            inner
                .faults
                .entry(method.clone())
                .or_default()
                .push_front(fault);
        }
        let tap = body["callback_query_id"].as_str().unwrap_or_default();
        let fault = if method == "answercallbackquery" && inner.expired_taps.contains(tap) {
            Some(Fault::QueryTooOld)
        } else {
            inner.faults.get_mut(&method).and_then(VecDeque::pop_front)
        };
        if let Some(Fault::QueryTooOld) = fault {
            inner.expired_taps.insert(tap.to_owned());
        }
        match fault {
            Some(Fault::ServerError) => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"ok": false, "error_code": 500, "description": "Internal Server Error"}),
            ),
            Some(Fault::RetryAfter(secs)) => too_many_requests(secs),
            Some(Fault::Garbage) => (StatusCode::OK, "<html>bad gateway</html>").into_response(),
            Some(Fault::QueryTooOld) => error(
                StatusCode::BAD_REQUEST,
                json!({"ok": false, "error_code": 400,
                       "description": "Bad Request: query is too old and response timeout expired or query ID is invalid"}),
            ),
            None => answer(&mut inner, &method, &body),
        }
    };
    shared.changed.notify_waiters();
    response
}

fn answer(inner: &mut Inner, method: &str, body: &Value) -> Response {
    if let Err(description) = telegram_html::check(method, body) {
        return error(
            StatusCode::BAD_REQUEST,
            json!({"ok": false, "error_code": 400, "description": description}),
        );
    }
    match method {
        "getme" => ok(json!({
            "id": BOT_ID,
            "is_bot": true,
            "first_name": "Aletheia",
            "username": BOT_USERNAME,
            "can_join_groups": true,
            "can_read_all_group_messages": false,
            "supports_inline_queries": false,
            "can_connect_to_business": false,
            "has_main_web_app": false
        })),
        "getwebhookinfo" => {
            ok(json!({"url": "", "has_custom_certificate": false, "pending_update_count": 0}))
        }
        "sendmessage" => {
            let chat_id = body["chat_id"].as_i64().expect("chat_id");
            let over = if inner.strict {
                over_strict_limit(inner, chat_id, false)
            } else {
                over_limit(inner, chat_id)
            };
            if let Some(retry_after) = over {
                inner.rate_limited += 1;
                return too_many_requests(retry_after);
            }
            inner.accepted.push((chat_id, Instant::now(), false));
            let message_id = inner.next_message_id;
            inner.next_message_id += 1;
            let text = body["text"].as_str().unwrap_or_default().to_owned();
            inner.sent.push(Sent {
                message_id,
                chat_id,
                thread_id: body["message_thread_id"].as_i64(),
                text: text.clone(),
                parse_mode: body["parse_mode"].as_str().map(str::to_owned),
                reply_to: body["reply_parameters"]["message_id"].as_i64(),
                buttons: buttons_of(body),
                edits: vec![],
            });
            let chat = if chat_id < 0 {
                json!({"id": chat_id, "type": "supergroup", "title": "chat"})
            } else {
                json!({"id": chat_id, "type": "private", "first_name": "someone"})
            };
            ok(json!({
                "message_id": message_id,
                "date": chrono::Utc::now().timestamp(),
                "chat": chat,
                "from": {"id": BOT_ID, "is_bot": true, "first_name": "Aletheia", "username": BOT_USERNAME},
                "text": text
            }))
        }
        "editmessagetext" => {
            let chat_id = body["chat_id"].as_i64().expect("chat_id");
            let message_id = body["message_id"].as_i64().expect("message_id");
            let text = body["text"].as_str().unwrap_or_default().to_owned();
            if inner.strict
                && let Some(retry_after) = over_strict_limit(inner, chat_id, true)
            {
                inner.rate_limited += 1;
                return too_many_requests(retry_after);
            }
            let Some(sent) = inner
                .sent
                .iter_mut()
                .find(|s| s.chat_id == chat_id && s.message_id == message_id)
            else {
                return error(
                    StatusCode::BAD_REQUEST,
                    json!({"ok": false, "error_code": 400, "description": "Bad Request: message to edit not found"}),
                );
            };
            if sent.text == text && sent.buttons == buttons_of(body) {
                return error(
                    StatusCode::BAD_REQUEST,
                    json!({"ok": false, "error_code": 400, "description": "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"}),
                );
            }
            let old = std::mem::replace(&mut sent.text, text.clone());
            sent.edits.push(old);
            sent.buttons = buttons_of(body);
            inner.accepted.push((chat_id, Instant::now(), true));
            ok(json!({
                "message_id": message_id,
                "date": chrono::Utc::now().timestamp(),
                "edit_date": chrono::Utc::now().timestamp(),
                "chat": {"id": chat_id, "type": "supergroup", "title": "chat"},
                "text": text
            }))
        }
        "setwebhook" => {
            let url = body["url"].as_str().unwrap_or_default().to_owned();
            let secret = body["secret_token"].as_str().unwrap_or_default().to_owned();
            inner.webhook = Some((url, secret));
            ok(json!(true))
        }
        "leavechat" => super::members::leave_chat(inner, body),
        "deletewebhook" => {
            inner.webhook = None;
            ok(json!(true))
        }
        _ => ok(json!(true)),
    }
}

async fn get_updates(shared: &Shared, body: &Value) -> Response {
    let offset = body["offset"].as_i64().unwrap_or(0);
    // Hold the poll open like Telegram does, but not for long: tests stop
    // bots, and a shorter hold only costs another request.
    let hold = Duration::from_secs(body["timeout"].as_u64().unwrap_or(0).min(1));
    let deadline = tokio::time::Instant::now() + hold;
    loop {
        let notified = shared.changed.notified();
        {
            let mut inner = shared.inner.lock().unwrap();
            inner.calls.push(Call {
                method: "getupdates".into(),
                body: body.clone(),
                at: Instant::now(),
            });
            while inner
                .updates
                .front()
                .is_some_and(|u| u["update_id"].as_i64().unwrap() < offset)
            {
                inner.updates.pop_front();
            }
            if !inner.updates.is_empty() {
                let updates: Vec<Value> = inner.updates.iter().cloned().collect();
                let now = Instant::now();
                for u in &updates {
                    let id = u["update_id"].as_i64().unwrap();
                    inner.handed_out.entry(id).or_insert(now);
                }
                return ok(Value::Array(updates));
            }
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return ok(json!([]));
        }
    }
}

/// The text fields of a `multipart/form-data` body (teloxide sends
/// `setWebhook` so, for the certificate it may carry), as a JSON object.
fn form_fields(body: &[u8]) -> Value {
    let text = String::from_utf8_lossy(body);
    let mut fields = serde_json::Map::new();
    for part in text
        .split("Content-Disposition: form-data; name=\"")
        .skip(1)
    {
        let Some((name, rest)) = part.split_once('"') else {
            continue;
        };
        let Some((_, value)) = rest.split_once("\r\n\r\n") else {
            continue;
        };
        let value = value.split("\r\n--").next().unwrap_or_default();
        fields.insert(name.to_owned(), Value::String(value.to_owned()));
    }
    if fields.is_empty() {
        Value::Null
    } else {
        Value::Object(fields)
    }
}
