//! Where a request's question goes and how every copy of it follows the
//! request: an approval prompt is posted in the chat it was asked in and in
//! every chat routed `approval` alerts for its environment, any copy takes
//! the decision, and every step edits them all.

use super::{asked_key, prompt_key};
use crate::domain::{
    AlertKind, ChatId, ChatKind, EditStep, Env, EnvPolicy, UserId, prompt_reaches_approver,
};
use crate::service::App;
use crate::store::{NewAlert, OperationRow};

impl App {
    /// The approval prompt of a new request, one copy per chat that shows
    /// it: the chat it was asked in first, then every chat routed
    /// `approval` alerts for `env`. `Err` carries the refusal to show when
    /// none of them puts the prompt before someone who may approve it.
    pub(in crate::service) fn prompt_alerts(
        &self,
        env: &Env,
        asked: ChatId,
        requester: UserId,
        policy: &EnvPolicy,
        text: &str,
        buttons: &[Vec<crate::service::Button>],
    ) -> Result<Vec<NewAlert>, String> {
        let mut chats = vec![(asked, None)];
        for chat in self.approval_chats(env) {
            if chat.id != asked {
                chats.push((chat.id, chat.thread_id));
            }
        }
        // The approval chats are configured; the asking chat is, or is a
        // private chat (commands are refused anywhere else).
        let kinds: Vec<(ChatId, ChatKind)> = chats
            .iter()
            .map(|(id, _)| match self.config.chat(*id) {
                Some(_) => (*id, ChatKind::Configured),
                None => (*id, ChatKind::Private),
            })
            .collect();
        let roles_of = |user: UserId| self.config.user(user).map(|u| u.roles.as_slice());
        if !prompt_reaches_approver(&kinds, requester, policy, roles_of) {
            return Err(crate::messages::approvals::no_approver_sees(env, policy));
        }
        let buttons = serde_json::to_string(buttons).expect("buttons serialise");
        Ok(chats
            .into_iter()
            .map(|(chat, thread_id)| NewAlert {
                buttons: Some(buttons.clone()),
                thread_id,
                ..NewAlert::message(
                    prompt_key(crate::domain::NewOp, chat.0),
                    AlertKind::Approval,
                    Some(env.clone()),
                    chat,
                    text.to_owned(),
                )
            })
            .collect())
    }

    /// The configured chats routed `approval` alerts about `env`.
    fn approval_chats(&self, env: &Env) -> impl Iterator<Item = &crate::config::ChatConfig> {
        self.config
            .chats
            .iter()
            .filter(move |chat| chat.takes(AlertKind::Approval, Some(env)))
    }

    /// The chats that hold a copy of the question `op` asked (its approval
    /// prompt, or a release's "Release anyway?"): the chat it was asked in
    /// and, for a prompt, those of the approval chats it was posted to.
    pub(in crate::service) async fn asked_chats(&self, op: &OperationRow) -> Vec<i64> {
        let mut chats = vec![op.chat_id];
        let Some(env) = op.env.clone() else {
            return chats;
        };
        for chat in self.approval_chats(&env) {
            if chat.id.0 == op.chat_id {
                continue;
            }
            match self.store.has_alert(&asked_key(op, chat.id.0)).await {
                Ok(true) => chats.push(chat.id.0),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, operation = op.id, "prompt copies: store");
                }
            }
        }
        chats
    }

    /// Whether `chat` holds a copy of the question `op` asked there (a
    /// decision is taken under one of its own prompts, nowhere else).
    pub(in crate::service) async fn asked_in(&self, op: &OperationRow, chat: Option<i64>) -> bool {
        match chat {
            Some(chat) if chat == op.chat_id => true,
            Some(chat) => matches!(self.store.has_alert(&asked_key(op, chat)).await, Ok(true)),
            None => false,
        }
    }

    /// The edit of every copy of `op`'s question to `text` (no buttons:
    /// the question is answered); `step` names the edit.
    pub(in crate::service) async fn edit_prompts(
        &self,
        op: &OperationRow,
        step: EditStep,
        text: String,
    ) -> Vec<NewAlert> {
        let env = op.env.clone();
        self.asked_chats(op)
            .await
            .into_iter()
            .map(|chat| {
                NewAlert::edit(
                    &asked_key(op, chat),
                    step,
                    AlertKind::Approval,
                    env.clone(),
                    ChatId(chat),
                    text.clone(),
                )
            })
            .collect()
    }
}
