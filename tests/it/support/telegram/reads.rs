//! What the test reads of the fake Telegram: the bot's messages in order
//! (each read once, all of them by the end), their edits, tap answers and
//! calls, each waited for on a condition.

use std::collections::HashMap;
use std::time::Duration;

use super::super::wait_until;
use super::{Call, FakeTelegram, Sent};

impl FakeTelegram {
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

    /// The one way to wait for an edit: until a message of the chat (the
    /// one with `message_id`, or any) has been edited and `check` holds for
    /// what it reads now; returns it, its earlier texts in `edits`.
    #[track_caller]
    pub fn edited(
        &self,
        chat_id: i64,
        message_id: Option<i64>,
        check: impl Fn(&Sent) -> bool,
    ) -> impl Future<Output = Sent> {
        // Named by where the test waits: a timeout points at that line.
        let what = format!(
            "an edit of {} of chat {chat_id} (awaited at {})",
            message_id.map_or("a message".to_owned(), |id| format!("message {id}")),
            std::panic::Location::caller()
        );
        async move {
            wait_until(&self.changed, Duration::from_secs(30), &what, || {
                let inner = self.inner.lock().unwrap();
                inner
                    .sent
                    .iter()
                    .find(|s| {
                        s.chat_id == chat_id
                            && message_id.is_none_or(|id| s.message_id == id)
                            && !s.edits.is_empty()
                            && check(s)
                    })
                    .cloned()
            })
            .await
        }
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

    /// Every message sent has been read by the test: nothing unexpected
    /// was said.
    pub fn assert_all_read(&self) {
        // Read under the lock, asserted after it: a failed assertion must
        // not poison the fake that the end-of-test check reads again.
        let unread: Vec<(i64, Vec<String>)> = {
            let inner = self.inner.lock().unwrap();
            let mut per_chat: HashMap<i64, usize> = HashMap::new();
            for s in &inner.sent {
                *per_chat.entry(s.chat_id).or_default() += 1;
            }
            per_chat
                .into_keys()
                .map(|chat| {
                    let read = inner.read.get(&chat).copied().unwrap_or(0);
                    let texts = inner
                        .sent
                        .iter()
                        .filter(|s| s.chat_id == chat)
                        .skip(read)
                        .map(|s| s.text.clone())
                        .collect();
                    (chat, texts)
                })
                .collect()
        };
        for (chat, texts) in unread {
            assert!(
                texts.is_empty(),
                "unread messages to chat {chat}: {texts:#?}"
            );
        }
    }

    /// Reads every message to the chat so far, for a scenario that does
    /// not care what each says (or asserts on them all at once).
    pub fn read_all(&self, chat_id: i64) -> Vec<Sent> {
        let mut inner = self.inner.lock().unwrap();
        let read = inner.read.get(&chat_id).copied().unwrap_or(0);
        let unread: Vec<Sent> = inner
            .sent
            .iter()
            .filter(|s| s.chat_id == chat_id)
            .skip(read)
            .cloned()
            .collect();
        *inner.read.entry(chat_id).or_default() += unread.len();
        unread
    }
}
