//! The reminder of an undecided request: once, at two thirds of its
//! prompt's expiry, a message in every chat holding a copy of the prompt
//! mentions who may still decide it. Leader work (run with expiry); the
//! outbox's key makes it one message per chat across restarts and
//! instances, and it is written only while the request still waits.

use crate::domain::{
    AlertKey, AlertKind, ChatId, OpStep, OperationId, OperationKind, OperationState, UserId,
    counting_approvals, reminder_at, still_to_decide,
};
use crate::service::App;
use crate::store::{NewAlert, OperationRow};

impl App {
    /// Reminds the approvers of each request whose reminder is due.
    pub async fn remind_requests(&self) {
        let ops = match self.store.open_requests().await {
            Ok(ops) => ops,
            Err(e) => {
                tracing::warn!(error = %e, "reminders: store unreadable");
                return;
            }
        };
        let now = crate::store::now_ms();
        for op in ops {
            let Some(expires) = op.expires_at else {
                continue;
            };
            let asks = matches!(op.kind, OperationKind::Deploy | OperationKind::Rollback);
            if !asks || reminder_at(op.created_at, expires) > now {
                continue;
            }
            let key = AlertKey::op(OperationId(op.id), OpStep::Remind).in_chat(ChatId(op.chat_id));
            match self.store.has_alert(&key).await {
                Ok(false) => {}
                Ok(true) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, operation = op.id, "reminders: store");
                    continue;
                }
            }
            if let Err(e) = self.remind_approvers(&op, expires).await {
                tracing::warn!(error = %e, operation = op.id, "reminder failed");
            }
        }
    }

    async fn remind_approvers(
        &self,
        op: &OperationRow,
        expires: i64,
    ) -> Result<(), crate::store::StoreError> {
        let Ok(cfg) = self.env_config(op) else {
            return Ok(());
        };
        let policy = super::policy_for(op, cfg);
        let id = OperationId(op.id);
        let recorded: Vec<UserId> = self
            .store
            .approvers_of(id)
            .await?
            .into_iter()
            .map(UserId)
            .collect();
        let requester = UserId(op.requested_by);
        let roles_of = |u: UserId| self.config.user(u).map(|u| u.roles.as_slice());
        let (counting, _) = counting_approvals(&recorded, requester, &policy, roles_of);
        let users = self.config.users.iter().map(|u| (u.id, u.roles.as_slice()));
        let mentioned: Vec<(i64, String)> = still_to_decide(&policy, requester, &counting, users)
            .into_iter()
            .map(|u| (u.0, self.name_of(u.0)))
            .collect();
        let at = crate::alerts::format::utc(crate::alerts::format::from_ms(expires));
        let text = crate::messages::approvals::reminder(op, &mentioned, &at);
        let alerts: Vec<NewAlert> = self
            .asked_chats(op)
            .await
            .into_iter()
            .map(|chat| NewAlert {
                thread_id: self.thread_of(op, chat),
                ..NewAlert::message(
                    AlertKey::op(id, OpStep::Remind).in_chat(ChatId(chat)),
                    AlertKind::Approval,
                    op.env.clone(),
                    ChatId(chat),
                    text.clone(),
                )
            })
            .collect();
        let waiting = [OperationState::AwaitingApproval];
        if self.store.enqueue_while(id, &waiting, &alerts).await? {
            self.outbox.notify_one();
        }
        Ok(())
    }

    /// The topic a copy of `op`'s prompt went to in `chat`: an approval
    /// chat's configured thread (none in the chat it was asked in).
    fn thread_of(&self, op: &OperationRow, chat: i64) -> Option<i32> {
        if chat == op.chat_id {
            return None;
        }
        self.config
            .chats
            .iter()
            .find(|c| c.id.0 == chat)
            .and_then(|c| c.thread_id)
    }
}
