//! Freezes: `/freeze` and `/unfreeze` (ad-hoc, in the store, announced
//! like a lock), and what holds an environment now: the windows of
//! `[[freeze]]` and the ad-hoc freezes, judged by the domain.

use std::time::Duration;

use chrono::Utc;

use crate::alerts;
use crate::domain::freeze::{AdHoc, FreezeScope, Frozen, Upcoming, frozen_at, next_freeze};
use crate::domain::{AlertKey, AlertKind, Env, FreezeRefusal};
use crate::messages::freeze as text;
use crate::service::{App, Incoming, Reply};
use crate::store::{FreezeRow, NewFreeze, StoreError};

impl App {
    /// The freeze holding `env` now, if any (of the freezes in force, the
    /// one that ends last).
    pub(in crate::service) async fn frozen_now(
        &self,
        env: &Env,
    ) -> Result<Option<Frozen>, StoreError> {
        let rows = self.store.active_freezes().await?;
        Ok(self.frozen_by(&rows, env))
    }

    /// The freeze holding `env` now under these ad-hoc freezes and the
    /// configured windows.
    pub(in crate::service) fn frozen_by(&self, rows: &[FreezeRow], env: &Env) -> Option<Frozen> {
        let adhoc: Vec<AdHoc> = rows
            .iter()
            .filter_map(|r| {
                Some(AdHoc {
                    scope: FreezeScope::parse(&r.scope)?,
                    reason: r.reason.clone(),
                    by: self.name_of(r.frozen_by),
                    until: crate::alerts::format::from_ms(r.until_at),
                })
            })
            .collect();
        frozen_at(&self.config.freeze_windows(), &adhoc, env, Utc::now())
    }

    /// The configured window of `env` that starts next.
    pub(in crate::service) fn next_freeze(&self, env: &Env) -> Option<Upcoming> {
        next_freeze(&self.config.freeze_windows(), env, Utc::now())
    }

    /// Alerts of a freeze event, routed as a lock's (deployment news),
    /// and whether `chat` gets one.
    fn freeze_alerts(
        &self,
        scope: &FreezeScope,
        key: AlertKey,
        text: String,
        chat: i64,
    ) -> (Vec<crate::store::NewAlert>, bool) {
        let env = match scope {
            FreezeScope::All => None,
            FreezeScope::Env(env) => Some(env),
        };
        self.lock_alerts(env, key, text, chat)
    }

    /// `/freeze <env|all> <duration> <reason>`: who may is who may lock.
    pub(in crate::service) async fn freeze(
        &self,
        msg: &Incoming,
        scope: &FreezeScope,
        duration: Duration,
        reason: &str,
    ) -> (String, Option<Reply>) {
        if !self.holds_incident_role(msg) {
            return self.incident_refusal("Freezing");
        }
        let now = crate::store::now_ms();
        let lasts_ms = duration.as_millis() as i64;
        let who = self.name_of(msg.user.0);
        let until = crate::alerts::format::from_ms(now + lasts_ms);
        let (alerts, told) = self.freeze_alerts(
            scope,
            AlertKey::freeze(scope.clone(), now, false),
            text::frozen(
                scope.as_str(),
                &who,
                reason,
                until,
                duration.as_secs() as i64,
            ),
            msg.chat.0,
        );
        let freeze = NewFreeze {
            scope: scope.as_str().to_owned(),
            frozen_by: msg.user,
            reason: reason.to_owned(),
            lasts_ms,
        };
        let audit = self.audit(
            Some(msg.user),
            Some(msg.chat.0),
            "freeze",
            "frozen",
            None,
            format!(
                "{scope} for {}: {reason}",
                humantime::format_duration(duration)
            ),
        );
        match self.store.freeze(&freeze, &audit, &alerts).await {
            Ok(None) => {
                self.outbox.notify_one();
                let reply = (!told).then(|| Reply::new(text::frozen_reply(scope.as_str())));
                ("frozen".into(), reply)
            }
            Ok(Some(held)) => (
                "refused:frozen".into(),
                Some(Reply::new(text::already_frozen(
                    scope.as_str(),
                    &self.name_of(held.frozen_by),
                    crate::alerts::format::from_ms(held.until_at),
                    &held.reason,
                ))),
            ),
            Err(e) => self.internal_error("freeze: store", &e),
        }
    }

    /// `/unfreeze <env|all>`: lifts the freeze made with `/freeze` for
    /// exactly that scope (windows in bot.toml stay).
    pub(in crate::service) async fn unfreeze(
        &self,
        msg: &Incoming,
        scope: &FreezeScope,
    ) -> (String, Option<Reply>) {
        if !self.holds_incident_role(msg) {
            return self.incident_refusal("Unfreezing");
        }
        let rows = match self.store.active_freezes().await {
            Ok(rows) => rows,
            Err(e) => return self.internal_error("unfreeze: store", &e),
        };
        let Some(held) = rows.iter().find(|r| r.scope == scope.as_str()).cloned() else {
            let with_all = rows.iter().any(|r| r.scope == FreezeScope::All.as_str());
            let answer = match scope {
                FreezeScope::Env(env) if with_all => text::frozen_with_all(env.as_str()),
                _ => text::not_frozen(scope.as_str()),
            };
            return ("answered".into(), Some(Reply::new(answer)));
        };
        let (alerts, told) = self.freeze_alerts(
            scope,
            AlertKey::freeze(scope.clone(), held.frozen_at, true),
            text::unfrozen(
                scope.as_str(),
                &self.name_of(msg.user.0),
                &self.name_of(held.frozen_by),
                &held.reason,
            ),
            msg.chat.0,
        );
        let audit = self.audit(
            Some(msg.user),
            Some(msg.chat.0),
            "unfreeze",
            "unfrozen",
            None,
            format!("{scope}: was {}", held.reason),
        );
        match self
            .store
            .unfreeze(scope.as_str(), held.frozen_at, &audit, &alerts)
            .await
        {
            Ok(true) => {
                self.outbox.notify_one();
                let reply = (!told).then(|| Reply::new(text::unfrozen_reply(scope.as_str())));
                ("unfrozen".into(), reply)
            }
            Ok(false) => (
                "answered".into(),
                Some(Reply::new(text::unfrozen_meanwhile(scope.as_str()))),
            ),
            Err(e) => self.internal_error("unfreeze: store", &e),
        }
    }
}

impl App {
    /// Whether a freeze stops this deploy (the policy's verdict on the
    /// freeze holding `env` now): `Err` is the answer refusing it;
    /// `Ok(Some(freeze))`, a freeze its requester overrides.
    pub(in crate::service) async fn deploy_freeze(
        &self,
        msg: &Incoming,
        env: &Env,
        tag: &str,
        policy: &crate::domain::EnvPolicy,
        overriding: Option<&str>,
        dry_run: bool,
    ) -> Result<Option<Frozen>, (String, Option<Reply>)> {
        let frozen = match self.frozen_now(env).await {
            Ok(frozen) => frozen,
            Err(e) => return Err(self.internal_error("deploy: freezes", &e)),
        };
        let roles = self
            .config
            .user(msg.user)
            .map(|u| u.roles.as_slice())
            .unwrap_or(&[]);
        let refusal = match crate::domain::judge_freeze(env, frozen, overriding, roles, policy) {
            Ok(overridden) => return Ok(overridden),
            Err(refusal) => refusal,
        };
        let code = format!("refused:{}", refusal.code());
        let answer = match (&refusal, dry_run) {
            (FreezeRefusal::Frozen { freeze, .. }, true) => {
                crate::messages::requests::deploy_dry_run_refused(
                    env,
                    tag,
                    &text::frozen_plain(env.as_str(), freeze),
                )
            }
            (FreezeRefusal::Frozen { freeze, .. }, false) => {
                text::frozen_refusal(env.as_str(), freeze, tag)
            }
            (FreezeRefusal::NotAnOverrider { roles, .. }, _) => {
                text::not_an_overrider(env.as_str(), roles)
            }
        };
        Err((code, Some(Reply::new(answer))))
    }

    /// The loud announcement of a deploy asked inside a freeze it
    /// overrides: where deploys and failures go (the on-call hears it).
    pub(in crate::service) fn override_alerts(
        &self,
        env: &Env,
        tag: &str,
        requester: &str,
        freeze: &Frozen,
        reason: &str,
    ) -> Vec<crate::store::NewAlert> {
        alerts::route_kinds(
            &self.config,
            &[AlertKind::Deployment, AlertKind::Failure],
            Some(env),
            &AlertKey::op(crate::domain::NewOp, crate::domain::OpStep::FreezeOverride),
            &text::override_alert(requester, env.as_str(), tag, freeze, reason),
        )
    }
}
