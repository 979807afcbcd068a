//! How an operation's steps reach the chats: one message per operation
//! and chat, edited through its steps (the story).

use super::App;
use crate::alerts::{self, Rendered};
use crate::domain::{AlertKey, AlertKind, EditStep, OpStep, OperationId};
use crate::messages::story as say;
use crate::store::{NewAlert, OperationRow};

/// How a step of an operation reaches a chat that has no message of the
/// operation yet.
#[derive(Debug, Clone, Copy)]
pub(super) enum Story<'a> {
    /// As a new message (the "started" message, a good outcome).
    Step,
    /// As a new message; and where the step is an edit, a short new
    /// message follows it (`…`), so phones ring for a bad outcome.
    Ring(&'a str),
    /// Not at all: progress is only ever an edit.
    EditsOnly,
}

impl App {
    /// The message that tells an operation's story in a chat: the question
    /// it asked there (its approval prompt), else its "started" message.
    async fn story_key(&self, op: &OperationRow, chat: i64) -> Option<AlertKey> {
        let asked = super::approvals::asked_key(op, chat);
        let started = AlertKey::op(OperationId(op.id), OpStep::Dispatched)
            .in_chat(crate::domain::ChatId(chat));
        // (A chat has only one of them, except for an operation that was
        // under way when the bot learnt to edit its prompt: its "started".)
        for key in [started, asked] {
            match self.store.has_alert(&key).await {
                Ok(true) => return Some(key),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "story: store; a new message instead of an edit");
                    return None;
                }
            }
        }
        None
    }

    /// A step of an operation, one message per operation and chat: where
    /// a chat has the operation's message, the step edits it; elsewhere
    /// it goes as `story` says. Every chat holding a copy of the
    /// operation's prompt (the chat it was asked in, the approval chats)
    /// follows it through every step, whether or not its routes take the
    /// kind.
    pub(super) async fn story_alerts(
        &self,
        op: &OperationRow,
        step: EditStep,
        kind: AlertKind,
        text: &str,
        routed: Vec<NewAlert>,
        story: Story<'_>,
    ) -> Vec<NewAlert> {
        let mut out = Vec::new();
        let routed_chats: Vec<i64> = routed.iter().map(|a| a.chat.0).collect();
        let buttons = routed.first().and_then(|a| a.buttons.clone());
        for alert in routed {
            match self.story_key(op, alert.chat.0).await {
                Some(original) => {
                    let chat = alert.chat;
                    let (kind, env, thread) = (alert.kind, alert.env.clone(), alert.thread_id);
                    out.push(alert.keyed(&original.edited(step)));
                    if let Story::Ring(short) = story {
                        let ring = AlertKey::op(OperationId(op.id), OpStep::Ring(step));
                        out.push(NewAlert {
                            thread_id: thread,
                            ..NewAlert::message(
                                ring.in_chat(chat),
                                kind,
                                env,
                                chat,
                                short.to_owned(),
                            )
                        });
                    }
                }
                None if matches!(story, Story::EditsOnly) => {}
                None => out.push(alert),
            }
        }
        if op.chat_id == 0 {
            return out;
        }
        for chat in self.asked_chats(op).await {
            if routed_chats.contains(&chat) {
                continue;
            }
            let prompt = super::approvals::asked_key(op, chat);
            // (The approval chats' copies are known to exist; the asking
            // chat may have had no question, only a "started" message.)
            if chat != op.chat_id || matches!(self.store.has_alert(&prompt).await, Ok(true)) {
                out.push(NewAlert {
                    buttons: buttons.clone(),
                    ..NewAlert::edit(
                        &prompt,
                        step,
                        kind,
                        op.env.clone(),
                        crate::domain::ChatId(chat),
                        text.to_owned(),
                    )
                });
            }
        }
        out
    }

    /// A step shown only as an edit of the operation's messages (the
    /// chats its kind is routed to, and the chat it was asked in).
    pub(super) async fn story_edits(
        &self,
        op: &OperationRow,
        step: EditStep,
        text: &str,
    ) -> Vec<NewAlert> {
        self.story_step(op, step, text, Story::EditsOnly).await
    }

    /// A step of the operation's own kind, routed under its "started"
    /// message's key, told as `story` says.
    pub(super) async fn story_step(
        &self,
        op: &OperationRow,
        step: EditStep,
        text: &str,
        story: Story<'_>,
    ) -> Vec<NewAlert> {
        let kind = crate::domain::runs::alert_kind_of(op.kind);
        let routed = alerts::route(
            &self.config,
            &Rendered {
                kind,
                env: op.env.clone(),
                key: AlertKey::op(OperationId(op.id), OpStep::Dispatched),
                text: text.to_owned(),
            },
        );
        self.story_alerts(op, step, kind, text, routed, story).await
    }

    /// Who stands behind an operation, for its messages
    /// ([`crate::messages::story::who`]).
    pub(super) async fn who_of(&self, op: &OperationRow) -> String {
        if op.requested_by == 0 {
            return say::who(None, &[]);
        }
        let approvers = self
            .store
            .approvers_of(OperationId(op.id))
            .await
            .unwrap_or_default();
        let names: Vec<String> = approvers.into_iter().map(|a| self.name_of(a)).collect();
        say::who(Some(&self.name_of(op.requested_by)), &names)
    }
}
