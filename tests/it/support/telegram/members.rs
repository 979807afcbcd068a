//! Which groups the bot is in, as Telegram keeps it: a group is known
//! once something happened there, the bot is in it until it leaves
//! (`leaveChat`), and what people say in a group the bot has left never
//! reaches it.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::server::{error, ok};
use super::{FakeTelegram, Inner};

/// The group an update happened in, if it happened in one.
fn group_of(update: &Value) -> Option<i64> {
    let chat = [
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
    ]
    .iter()
    .map(|kind| &update[kind]["chat"])
    .chain([&update["callback_query"]["message"]["chat"]])
    .find(|chat| chat.is_object())?;
    let id = chat["id"].as_i64()?;
    (chat["type"] != "private").then_some(id)
}

/// Whether `update` reaches the bot: not when it happened in a group
/// the bot has left. A group seen for the first time has the bot in it
/// (someone added it, or it could not be there at all).
pub(super) fn reaches_bot(inner: &mut Inner, update: &Value) -> bool {
    let Some(group) = group_of(update) else {
        return true;
    };
    let member = *inner.members.entry(group).or_insert(true);
    if !member {
        inner.undelivered += 1;
    }
    member
}

/// `leaveChat`, answered as Telegram does.
pub(super) fn leave_chat(inner: &mut Inner, body: &Value) -> Response {
    let Some(chat_id) = body["chat_id"].as_i64() else {
        return error(
            StatusCode::BAD_REQUEST,
            json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}),
        );
    };
    if chat_id > 0 {
        return error(
            StatusCode::BAD_REQUEST,
            json!({"ok": false, "error_code": 400,
                   "description": "Bad Request: chat member status can't be changed in private chats"}),
        );
    }
    match inner.members.get_mut(&chat_id) {
        None => error(
            StatusCode::BAD_REQUEST,
            json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}),
        ),
        Some(false) => error(
            StatusCode::FORBIDDEN,
            json!({"ok": false, "error_code": 403,
                   "description": "Forbidden: bot is not a member of the supergroup chat"}),
        ),
        Some(member) => {
            *member = false;
            ok(json!(true))
        }
    }
}

impl FakeTelegram {
    /// Whether the bot is in the group (it was never there: false).
    pub fn bot_in(&self, chat_id: i64) -> bool {
        self.inner
            .lock()
            .unwrap()
            .members
            .get(&chat_id)
            .copied()
            .unwrap_or(false)
    }

    /// Someone adds the bot to the group (again).
    #[allow(dead_code)] // benches/e2e
    pub fn add_bot_to(&self, chat_id: i64) {
        self.inner.lock().unwrap().members.insert(chat_id, true);
    }

    /// How many updates never reached the bot: said in a group it had left.
    pub fn undelivered(&self) -> u64 {
        self.inner.lock().unwrap().undelivered
    }
}
