//! Automatic rollback (`environments.<env>.rollback.auto`): when a deploy
//! ends failed after ECS changed, or unhealthy, the bot itself asks for
//! the rollback to the last version confirmed healthy there before it —
//! the very request `/rollback <env> <version>` opens, with its checks and
//! approvals (none with `rollback.auto_approve`) — and says so loudly in
//! the failure's chats. Never for a rollback, at most once per deploy.

use super::App;
use super::Incoming;
use super::rollback::{Asked, Automatic};
use crate::adapters::ecs::tag_is_version;
use crate::alerts;
use crate::domain::{AUTOMATIC, AutoRollbackFacts};
use crate::domain::{AlertKey, AlertKind, ChatId, OpStep, OperationId, OperationState};
use crate::domain::{
    auto_rollback_skips_approvals, calls_for_auto_rollback, may_call_for_auto_rollback,
};
use crate::messages::autorollback as say;
use crate::store::{NewAlert, OperationRow, now_ms};

/// The kinds the automatic rollback's alerts go out as: loud as the
/// failure that caused it.
const KINDS: [AlertKind; 2] = [AlertKind::Failure, AlertKind::Rollback];

/// The request id of the automatic rollback after deploy `deploy`: one
/// per deploy, and the store's request ids are unique. (A UUID's shape:
/// the workflow carries it in its run-name, where the bot finds it.)
pub(super) fn auto_request_id(deploy: i64) -> String {
    format!("00000000-a070-4000-8000-{:012x}", deploy & 0xffff_ffff_ffff)
}

/// How long an instance holds the decision on an automatic rollback:
/// the leader takes it over after this, should the instance die.
const CLAIM_MS: i64 = 120_000;

/// How far back the leader looks for deploys whose automatic rollback was
/// never decided (its instance died first).
const LEFT_OVER_MS: i64 = 15 * 60_000;

impl App {
    /// After `op` ended `ended` (a failed run, or unhealthy): asks for
    /// the rollback by itself where the environment wants it. Decided
    /// once per deploy, by whichever instance claims the decision first.
    pub(super) async fn roll_back_automatically(&self, op: &OperationRow, ended: OperationState) {
        let Some(cfg) = op
            .env
            .as_ref()
            .and_then(|e| self.config.environments.get(e))
        else {
            return;
        };
        if !may_call_for_auto_rollback(cfg.rollback.auto, op.kind, ended) {
            return;
        }
        let id = OperationId(op.id);
        let now = now_ms();
        match self
            .store
            .claim_auto_rollback(id, now, now + CLAIM_MS)
            .await
        {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                // The leader's look for left-over decisions retries it.
                tracing::warn!(error = %e, operation = op.id, "automatic rollback: not claimed");
                return;
            }
        }
        self.decide_auto_rollback(op, ended).await;
        if let Err(e) = self.store.auto_rollback_decided(id).await {
            tracing::warn!(error = %e, operation = op.id, "automatic rollback: not recorded");
        }
    }

    /// Leader work: decides the automatic rollbacks an instance that died
    /// left undecided (recent deploys that went wrong where the
    /// environment wants them).
    pub async fn roll_back_left_over(&self) {
        let since = now_ms() - LEFT_OVER_MS;
        for (env, cfg) in &self.config.environments {
            if !cfg.rollback.auto {
                continue;
            }
            let Ok(failures) = self.store.failures_since(env, since).await else {
                continue;
            };
            for op in failures {
                self.roll_back_automatically(&op, op.state).await;
            }
        }
    }

    /// Asks for the rollback after `op` where the facts call for it, or
    /// says why not.
    async fn decide_auto_rollback(&self, op: &OperationRow, ended: OperationState) {
        let Some(env) = op.env.as_ref() else { return };
        let Some(cfg) = self.config.environments.get(env) else {
            return;
        };
        // A failed run rolls back only what it changed: ECS says whether
        // it did.
        let runs_now = if ended == OperationState::Failed {
            self.running_tag(cfg).await.ok().flatten()
        } else {
            None
        };
        let facts = AutoRollbackFacts {
            enabled: cfg.rollback.auto,
            kind: op.kind,
            ended,
            ran_before: op.ran_before(),
            runs_now: runs_now.as_deref(),
            now_is_its_version: runs_now
                .as_deref()
                .is_some_and(|now| tag_is_version(now, &op.version)),
        };
        if !calls_for_auto_rollback(&facts) {
            return;
        }
        let request_id = auto_request_id(op.id);
        if let Ok(Some(_)) = self.store.operation_by_request(&request_id).await {
            return;
        }
        let failed = OperationRow {
            state: ended,
            ..op.clone()
        };
        let Some(target) = self.last_healthy_before(env, op).await else {
            self.tell(&failed, say::no_target(&failed)).await;
            return;
        };
        let approvals = if auto_rollback_skips_approvals(cfg.rollback.auto_approve) {
            0
        } else {
            cfg.rollback_policy().approvals
        };
        let auto = Automatic {
            approvals,
            alerts: self.loud(&failed, &say::requested(&failed, &target, approvals)),
            request_id: request_id.clone(),
        };
        let asked = Asked {
            break_glass: None,
            auto: Some(&auto),
        };
        let msg = Incoming {
            chat: self.asking_chat(op),
            private: false,
            user: AUTOMATIC,
            user_display: say::requester(),
            text: String::new(),
            bot_username: None,
            sent_at: chrono::Utc::now(),
        };
        let (outcome, reply) = self.request_rollback(&msg, env, &target, &asked).await;
        tracing::info!(operation = op.id, %target, %outcome, "automatic rollback");
        let Some(reply) = reply else { return };
        let requested = matches!(
            self.store.operation_by_request(&request_id).await,
            Ok(Some(_))
        );
        if requested && outcome == "refused:busy" {
            // Another caller asked for it first (the request id is the
            // deploy's): that one tells what came of it.
            return;
        }
        let text = if requested {
            // What came of the dispatch, as `/rollback` would answer.
            reply.html
        } else {
            say::not_requested(&failed, &reply.html)
        };
        self.tell(&failed, text).await;
    }

    /// The loud alert about deploy `failed`'s automatic rollback: the
    /// failure's chats, and the chat the deploy was asked in.
    fn loud(&self, failed: &OperationRow, text: &str) -> Vec<NewAlert> {
        let key = AlertKey::op(OperationId(failed.id), OpStep::AutoRollback);
        let mut out = alerts::route_kinds(&self.config, &KINDS, failed.env.as_ref(), &key, text);
        let asked = ChatId(failed.chat_id);
        if failed.chat_id != 0 && out.iter().all(|a| a.chat != asked) {
            out.push(NewAlert {
                urgent: true,
                ..NewAlert::message(
                    key.in_chat(asked),
                    AlertKind::Failure,
                    failed.env.clone(),
                    asked,
                    text.to_owned(),
                )
            });
        }
        out
    }

    /// Posts what came of an automatic rollback (or why there is none).
    async fn tell(&self, failed: &OperationRow, text: String) {
        let key = AlertKey::op(OperationId(failed.id), OpStep::AutoRollbackAnswer);
        let alerts = alerts::route_kinds(&self.config, &KINDS, failed.env.as_ref(), &key, &text);
        match self.store.enqueue_alerts(&alerts).await {
            Ok(_) => self.outbox.notify_one(),
            Err(e) => {
                tracing::error!(error = %e, operation = failed.id, "automatic rollback: not told")
            }
        }
    }

    /// The chat an automatic rollback is asked in: the deploy's, else the
    /// first approval chat of its environment (its prompt goes there).
    fn asking_chat(&self, op: &OperationRow) -> ChatId {
        if op.chat_id != 0 {
            return ChatId(op.chat_id);
        }
        self.config
            .chats
            .iter()
            .find(|chat| chat.takes(AlertKind::Approval, op.env.as_ref()))
            .map(|chat| chat.id)
            .unwrap_or(ChatId(0))
    }
}

#[cfg(test)]
mod tests {
    use super::auto_request_id;
    use crate::domain::runs::request_id_in;

    /// One request id per deploy (the store's unique key keeps it to one
    /// rollback), in the shape the bot finds in a run's name.
    #[test]
    fn one_request_id_per_deploy_that_runs_find() {
        assert_eq!(auto_request_id(3), auto_request_id(3));
        assert_ne!(auto_request_id(3), auto_request_id(4));
        let id = auto_request_id(42);
        let title = format!("Rollback 1.2.2 to prod ({id})");
        assert_eq!(request_id_in(&title), Some(id.as_str()));
    }
}
