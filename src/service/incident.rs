//! The incident tools: `/lock`, `/unlock`, `/cancel <id>`, `/history`, and
//! the lock keeper (a lock with a duration lifts itself and says so; one
//! without is recalled to the team every `incident.remind_every`).

use std::time::Duration;

use super::approvals::op_title;
use super::{App, Incoming, Reply};
use crate::alerts::format::{escape, from_ms, span, utc};
use crate::alerts::{self, Rendered};
use crate::domain::{AlertKey, EditStep, LockEvent};
use crate::domain::{
    AlertKind, Env, OperationId, OperationKind, OperationState, ReleaseType, UserId,
};
use crate::store::Transition;
use crate::store::{LockRow, NewAlert, NewLock, now_ms};

/// States in which a request may still be withdrawn: nothing dispatched.
const WITHDRAWABLE: [OperationState; 3] = [
    OperationState::Requested,
    OperationState::AwaitingApproval,
    OperationState::Approved,
];

impl App {
    fn holds_incident_role(&self, msg: &Incoming) -> bool {
        self.config.user(msg.user).is_some_and(|u| {
            crate::domain::may_act_in_incident(&u.roles, &self.config.incident.roles).is_ok()
        })
    }

    fn incident_refusal(&self, what: &str) -> (String, Option<Reply>) {
        let names: Vec<&str> = self
            .config
            .incident
            .roles
            .iter()
            .map(|r| r.as_str())
            .collect();
        (
            "refused:not_allowed".into(),
            Some(Reply::new(format!(
                "⛔ {what} is for: {}. You hold none of these roles.",
                escape(&names.join(", "))
            ))),
        )
    }

    /// Alerts of an environment's lock events, and whether `chat` gets one
    /// (then the command needs no answer of its own).
    fn lock_alerts(
        &self,
        env: &Env,
        key: AlertKey,
        text: String,
        chat: i64,
    ) -> (Vec<NewAlert>, bool) {
        let alerts = alerts::route(
            &self.config,
            &Rendered {
                kind: AlertKind::Deployment,
                env: Some(env.clone()),
                key,
                text,
            },
        );
        let told = alerts.iter().any(|a| a.chat.0 == chat);
        (alerts, told)
    }

    /// `/lock <env> <reason> [duration]`.
    pub(super) async fn lock(
        &self,
        msg: &Incoming,
        env: &Env,
        reason: &str,
        duration: Option<Duration>,
    ) -> (String, Option<Reply>) {
        if !self.holds_incident_role(msg) {
            return self.incident_refusal("Locking");
        }
        let now = now_ms();
        let expires_at = duration.map(|d| now + d.as_millis() as i64);
        let until = match (duration, expires_at) {
            (Some(d), Some(at)) => format!(
                "until {} (for {}), then it lifts itself",
                utc(from_ms(at)),
                span(d.as_secs() as i64)
            ),
            _ => format!("until /unlock {}", escape(env.as_str())),
        };
        let who = self.name_of(msg.user.0);
        let text = format!(
            "🔒 <b>{}</b> locked by {}: {}\nDeploys wait {until}; rollbacks still go.",
            escape(env.as_str()),
            escape(&who),
            escape(reason)
        );
        let (alerts, told) = self.lock_alerts(
            env,
            AlertKey::lock(env.clone(), now, LockEvent::Locked),
            text,
            msg.chat.0,
        );
        let lock = NewLock {
            env: env.as_str().to_owned(),
            locked_by: msg.user,
            reason: reason.to_owned(),
            lasts_ms: duration.map(|d| d.as_millis() as i64),
        };
        let audit = self.audit(
            Some(msg.user),
            Some(msg.chat.0),
            "lock",
            "locked",
            None,
            format!("{env}: {reason}"),
        );
        match self.store.lock_env(&lock, &audit, &alerts).await {
            Ok(None) => {
                self.outbox.notify_one();
                let reply = (!told).then(|| {
                    Reply::new(format!(
                        "🔒 {} is locked; the team chat is told.",
                        escape(env.as_str())
                    ))
                });
                ("locked".into(), reply)
            }
            Ok(Some(held)) => (
                "refused:locked".into(),
                Some(Reply::new(format!(
                    "🔒 {} is already locked by {} since {}: {}. /unlock {} first to change it.",
                    escape(env.as_str()),
                    escape(&self.name_of(held.locked_by)),
                    utc(from_ms(held.locked_at)),
                    escape(&held.reason),
                    escape(env.as_str())
                ))),
            ),
            Err(e) => self.internal_error("lock: store", &e),
        }
    }

    /// `/unlock <env>`.
    pub(super) async fn unlock(&self, msg: &Incoming, env: &Env) -> (String, Option<Reply>) {
        if !self.holds_incident_role(msg) {
            return self.incident_refusal("Unlocking");
        }
        let held = match self.store.active_locks().await {
            Ok(locks) => locks.into_iter().find(|l| l.env == env.as_str()),
            Err(e) => return self.internal_error("unlock: store", &e),
        };
        let Some(held) = held else {
            return (
                "answered".into(),
                Some(Reply::new(format!(
                    "🔓 {} is not locked.",
                    escape(env.as_str())
                ))),
            );
        };
        let text = format!(
            "🔓 <b>{}</b> unlocked by {} (locked by {} for {}: {}).",
            escape(env.as_str()),
            escape(&self.name_of(msg.user.0)),
            escape(&self.name_of(held.locked_by)),
            span((now_ms() - held.locked_at) / 1000),
            escape(&held.reason)
        );
        let (alerts, told) = self.lock_alerts(
            env,
            AlertKey::lock(env.clone(), held.locked_at, LockEvent::Unlocked),
            text,
            msg.chat.0,
        );
        let audit = self.audit(
            Some(msg.user),
            Some(msg.chat.0),
            "unlock",
            "unlocked",
            None,
            format!("{env}: was {}", held.reason),
        );
        match self
            .store
            .unlock_env(env.as_str(), held.locked_at, &audit, &alerts)
            .await
        {
            Ok(true) => {
                self.outbox.notify_one();
                let reply = (!told)
                    .then(|| Reply::new(format!("🔓 {} is unlocked.", escape(env.as_str()))));
                ("unlocked".into(), reply)
            }
            Ok(false) => (
                "answered".into(),
                Some(Reply::new(format!(
                    "🔓 {} was unlocked meanwhile.",
                    escape(env.as_str())
                ))),
            ),
            Err(e) => self.internal_error("unlock: store", &e),
        }
    }

    /// `/cancel <id>`: the requester, or someone holding an incident role,
    /// withdraws a request nothing was dispatched for yet.
    pub(super) async fn cancel_request(
        &self,
        msg: &Incoming,
        id: OperationId,
    ) -> (String, Option<Reply>) {
        let op = match self.store.operation(id).await {
            Ok(Some(op)) => op,
            Ok(None) => {
                return (
                    "refused:unknown".into(),
                    Some(Reply::new(format!("There is no request #{}.", id.0))),
                );
            }
            Err(e) => return self.internal_error("cancel: store", &e),
        };
        let roles = self
            .config
            .user(msg.user)
            .map(|u| u.roles.as_slice())
            .unwrap_or(&[]);
        let incident_roles = &self.config.incident.roles;
        if !crate::domain::may_withdraw(msg.user, UserId(op.requested_by), roles, incident_roles) {
            let names: Vec<&str> = incident_roles.iter().map(|r| r.as_str()).collect();
            return (
                "refused:not_yours".into(),
                Some(Reply::new(format!(
                    "⛔ #{} is {}'s request: only they, or {}, may withdraw it.",
                    op.id,
                    escape(&self.name_of(op.requested_by)),
                    escape(&names.join(", "))
                ))),
            );
        }
        if !WITHDRAWABLE.contains(&op.state) {
            let why = if op.state.is_final() {
                format!("#{} is {} already.", op.id, op.state)
            } else {
                format!(
                    "#{} is {}: its workflow was dispatched, so it cannot be withdrawn here. Cancel the run in GitHub Actions.",
                    op.id, op.state
                )
            };
            return ("refused:too_late".into(), Some(Reply::new(why)));
        }
        let who = self.name_of(msg.user.0);
        let title = if op.kind == OperationKind::Release {
            format!("Release {}", escape(&op.version))
        } else {
            op_title(&op)
        };
        let text = format!(
            "🚫 <b>{title}</b> · #{}\nAsked by {}\nWithdrawn by {}. Nothing was dispatched.",
            op.id,
            escape(&self.name_of(op.requested_by)),
            escape(&who)
        );
        let edits = self.edit_prompts(&op, EditStep::Cancelled, text).await;
        let audit = self.audit(
            Some(msg.user),
            Some(msg.chat.0),
            "operation:cancel",
            "cancelled",
            Some(id),
            String::new(),
        );
        match self
            .transition(
                id,
                Transition::new(&WITHDRAWABLE, OperationState::Cancelled)
                    .detail(&format!("withdrawn by {who}")),
                &audit,
                &edits,
            )
            .await
        {
            Ok(true) => (
                "cancelled".into(),
                Some(Reply::new(format!("🚫 #{} withdrawn.", op.id))),
            ),
            Ok(false) => (
                "refused:too_late".into(),
                Some(Reply::new(format!(
                    "#{} moved on meanwhile; nothing was withdrawn.",
                    op.id
                ))),
            ),
            Err(e) => self.internal_error("cancel: store", &e),
        }
    }

    /// `/history [env] [n]`: the last operations, newest first.
    pub(super) async fn history(&self, env: Option<&Env>, n: u32) -> (String, Option<Reply>) {
        let ops = match self.store.history(env, i64::from(n)).await {
            Ok(ops) => ops,
            Err(e) => return self.internal_error("history: store", &e),
        };
        let scope = env.map_or_else(|| "all environments".to_owned(), |e| e.as_str().to_owned());
        if ops.is_empty() {
            return (
                "answered".into(),
                Some(Reply::new(format!("📜 Nothing yet in {}.", escape(&scope)))),
            );
        }
        let mut text = format!(
            "📜 <b>History</b> · {} · last {}",
            escape(&scope),
            ops.len()
        );
        for op in &ops {
            let what = match op.kind {
                OperationKind::Release => format!(
                    "release {} ({})",
                    escape(&op.version),
                    escape(op.release_type.map_or("?", ReleaseType::as_str))
                ),
                OperationKind::Rollback => format!(
                    "rollback {} → {}",
                    escape(op.env_name().unwrap_or("?")),
                    escape(&op.version)
                ),
                OperationKind::Deploy => format!(
                    "deploy {} → {}",
                    escape(&op.version),
                    escape(op.env_name().unwrap_or("?"))
                ),
            };
            let approvers = self
                .store
                .approvers_of(OperationId(op.id))
                .await
                .unwrap_or_default();
            let approved = if approvers.is_empty() {
                String::new()
            } else {
                let names: Vec<String> = approvers.iter().map(|u| self.name_of(*u)).collect();
                format!(" · approved by {}", escape(&names.join(", ")))
            };
            let took = match (op.state.is_final(), op.dispatched_at) {
                (true, Some(at)) => format!(" · took {}", span((op.updated_at - at) / 1000)),
                _ => String::new(),
            };
            let icon = match op.state {
                OperationState::Succeeded => "✅",
                OperationState::Failed | OperationState::Unhealthy => "❌",
                OperationState::Rejected | OperationState::Expired | OperationState::Cancelled => {
                    "🚫"
                }
                _ => "⏳",
            };
            text.push_str(&format!(
                "\n{icon} #{} {what} · {} · asked by {}{approved} · {}{took}",
                op.id,
                op.state,
                escape(&self.name_of(op.requested_by)),
                utc(from_ms(op.created_at))
            ));
        }
        ("answered".into(), Some(Reply::new(text)))
    }

    /// Lifts the locks whose time is up, and recalls those held without
    /// one, each said once (compare-and-set on the lock row).
    pub async fn keep_locks(&self) {
        let locks = match self.store.all_locks().await {
            Ok(locks) => locks,
            Err(e) => {
                tracing::warn!(error = %e, "locks: store unreadable");
                return;
            }
        };
        let now = now_ms();
        let every = self.config.incident.remind_every.as_millis() as i64;
        for lock in locks {
            let Ok(env) = Env::parse(&lock.env) else {
                continue;
            };
            match lock.expires_at {
                Some(at) if at <= now => self.lift(&env, &lock).await,
                Some(_) => {}
                None => self.remind(&env, &lock, now - every).await,
            }
        }
    }

    async fn lift(&self, env: &Env, lock: &LockRow) {
        let text = format!(
            "🔓 <b>{}</b>'s lock lifted itself after {} (locked by {}: {}). Deploys go again.",
            escape(env.as_str()),
            span((lock.expires_at.unwrap_or(lock.locked_at) - lock.locked_at) / 1000),
            escape(&self.name_of(lock.locked_by)),
            escape(&lock.reason)
        );
        let (alerts, _) = self.lock_alerts(
            env,
            AlertKey::lock(env.clone(), lock.locked_at, LockEvent::Lifted),
            text,
            0,
        );
        let audit = self.audit(
            None,
            None,
            "lock:expire",
            "unlocked",
            None,
            format!("{env}: {}", lock.reason),
        );
        match self
            .store
            .unlock_env(env.as_str(), lock.locked_at, &audit, &alerts)
            .await
        {
            Ok(true) => self.outbox.notify_one(),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "locks: lift not stored"),
        }
    }

    async fn remind(&self, env: &Env, lock: &LockRow, before: i64) {
        let now = now_ms();
        let text = format!(
            "🔒 Reminder: <b>{}</b> is still locked by {} since {} ({} ago): {}. /unlock {} when it is over.",
            escape(env.as_str()),
            escape(&self.name_of(lock.locked_by)),
            utc(from_ms(lock.locked_at)),
            span((now - lock.locked_at) / 1000),
            escape(&lock.reason),
            escape(env.as_str())
        );
        let (alerts, _) = self.lock_alerts(
            env,
            AlertKey::lock(
                env.clone(),
                lock.locked_at,
                LockEvent::Reminder { at_ms: now },
            ),
            text,
            0,
        );
        let audit = self.audit(
            None,
            None,
            "lock:remind",
            "reminded",
            None,
            env.as_str().to_owned(),
        );
        match self
            .store
            .remind_lock(env.as_str(), lock.locked_at, before, &audit, &alerts)
            .await
        {
            Ok(true) => self.outbox.notify_one(),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "locks: reminder not stored"),
        }
    }
}

impl App {
    /// The environment whose failures no mute silences: the last in
    /// promotion order (prod).
    fn spared_env(&self) -> Option<String> {
        crate::domain::last_env(self.config.environments.keys()).map(|e| e.as_str().to_owned())
    }

    /// What a mute may name: an alert kind (not approval prompts) or an
    /// environment.
    fn mute_target(&self, target: &str) -> Result<(), String> {
        let kinds: Vec<&str> = AlertKind::ALL
            .iter()
            .filter(|k| **k != AlertKind::Approval)
            .map(|k| k.as_str())
            .collect();
        let envs: Vec<&str> = self.config.environments.keys().map(Env::as_str).collect();
        if kinds.contains(&target) || envs.contains(&target) {
            Ok(())
        } else {
            Err(format!(
                "❌ {} is neither an alert kind ({}) nor an environment ({}). Approval prompts cannot be muted.",
                escape(target),
                kinds.join(", "),
                envs.join(", ")
            ))
        }
    }

    /// `/mute <kind|env> <duration>`: this chat stops receiving those
    /// alerts until then; failures of prod still come.
    pub(super) async fn mute(
        &self,
        msg: &Incoming,
        target: &str,
        duration: Duration,
    ) -> (String, Option<Reply>) {
        if !self.holds_incident_role(msg) {
            return self.incident_refusal("Muting");
        }
        if let Err(why) = self.mute_target(target) {
            return ("invalid".into(), Some(Reply::new(why)));
        }
        let until = now_ms() + duration.as_millis() as i64;
        let spare = self.spared_env();
        let row = crate::store::MuteRow {
            chat_id: msg.chat.0,
            target: target.to_owned(),
            until,
            muted_by: msg.user.0,
            spare_env: spare.clone(),
        };
        let audit = self.audit(
            Some(msg.user),
            Some(msg.chat.0),
            "mute",
            "muted",
            None,
            format!("{target} for {}", span(duration.as_secs() as i64)),
        );
        if let Err(e) = self.store.mute(&row, &audit).await {
            return self.internal_error("mute: store", &e);
        }
        let spared = match &spare {
            Some(env)
                if ["failure", "health", "deployment", "rollback", env.as_str()]
                    .contains(&target) =>
            {
                format!(
                    " Failures and health alerts in {} still come through.",
                    escape(env)
                )
            }
            _ => String::new(),
        };
        (
            "muted".into(),
            Some(Reply::new(format!(
                "🔕 {} alerts are muted in this chat until {} (for {}).{spared} /unmute {} ends it.",
                escape(target),
                utc(from_ms(until)),
                span(duration.as_secs() as i64),
                escape(target)
            ))),
        )
    }

    /// `/unmute <kind|env>`.
    pub(super) async fn unmute(&self, msg: &Incoming, target: &str) -> (String, Option<Reply>) {
        if !self.holds_incident_role(msg) {
            return self.incident_refusal("Unmuting");
        }
        let audit = self.audit(
            Some(msg.user),
            Some(msg.chat.0),
            "unmute",
            "unmuted",
            None,
            target.to_owned(),
        );
        match self.store.unmute(msg.chat.0, target, &audit).await {
            Ok(true) => (
                "unmuted".into(),
                Some(Reply::new(format!(
                    "🔔 {} alerts come to this chat again.",
                    escape(target)
                ))),
            ),
            Ok(false) => (
                "answered".into(),
                Some(Reply::new(format!(
                    "🔔 {} alerts were not muted here.",
                    escape(target)
                ))),
            ),
            Err(e) => self.internal_error("unmute: store", &e),
        }
    }

    /// The status line about this chat's mutes (empty without any).
    pub(super) async fn mutes_line(&self, chat: i64) -> String {
        let mutes = self.store.mutes_of(chat).await.unwrap_or_default();
        if mutes.is_empty() {
            return String::new();
        }
        let list: Vec<String> = mutes
            .iter()
            .map(|m| {
                format!(
                    "{} until {} (by {})",
                    escape(&m.target),
                    utc(from_ms(m.until)),
                    escape(&self.name_of(m.muted_by))
                )
            })
            .collect();
        format!("\n🔕 Muted in this chat: {}", list.join("; "))
    }
}
