//! `/mute` and `/unmute`: a chat stops receiving one alert kind or one
//! environment's alerts for a while; failures of the last environment
//! (prod) come through any mute.

use std::time::Duration;

use crate::alerts::format::span;
use crate::domain::{AlertKind, Env};
use crate::messages::mutes as text;
use crate::service::{App, Incoming, Reply};
use crate::store::now_ms;

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
            Err(text::not_a_target(target, &kinds, &envs))
        }
    }

    /// `/mute <kind|env> <duration>`: this chat stops receiving those
    /// alerts until then; failures of prod still come.
    pub(in crate::service) async fn mute(
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
        // Said only where the mute would otherwise silence them.
        let spared = spare
            .as_deref()
            .filter(|env| ["failure", "health", "deployment", "rollback", env].contains(&target));
        let secs = duration.as_secs() as i64;
        (
            "muted".into(),
            Some(Reply::new(text::muted(target, until, secs, spared))),
        )
    }

    /// `/unmute <kind|env>`.
    pub(in crate::service) async fn unmute(
        &self,
        msg: &Incoming,
        target: &str,
    ) -> (String, Option<Reply>) {
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
            Ok(true) => ("unmuted".into(), Some(Reply::new(text::unmuted(target)))),
            Ok(false) => ("answered".into(), Some(Reply::new(text::not_muted(target)))),
            Err(e) => self.internal_error("unmute: store", &e),
        }
    }

    /// The status line about this chat's mutes (empty without any).
    pub(in crate::service) async fn mutes_line(&self, chat: i64) -> String {
        let mutes = self.store.mutes_of(chat).await.unwrap_or_default();
        let named: Vec<(&str, i64, String)> = mutes
            .iter()
            .map(|m| (m.target.as_str(), m.until, self.name_of(m.muted_by)))
            .collect();
        let list: Vec<(&str, i64, &str)> = named
            .iter()
            .map(|(target, until, by)| (*target, *until, by.as_str()))
            .collect();
        text::status_line(&list)
    }
}
