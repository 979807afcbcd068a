//! `/lock`, `/unlock`, and the lock keeper: a lock with a duration lifts
//! itself and says so; one without is recalled to the team every
//! `incident.remind_every`.

use std::time::Duration;

use crate::alerts::{self, Rendered};
use crate::domain::{AlertKey, AlertKind, Env, LockEvent};
use crate::messages::locks as text;
use crate::service::{App, Incoming, Reply};
use crate::store::{LockRow, NewAlert, NewLock, now_ms};

impl App {
    /// Alerts of an environment's lock events (or of a freeze's, of one
    /// environment or, `None`, of all), and whether `chat` gets one (then
    /// the command needs no answer of its own).
    pub(in crate::service) fn lock_alerts(
        &self,
        env: Option<&Env>,
        key: AlertKey,
        text: String,
        chat: i64,
    ) -> (Vec<NewAlert>, bool) {
        let alerts = alerts::route(
            &self.config,
            &Rendered {
                kind: AlertKind::Deployment,
                env: env.cloned(),
                key,
                text,
            },
        );
        let told = alerts.iter().any(|a| a.chat.0 == chat);
        (alerts, told)
    }

    /// `/lock <env> <reason> [duration]`.
    pub(in crate::service) async fn lock(
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
        let lasts = duration.map(|d| (now + d.as_millis() as i64, d.as_secs() as i64));
        let who = self.name_of(msg.user.0);
        let (alerts, told) = self.lock_alerts(
            Some(env),
            AlertKey::lock(env.clone(), now, LockEvent::Locked),
            text::locked(env.as_str(), &who, reason, lasts),
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
                let reply = (!told).then(|| Reply::new(text::locked_reply(env.as_str())));
                ("locked".into(), reply)
            }
            Ok(Some(held)) => (
                "refused:locked".into(),
                Some(Reply::new(text::already_locked(
                    env.as_str(),
                    &self.name_of(held.locked_by),
                    held.locked_at,
                    &held.reason,
                ))),
            ),
            Err(e) => self.internal_error("lock: store", &e),
        }
    }

    /// `/unlock <env>`.
    pub(in crate::service) async fn unlock(
        &self,
        msg: &Incoming,
        env: &Env,
    ) -> (String, Option<Reply>) {
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
                Some(Reply::new(text::not_locked(env.as_str()))),
            );
        };
        let alert = text::unlocked(
            env.as_str(),
            &self.name_of(msg.user.0),
            &self.name_of(held.locked_by),
            (now_ms() - held.locked_at) / 1000,
            &held.reason,
        );
        let (alerts, told) = self.lock_alerts(
            Some(env),
            AlertKey::lock(env.clone(), held.locked_at, LockEvent::Unlocked),
            alert,
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
                let reply = (!told).then(|| Reply::new(text::unlocked_reply(env.as_str())));
                ("unlocked".into(), reply)
            }
            Ok(false) => (
                "answered".into(),
                Some(Reply::new(text::unlocked_meanwhile(env.as_str()))),
            ),
            Err(e) => self.internal_error("unlock: store", &e),
        }
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
        let alert = text::lifted(
            env.as_str(),
            (lock.expires_at.unwrap_or(lock.locked_at) - lock.locked_at) / 1000,
            &self.name_of(lock.locked_by),
            &lock.reason,
        );
        let (alerts, _) = self.lock_alerts(
            Some(env),
            AlertKey::lock(env.clone(), lock.locked_at, LockEvent::Lifted),
            alert,
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
        let alert = text::reminder(
            env.as_str(),
            &self.name_of(lock.locked_by),
            lock.locked_at,
            (now - lock.locked_at) / 1000,
            &lock.reason,
        );
        let (alerts, _) = self.lock_alerts(
            Some(env),
            AlertKey::lock(
                env.clone(),
                lock.locked_at,
                LockEvent::Reminder { at_ms: now },
            ),
            alert,
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
