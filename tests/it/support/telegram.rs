//! A fake Telegram Bot API on 127.0.0.1: serves `getUpdates` from updates a
//! test injects, records every call, answers `sendMessage` like Telegram
//! does, enforces Telegram's rate limits and can be told to fail.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::Notify;

mod members;
mod reads;
mod server;
mod shapes;
mod webhook;

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

/// A 4xx the fake answered, as Telegram would have.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub method: String,
    pub status: u16,
    pub description: String,
    /// The request itself was wrong (bad HTML, too long, bad buttons):
    /// Telegram would refuse it every time, so it is a bug of the bot.
    /// Rate limits, injected faults and edits of a message that is gone
    /// or unchanged are not.
    pub malformed: bool,
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
    /// HTTP 400 as to an `answerCallbackQuery` past the tap's ~15 s;
    /// every later answer to that tap is refused so too.
    QueryTooOld,
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
    /// Every 4xx answered, in order.
    refusals: Vec<Refusal>,
    /// Taps whose answer came too late (`Fault::QueryTooOld`).
    expired_taps: std::collections::HashSet<String>,
    /// Groups seen, and whether the bot is in them.
    members: HashMap<i64, bool>,
    /// Updates said in a group the bot had left, never delivered.
    undelivered: u64,
}

/// The fake server; dropping it stops it.
pub struct FakeTelegram {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    changed: Arc<Notify>,
    _server: super::background::Task,
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
            .route("/{bot}/{method}", post(server::handle))
            .with_state(shared);
        let (addr, server) = super::background::serve(app);
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
        if members::reaches_bot(&mut inner, &update) {
            inner.updates.push_back(update);
        }
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

    /// Every 4xx the fake answered so far, in order.
    pub fn refusals(&self) -> Vec<Refusal> {
        self.inner.lock().unwrap().refusals.clone()
    }

    /// The requests Telegram would refuse every time (see
    /// [`Refusal::malformed`]); a scenario that leaves any fails.
    pub fn malformed(&self) -> Vec<Refusal> {
        let inner = self.inner.lock().unwrap();
        inner
            .refusals
            .iter()
            .filter(|r| r.malformed)
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
}

/// The end of every scenario: a request Telegram would refuse every time
/// fails the test, even when the bot's retries or the test's reads hid it.
impl Drop for FakeTelegram {
    fn drop(&mut self) {
        let malformed = self.malformed();
        if malformed.is_empty() {
            return;
        }
        let list: Vec<String> = malformed
            .iter()
            .map(|r| format!("{}: {}", r.method, r.description))
            .collect();
        if std::thread::panicking() {
            eprintln!("Telegram also refused the bot's requests: {list:#?}");
        } else {
            panic!("Telegram refused the bot's requests: {list:#?}");
        }
    }
}
