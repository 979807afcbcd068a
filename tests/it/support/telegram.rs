//! A fake Telegram Bot API on 127.0.0.1: serves `getUpdates` from updates a
//! test injects, records every call, answers `sendMessage` like Telegram
//! does, enforces Telegram's rate limits and can be told to fail.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::wait_until;

pub const TOKEN: &str = "123456:TEST-telegram-token";
pub const BOT_USERNAME: &str = "AletheiaTestBot";
pub const BOT_ID: i64 = 123456;
/// `TELEGRAM_WEBHOOK_SECRET` of the bot under test.
pub const WEBHOOK_SECRET: &str = "tg-webhook-TEST_secret";

/// A call the bot made.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub body: Value,
    /// When it came.
    pub at: Instant,
}

/// A message the bot sent (or edited).
#[derive(Debug, Clone)]
pub struct Sent {
    pub message_id: i64,
    pub chat_id: i64,
    pub thread_id: Option<i64>,
    pub text: String,
    pub parse_mode: Option<String>,
    pub reply_to: Option<i64>,
    /// The inline keyboard: rows of (label, callback data).
    pub buttons: Vec<Vec<(String, String)>>,
    /// Earlier texts, when the message was edited.
    pub edits: Vec<String>,
}

fn buttons_of(body: &Value) -> Vec<Vec<(String, String)>> {
    body["reply_markup"]["inline_keyboard"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|row| {
                    row.as_array()
                        .unwrap()
                        .iter()
                        .map(|b| {
                            (
                                b["text"].as_str().unwrap_or_default().to_owned(),
                                b["callback_data"].as_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A failure to inject.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// HTTP 500 with an error body.
    ServerError,
    /// HTTP 429 with `retry_after` seconds.
    RetryAfter(u32),
    /// HTTP 200 with a body that is not JSON (a misbehaving proxy).
    Garbage,
}

#[derive(Default)]
struct Inner {
    updates: VecDeque<Value>,
    next_update_id: i64,
    next_message_id: i64,
    calls: Vec<Call>,
    sent: Vec<Sent>,
    /// How far each chat's messages have been read by the test.
    read: HashMap<i64, usize>,
    faults: HashMap<String, VecDeque<Fault>>,
    /// Send times, for the rate limits.
    per_chat: HashMap<i64, VecDeque<Instant>>,
    /// Sending fails (a proxy's HTML page) until the test says otherwise.
    down: bool,
    global: VecDeque<Instant>,
    rate_limited: u64,
    /// When each update was first handed to the bot (`getUpdates`).
    handed_out: HashMap<i64, Instant>,
    /// `setWebhook`'s (url, secret token) while a webhook is set.
    webhook: Option<(String, String)>,
    /// Telegram's published limits to the letter (`strict_limits`).
    strict: bool,
    /// When each message and edit was accepted, to which chat, and
    /// whether it was an edit.
    accepted: Vec<(i64, Instant, bool)>,
}

/// The fake server; dropping it stops it.
pub struct FakeTelegram {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    changed: Arc<Notify>,
    _server: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    changed: Arc<Notify>,
}

impl FakeTelegram {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            next_update_id: 1,
            next_message_id: 1000,
            ..Inner::default()
        }));
        let changed = Arc::new(Notify::new());
        let shared = Shared {
            inner: inner.clone(),
            changed: changed.clone(),
        };
        let app = Router::new()
            .route("/{bot}/{method}", post(handle))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            addr,
            inner,
            changed,
            _server: server,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn push_update(&self, make: impl FnOnce(i64, i64) -> Value) -> i64 {
        let mut inner = self.inner.lock().unwrap();
        let update_id = inner.next_update_id;
        inner.next_update_id += 1;
        let message_id = inner.next_message_id;
        inner.next_message_id += 1;
        let update = make(update_id, message_id);
        inner.updates.push_back(update);
        drop(inner);
        self.changed.notify_waiters();
        update_id
    }

    /// The id of the update pushed last.
    #[allow(dead_code)] // benches/e2e
    pub fn last_update_id(&self) -> i64 {
        self.inner.lock().unwrap().next_update_id - 1
    }

    /// When the update was first handed to the bot, if it was.
    #[allow(dead_code)] // benches/e2e
    pub fn handed_out(&self, update_id: i64) -> Option<Instant> {
        self.inner
            .lock()
            .unwrap()
            .handed_out
            .get(&update_id)
            .copied()
    }

    /// A person types `text` in a chat. Group chats have negative ids;
    /// a private chat's id is the user's.
    pub fn user_says(&self, chat_id: i64, user_id: i64, first_name: &str, text: &str) {
        self.user_said(chat_id, user_id, first_name, text, chrono::Utc::now());
    }

    /// Like [`Self::user_says`], for a message sent at `at` (delivered late).
    pub fn user_said(
        &self,
        chat_id: i64,
        user_id: i64,
        first_name: &str,
        text: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) {
        let chat = if chat_id < 0 {
            json!({"id": chat_id, "type": "supergroup", "title": format!("chat {chat_id}")})
        } else {
            json!({"id": chat_id, "type": "private", "first_name": first_name})
        };
        self.push_update(|update_id, message_id| {
            json!({
                "update_id": update_id,
                "message": {
                    "message_id": message_id,
                    "date": at.timestamp(),
                    "chat": chat,
                    "from": {"id": user_id, "is_bot": false, "first_name": first_name},
                    "text": text,
                    "entities": [{"type": "bot_command", "offset": 0,
                                  "length": text.split_whitespace().next().map_or(0, |w| w.encode_utf16().count())}]
                }
            })
        });
    }

    /// A person taps an inline button under one of the bot's messages.
    /// Returns the callback query id, to find the bot's answer by.
    pub fn user_taps(&self, message: &Sent, user_id: i64, first_name: &str, data: &str) -> String {
        let query_id = uuid::Uuid::new_v4().to_string();
        let chat = json!({"id": message.chat_id, "type": "supergroup", "title": "chat"});
        let (qid, msg_id, text) = (query_id.clone(), message.message_id, message.text.clone());
        self.push_update(|update_id, _| {
            json!({
                "update_id": update_id,
                "callback_query": {
                    "id": qid,
                    "from": {"id": user_id, "is_bot": false, "first_name": first_name},
                    "chat_instance": "1",
                    "data": data,
                    "message": {
                        "message_id": msg_id,
                        "date": chrono::Utc::now().timestamp(),
                        "chat": chat,
                        "from": {"id": BOT_ID, "is_bot": true, "first_name": "Aletheia"},
                        "text": text
                    }
                }
            })
        });
        query_id
    }

    /// The bot's answer to a tap: (text, shown as an alert).
    pub async fn tap_answer(&self, query_id: &str) -> (String, bool) {
        wait_until(
            &self.changed,
            Duration::from_secs(30),
            "the answer to a tap",
            || {
                self.calls("answerCallbackQuery")
                    .into_iter()
                    .find(|c| c.body["callback_query_id"] == query_id)
                    .map(|c| {
                        (
                            c.body["text"].as_str().unwrap_or_default().to_owned(),
                            c.body["show_alert"].as_bool().unwrap_or(false),
                        )
                    })
            },
        )
        .await
    }

    /// Waits until a message of the bot's has been edited to satisfy `check`.
    pub async fn wait_for_edit(&self, chat_id: i64, message_id: i64, what: &str) -> Sent {
        wait_until(&self.changed, Duration::from_secs(30), what, || {
            let inner = self.inner.lock().unwrap();
            inner
                .sent
                .iter()
                .find(|s| s.chat_id == chat_id && s.message_id == message_id && !s.edits.is_empty())
                .cloned()
        })
        .await
    }

    /// Reads the chat's messages until one starts with `prefix`; returns
    /// it (the ones before it are read past: the caller does not care).
    pub async fn next_message_starting(&self, chat_id: i64, prefix: &str) -> Sent {
        loop {
            let message = self.next_message(chat_id).await;
            if message.text.starts_with(prefix) {
                return message;
            }
        }
    }

    /// Waits until a message of the chat has been edited to a text that
    /// starts with `prefix` (an operation's outcome, in place); returns it.
    pub async fn edited_to(&self, chat_id: i64, prefix: &str) -> Sent {
        let what = format!("a message of chat {chat_id} edited to {prefix:?}");
        wait_until(&self.changed, Duration::from_secs(30), &what, || {
            let inner = self.inner.lock().unwrap();
            inner
                .sent
                .iter()
                .find(|s| s.chat_id == chat_id && !s.edits.is_empty() && s.text.starts_with(prefix))
                .cloned()
        })
        .await
    }

    /// Waits until the message reads `prefix…` (after its edits so far);
    /// returns it, its earlier texts in `edits`.
    pub async fn became(&self, chat_id: i64, message_id: i64, prefix: &str) -> Sent {
        let what = format!("message {message_id} of chat {chat_id} edited to {prefix:?}");
        wait_until(&self.changed, Duration::from_secs(30), &what, || {
            let inner = self.inner.lock().unwrap();
            inner
                .sent
                .iter()
                .find(|s| {
                    s.chat_id == chat_id && s.message_id == message_id && s.text.starts_with(prefix)
                })
                .cloned()
        })
        .await
    }

    /// Waits until the message has been edited `n` times; returns it.
    pub async fn wait_for_edits(&self, chat_id: i64, message_id: i64, n: usize) -> Sent {
        let what = format!("edit #{n} of message {message_id}");
        wait_until(&self.changed, Duration::from_secs(30), &what, || {
            let inner = self.inner.lock().unwrap();
            inner
                .sent
                .iter()
                .find(|s| s.chat_id == chat_id && s.message_id == message_id && s.edits.len() >= n)
                .cloned()
        })
        .await
    }

    /// Waits until the bot has confirmed (by its `getUpdates` offset)
    /// every update sent so far: none would come to it again.
    pub async fn wait_until_confirmed(&self) {
        wait_until(
            &self.changed,
            Duration::from_secs(30),
            "the bot to confirm every update",
            || self.inner.lock().unwrap().updates.is_empty().then_some(()),
        )
        .await
    }

    /// The webhook the bot set: (url, secret token).
    pub fn webhook(&self) -> Option<(String, String)> {
        self.inner.lock().unwrap().webhook.clone()
    }

    /// Webhook mode: once a webhook is set, updates are posted (with its
    /// secret token) to `targets` in turn, as a load balancer in front of
    /// several instances would; a target that fails or is down passes the
    /// update to the next, and one that none takes is posted again later.
    /// Returns how many updates each target took, as it goes.
    pub fn post_updates_to(&self, targets: Vec<String>) -> Arc<Mutex<Vec<u32>>> {
        let taken = Arc::new(Mutex::new(vec![0u32; targets.len()]));
        let counts = taken.clone();
        let inner = self.inner.clone();
        let changed = self.changed.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut next = 0usize;
            loop {
                let notified = changed.notified();
                let job = {
                    let mut inner = inner.lock().unwrap();
                    match &inner.webhook {
                        Some((_, secret)) if !inner.updates.is_empty() => {
                            let secret = secret.clone();
                            inner.updates.pop_front().map(|u| (u, secret))
                        }
                        _ => None,
                    }
                };
                let Some((update, secret)) = job else {
                    let _ = tokio::time::timeout(Duration::from_millis(100), notified).await;
                    continue;
                };
                let mut delivered = false;
                for _ in 0..targets.len() {
                    let i = next % targets.len();
                    next += 1;
                    let sent = client
                        .post(format!("{}/telegram/webhook", targets[i]))
                        .header("X-Telegram-Bot-Api-Secret-Token", &secret)
                        .json(&update)
                        .timeout(Duration::from_secs(5))
                        .send()
                        .await;
                    if sent.is_ok_and(|r| r.status().is_success()) {
                        counts.lock().unwrap()[i] += 1;
                        delivered = true;
                        break;
                    }
                }
                if !delivered {
                    inner.lock().unwrap().updates.push_front(update);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                changed.notify_waiters();
            }
        });
        taken
    }

    /// Telegram goes down (`true`: every send fails as through a broken
    /// proxy) or comes back.
    pub fn set_down(&self, down: bool) {
        self.inner.lock().unwrap().down = down;
    }

    /// The next `n` calls of `method` fail with `fault`.
    pub fn fail_next(&self, method: &str, n: usize, fault: Fault) {
        let mut inner = self.inner.lock().unwrap();
        let queue = inner.faults.entry(method.to_ascii_lowercase()).or_default();
        for _ in 0..n {
            queue.push_back(fault);
        }
    }

    pub fn calls(&self, method: &str) -> Vec<Call> {
        let inner = self.inner.lock().unwrap();
        inner
            .calls
            .iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method))
            .cloned()
            .collect()
    }

    pub fn sent_to(&self, chat_id: i64) -> Vec<Sent> {
        let inner = self.inner.lock().unwrap();
        inner
            .sent
            .iter()
            .filter(|s| s.chat_id == chat_id)
            .cloned()
            .collect()
    }

    /// From now on, holds every message and edit to Telegram's published
    /// limits to the letter, each a sliding window: one a second in a
    /// chat, 20 new messages a minute in a group, 30 a second in all;
    /// beyond them, 429.
    pub fn strict_limits(&self) {
        self.inner.lock().unwrap().strict = true;
    }

    /// When each message and edit was accepted, and to which chat, in
    /// order.
    pub fn accepted(&self) -> Vec<(i64, Instant)> {
        let inner = self.inner.lock().unwrap();
        inner.accepted.iter().map(|(c, at, _)| (*c, *at)).collect()
    }

    /// When the first message or edit to `chat` after `since` was accepted.
    #[allow(dead_code)] // benches/e2e
    pub fn accepted_after(&self, chat: i64, since: Instant) -> Option<Instant> {
        let inner = self.inner.lock().unwrap();
        let recent = inner.accepted.partition_point(|(_, at, _)| *at <= since);
        inner.accepted[recent..]
            .iter()
            .find(|(c, _, _)| *c == chat)
            .map(|(_, at, _)| *at)
    }

    pub fn rate_limited(&self) -> u64 {
        self.inner.lock().unwrap().rate_limited
    }

    /// Waits until a call of `method` has been made.
    pub async fn wait_for_call(&self, method: &str) -> Call {
        wait_until(
            &self.changed,
            Duration::from_secs(30),
            &format!("a {method} call"),
            || self.calls(method).into_iter().next(),
        )
        .await
    }

    /// The next message to `chat_id` the test has not read yet.
    pub async fn next_message(&self, chat_id: i64) -> Sent {
        let sent = wait_until(
            &self.changed,
            Duration::from_secs(30),
            &format!("a message to chat {chat_id}"),
            || {
                let inner = self.inner.lock().unwrap();
                let read = inner.read.get(&chat_id).copied().unwrap_or(0);
                inner
                    .sent
                    .iter()
                    .filter(|s| s.chat_id == chat_id)
                    .nth(read)
                    .cloned()
            },
        )
        .await;
        *self.inner.lock().unwrap().read.entry(chat_id).or_default() += 1;
        sent
    }

    /// Every message sent has been read by the test: nothing unexpected
    /// was said.
    pub fn assert_all_read(&self) {
        let inner = self.inner.lock().unwrap();
        let mut per_chat: HashMap<i64, usize> = HashMap::new();
        for s in &inner.sent {
            *per_chat.entry(s.chat_id).or_default() += 1;
        }
        for (chat, n) in per_chat {
            let read = inner.read.get(&chat).copied().unwrap_or(0);
            let unread: Vec<&str> = inner
                .sent
                .iter()
                .filter(|s| s.chat_id == chat)
                .skip(read)
                .map(|s| s.text.as_str())
                .collect();
            assert_eq!(read, n, "unread messages to chat {chat}: {unread:#?}");
        }
    }
}

/// HTTP 429, as Telegram answers a request over its limits.
fn too_many_requests(retry_after: u32) -> Response {
    error(
        StatusCode::TOO_MANY_REQUESTS,
        json!({"ok": false, "error_code": 429,
               "description": format!("Too Many Requests: retry after {retry_after}"),
               "parameters": {"retry_after": retry_after}}),
    )
}

fn ok(result: Value) -> Response {
    axum::Json(json!({"ok": true, "result": result})).into_response()
}

fn error(status: StatusCode, body: Value) -> Response {
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

async fn handle(
    State(shared): State<Shared>,
    Path((bot, method)): Path<(String, String)>,
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
            None => return get_updates(&shared, &body).await,
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
        match inner.faults.get_mut(&method).and_then(VecDeque::pop_front) {
            Some(Fault::ServerError) => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"ok": false, "error_code": 500, "description": "Internal Server Error"}),
            ),
            Some(Fault::RetryAfter(secs)) => too_many_requests(secs),
            Some(Fault::Garbage) => (StatusCode::OK, "<html>bad gateway</html>").into_response(),
            None => answer(&mut inner, &method, &body),
        }
    };
    shared.changed.notify_waiters();
    response
}

fn answer(inner: &mut Inner, method: &str, body: &Value) -> Response {
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
