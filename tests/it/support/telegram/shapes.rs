//! Updates that carry a command's text but are no command: forwards,
//! edits, channel posts and messages sent on behalf of a chat, in the
//! shapes Telegram gives them (Bot API 7+).

use serde_json::{Value, json};

use super::FakeTelegram;

/// The stand-in `from` of an anonymous group admin's messages.
const GROUP_ANONYMOUS_BOT: i64 = 1087968824;
/// The stand-in `from` of messages sent in a group as a channel.
const CHANNEL_BOT: i64 = 136817688;
/// The `from` of a linked channel's posts forwarded into its discussion group.
const TELEGRAM: i64 = 777000;

fn group(chat_id: i64) -> Value {
    json!({"id": chat_id, "type": "supergroup", "title": format!("chat {chat_id}")})
}

fn channel(chat_id: i64) -> Value {
    json!({"id": chat_id, "type": "channel", "title": format!("channel {chat_id}")})
}

fn person(id: i64, name: &str) -> Value {
    json!({"id": id, "is_bot": false, "first_name": name})
}

fn command_entities(text: &str) -> Value {
    let length = text
        .split_whitespace()
        .next()
        .map_or(0, |w| w.encode_utf16().count());
    json!([{"type": "bot_command", "offset": 0, "length": length}])
}

impl FakeTelegram {
    /// Pushes `{"update_id", kind: message}`, `message` given its id.
    fn push_message(&self, kind: &'static str, make: impl FnOnce(i64) -> Value) {
        self.push_update(
            |update_id, message_id| json!({"update_id": update_id, kind: make(message_id)}),
        );
    }

    /// `who` forwards into a group a message `origin` wrote earlier
    /// (`None`: an author who hides their account).
    pub fn user_forwards(
        &self,
        chat_id: i64,
        who: (i64, &str),
        origin: Option<(i64, &str)>,
        text: &str,
    ) {
        let now = chrono::Utc::now().timestamp();
        let origin = match origin {
            Some((id, name)) => {
                json!({"type": "user", "date": now - 60, "sender_user": person(id, name)})
            }
            None => json!({"type": "hidden_user", "date": now - 60, "sender_user_name": who.1}),
        };
        self.push_message("message", |message_id| {
            json!({
                "message_id": message_id,
                "date": now,
                "chat": group(chat_id),
                "from": person(who.0, who.1),
                "forward_origin": origin,
                "text": text,
                "entities": command_entities(text)
            })
        });
    }

    /// A post of the linked channel `channel_id`, forwarded by Telegram
    /// into its discussion group.
    pub fn channel_forwards_automatically(&self, chat_id: i64, channel_id: i64, text: &str) {
        let now = chrono::Utc::now().timestamp();
        self.push_message("message", |message_id| {
            json!({
                "message_id": message_id,
                "date": now,
                "chat": group(chat_id),
                "from": {"id": TELEGRAM, "is_bot": false, "first_name": "Telegram"},
                "sender_chat": channel(channel_id),
                "is_automatic_forward": true,
                "forward_origin": {"type": "channel", "date": now,
                                   "chat": channel(channel_id), "message_id": 7},
                "text": text,
                "entities": command_entities(text)
            })
        });
    }

    /// `who` edits an earlier message of theirs to `text`.
    pub fn user_edits(&self, chat_id: i64, who: (i64, &str), text: &str) {
        let now = chrono::Utc::now().timestamp();
        self.push_message("edited_message", |message_id| {
            json!({
                "message_id": message_id,
                "date": now - 30,
                "edit_date": now,
                "chat": group(chat_id),
                "from": person(who.0, who.1),
                "text": text,
                "entities": command_entities(text)
            })
        });
    }

    /// A post in channel `chat_id`, signed by `who` (`edited`: an edit
    /// of one).
    pub fn channel_posts(&self, chat_id: i64, who: (i64, &str), text: &str, edited: bool) {
        let now = chrono::Utc::now().timestamp();
        let kind = if edited {
            "edited_channel_post"
        } else {
            "channel_post"
        };
        self.push_message(kind, |message_id| {
            let mut post = json!({
                "message_id": message_id,
                "date": now,
                "chat": channel(chat_id),
                "sender_chat": channel(chat_id),
                "author_signature": who.1,
                "text": text,
                "entities": command_entities(text)
            });
            if edited {
                post["edit_date"] = json!(now);
            }
            post
        });
    }

    /// An anonymous admin of group `chat_id` says `text`, signed with
    /// `signature`: Telegram names the group as the sender.
    pub fn anonymous_admin_says(&self, chat_id: i64, signature: &str, text: &str) {
        self.on_behalf_of(
            chat_id,
            (GROUP_ANONYMOUS_BOT, "Group", true),
            group(chat_id),
            signature,
            text,
        );
    }

    /// Someone in group `chat_id` says `text` as their channel `channel_id`.
    pub fn user_says_as_channel(&self, chat_id: i64, channel_id: i64, text: &str) {
        self.on_behalf_of(
            chat_id,
            (CHANNEL_BOT, "Channel", true),
            channel(channel_id),
            "",
            text,
        );
    }

    /// A message on behalf of group `chat_id` whose `from` carries a
    /// person's id: Telegram puts a stand-in there, so whatever it says
    /// names nobody accountable.
    pub fn on_behalf_of_group(&self, chat_id: i64, who: (i64, &str), text: &str) {
        self.on_behalf_of(chat_id, (who.0, who.1, false), group(chat_id), who.1, text);
    }

    fn on_behalf_of(
        &self,
        chat_id: i64,
        from: (i64, &str, bool),
        sender_chat: Value,
        signature: &str,
        text: &str,
    ) {
        let now = chrono::Utc::now().timestamp();
        self.push_message("message", |message_id| {
            let mut message = json!({
                "message_id": message_id,
                "date": now,
                "chat": group(chat_id),
                "from": {"id": from.0, "is_bot": from.2, "first_name": from.1},
                "sender_chat": sender_chat,
                "text": text,
                "entities": command_entities(text)
            });
            if !signature.is_empty() {
                message["author_signature"] = json!(signature);
            }
            message
        });
    }
}
