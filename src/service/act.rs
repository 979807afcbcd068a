//! Acting from a failure alert: its buttons Roll back (to the last version
//! confirmed healthy there before), Lock and "I'm on it". Roll back and
//! Lock are the commands they stand for, given by whoever tapped in the
//! chat tapped in: the same access rules, the same checks and approvals
//! (the rollback flow itself), the same answers and audit, so a button
//! can never do what the command would refuse.

use super::guide::TapOutcome;
use super::taps::{Button, Tap, TapAnswer};
use super::{App, Incoming, Reply};
use crate::alerts::format::span;
use crate::domain::{
    self, Access, AlertAct, AlertKey, AlertKind, Callback, ChatId, Command, EditStep, Env,
    OperationId, OperationKind, OperationState, Subject, Version,
};
use crate::messages;
use crate::messages::act as say;
use crate::store::{NewAlert, OperationRow, OutboxRow, now_ms};

impl App {
    /// Puts a failure alert's buttons under every alert about `op` (a
    /// deploy or rollback that failed or ended unhealthy in an
    /// environment); Roll back only when there is a version to go to.
    pub(super) async fn with_alert_buttons(&self, op: &OperationRow, alerts: &mut [NewAlert]) {
        let Some(env) = op.env.as_ref() else {
            return;
        };
        if op.kind == OperationKind::Release || alerts.is_empty() {
            return;
        }
        let id = OperationId(op.id);
        let button = |text: String, act: AlertAct| Button {
            text,
            data: Callback::Alert { op: id, act }.encode(),
        };
        let mut row = Vec::with_capacity(3);
        if let Some(version) = self.last_healthy_before(env, op).await {
            row.push(button(say::roll_back_button(&version), AlertAct::RollBack));
        }
        row.push(button(say::lock_button(), AlertAct::Lock));
        row.push(button(say::ack_button(), AlertAct::Acknowledge));
        let buttons = serde_json::to_string(&vec![row]).expect("buttons serialise");
        for alert in alerts {
            alert.buttons = Some(buttons.clone());
        }
    }

    /// A tap on one of a failure alert's buttons (`b:{op}:r|l|a`).
    pub(super) async fn alert_tap(&self, tap: &Tap, id: OperationId, act: AlertAct) -> TapOutcome {
        let op = match self.store.operation(id).await {
            Ok(Some(op))
                if op.env.is_some()
                    && op.kind != OperationKind::Release
                    && matches!(op.state, OperationState::Failed | OperationState::Unhealthy) =>
            {
                op
            }
            Ok(_) => {
                let text = messages::common::not_my_button();
                return self
                    .refuse_tap(tap, "alert", "forged", None, text)
                    .await
                    .into();
            }
            Err(e) => {
                let text = self.internal_failure("alert tap: store", &e);
                return TapAnswer { text, alert: true }.into();
            }
        };
        let env = op.env.clone().expect("checked above");
        let id = OperationId(op.id);
        match act {
            AlertAct::RollBack => {
                let target = self.last_healthy_before(&env, &op).await;
                self.roll_back_to(tap, Some(id), env, target).await
            }
            AlertAct::Lock => {
                let reason = say::lock_reason(&op);
                self.lock_for(tap, Some(id), env, reason).await
            }
            AlertAct::Acknowledge => self.acknowledge(tap, &op).await.into(),
        }
    }

    /// The buttons under a health-monitor alert about the environment at
    /// `index` in the config, where `running` runs now.
    pub(super) async fn health_buttons(&self, index: usize, running: Option<&str>) -> String {
        let button = |text: String, act: AlertAct| Button {
            text,
            data: Callback::<OperationId>::Health { env: index, act }.encode(),
        };
        let mut row = Vec::with_capacity(3);
        let env = self.config.environments.get_index(index).map(|(e, _)| e);
        if let Some(env) = env
            && let Some(version) = self.last_healthy_other_than(env, running).await
        {
            row.push(button(say::roll_back_button(&version), AlertAct::RollBack));
        }
        row.push(button(say::lock_button(), AlertAct::Lock));
        row.push(button(say::ack_button(), AlertAct::Acknowledge));
        serde_json::to_string(&vec![row]).expect("buttons serialise")
    }

    /// The newest version confirmed healthy in `env` other than `running`.
    async fn last_healthy_other_than(&self, env: &Env, running: Option<&str>) -> Option<String> {
        let succeeded = self.store.succeeded_in(env, 50).await.ok()?;
        succeeded
            .into_iter()
            .find(|op| {
                running.is_none_or(|r| !crate::adapters::ecs::tag_is_version(r, &op.version))
            })
            .map(|op| op.version)
    }

    /// A tap on one of a health-monitor alert's buttons (`h:{index}:r|l|a`).
    pub(super) async fn health_tap(&self, tap: &Tap, index: usize, act: AlertAct) -> TapOutcome {
        let Some((env, cfg)) = self.config.environments.get_index(index) else {
            let text = messages::common::not_my_button();
            return self
                .refuse_tap(tap, "alert", "forged", None, text)
                .await
                .into();
        };
        let env = env.clone();
        match act {
            AlertAct::RollBack => {
                let running = self.running_tag(cfg).await.ok().flatten();
                let target = self.last_healthy_other_than(&env, running.as_deref()).await;
                self.roll_back_to(tap, None, env, target).await
            }
            AlertAct::Lock => {
                let reason = say::health_lock_reason(env.as_str());
                self.lock_for(tap, None, env, reason).await
            }
            AlertAct::Acknowledge => self.acknowledge_alarms(tap, index, &env).await.into(),
        }
    }

    /// "I'm on it" under a health-monitor alert: the tapper takes the
    /// environment's alarms nobody took yet, which stops their escalation;
    /// every copy of them and of their escalations is edited to say who
    /// took them, in the same transaction.
    async fn acknowledge_alarms(&self, tap: &Tap, index: usize, env: &Env) -> TapAnswer {
        if self.config.user(tap.user).is_none() {
            let text = say::ack_refused();
            return self
                .refuse_tap(tap, "ack", "unknown_user", None, text)
                .await;
        }
        let who = self.name_of(tap.user.0);
        let ack = Callback::<OperationId>::Health {
            env: index,
            act: AlertAct::Acknowledge,
        }
        .encode();
        let since = now_ms() - ALARMS_TAKEN_WITHIN_MS;
        let moments = match self.store.alarms_since(env, since).await {
            Ok(rows) => alarm_moments(&rows, &ack)
                .into_iter()
                .map(|(at, _)| at)
                .collect::<Vec<i64>>(),
            Err(e) => {
                let text = self.internal_failure("ack: store", &e);
                return TapAnswer { text, alert: true };
            }
        };
        let audit = self.audit(
            Some(tap.user),
            tap.chat,
            "incident:ack",
            "acknowledged",
            None,
            say::health_lock_reason(env.as_str()),
        );
        let build = |rows: &[OutboxRow]| taken_edits(rows, &ack, &who);
        let taken = match moments.is_empty() {
            // Alarms too old to be escalated still: noted, nothing to stop.
            true => {
                self.audit_quietly(audit).await;
                Ok(None)
            }
            false => {
                self.store
                    .acknowledge_alarms(env, &moments, tap.user, since, &audit, &build)
                    .await
            }
        };
        match taken {
            Ok(None) => {
                self.outbox.notify_one();
                TapAnswer {
                    text: say::acknowledged(&who),
                    alert: false,
                }
            }
            Ok(Some(ack)) => TapAnswer {
                text: say::already_taken(&self.name_of(ack.by.0)),
                alert: false,
            },
            Err(e) => TapAnswer {
                text: self.internal_failure("ack: store", &e),
                alert: true,
            },
        }
    }

    /// Gives `command` as the tapper would have typed it (`text`) in the
    /// chat tapped in: refused as the command would be (the refusal shown
    /// on the tap), else its answer posted in the chat.
    /// Roll back from an alert: `/rollback <env> <target>` as the tapper,
    /// or the answer that there is nothing healthy to go back to.
    async fn roll_back_to(
        &self,
        tap: &Tap,
        op: Option<OperationId>,
        env: Env,
        target: Option<String>,
    ) -> TapOutcome {
        let Some(version) = target.and_then(|v| Version::parse(&v, true).ok()) else {
            let text = say::no_healthy_version(env.as_str());
            return TapAnswer { text, alert: true }.into();
        };
        let text = format!("/rollback {env} {version}");
        let command = Command::Rollback {
            env,
            version,
            break_glass: None,
        };
        self.as_command(tap, op, command, text).await
    }

    /// Lock from an alert: `/lock <env> <reason>` as the tapper.
    async fn lock_for(
        &self,
        tap: &Tap,
        op: Option<OperationId>,
        env: Env,
        reason: String,
    ) -> TapOutcome {
        let text = format!("/lock {env} {reason}");
        let command = Command::Lock {
            env,
            reason,
            duration: None,
        };
        self.as_command(tap, op, command, text).await
    }

    async fn as_command(
        &self,
        tap: &Tap,
        op: Option<OperationId>,
        command: Command,
        text: String,
    ) -> TapOutcome {
        let Some(chat) = tap.chat else {
            let text = messages::common::not_my_button();
            return self
                .refuse_tap(tap, "alert", "forged", None, text)
                .await
                .into();
        };
        let msg = Incoming {
            chat: ChatId(chat),
            private: false,
            user: tap.user,
            user_display: self.name_of(tap.user.0),
            text,
            bot_username: None,
            sent_at: chrono::Utc::now(),
        };
        let roles = self.config.user(tap.user).map(|u| u.roles.as_slice());
        let kind = self.chat_kind(&msg);
        let (outcome, reply) = match domain::access(Some(&command), msg.chat, kind, tap.user, roles)
        {
            Access::Refused(refusal) => (
                format!("refused:{}", refusal.code()),
                Some(Reply::new(messages::common::refused(&refusal.message()))),
            ),
            Access::Allowed => self.run(&command, &msg).await,
        };
        self.audit_quietly(self.audit(
            Some(tap.user),
            Some(chat),
            &format!("tap:{}", command.name()),
            &outcome,
            op,
            crate::alerts::format::clip(&msg.text, 200),
        ))
        .await;
        if outcome.starts_with("refused") || outcome.starts_with("error") {
            let text = reply.as_ref().map(|r| r.html.as_str()).unwrap_or_default();
            return TapAnswer {
                text: say::refusal(text),
                alert: true,
            }
            .into();
        }
        TapOutcome {
            answer: TapAnswer {
                text: say::done(command.name()),
                alert: false,
            },
            edit: None,
            reply,
        }
    }

    /// "I'm on it": the first one to tap takes the failure, which stops
    /// its escalation; every copy of its alert and escalations is edited
    /// to say who took it, in the same transaction.
    async fn acknowledge(&self, tap: &Tap, op: &OperationRow) -> TapAnswer {
        if self.config.user(tap.user).is_none() {
            let text = say::ack_refused();
            return self
                .refuse_tap(tap, "ack", "unknown_user", None, text)
                .await;
        }
        let id = OperationId(op.id);
        let who = self.name_of(tap.user.0);
        let waited = (now_ms() - op.updated_at) / 1000;
        let audit = self.audit(
            Some(tap.user),
            tap.chat,
            "incident:ack",
            "acknowledged",
            Some(id),
            format!("{} after {}", say::lock_reason(op), span(waited)),
        );
        let ack = Callback::Alert {
            op: id,
            act: AlertAct::Acknowledge,
        }
        .encode();
        let build = |rows: &[OutboxRow]| taken_edits(rows, &ack, &who);
        match self.store.acknowledge(id, tap.user, &audit, &build).await {
            Ok(None) => {
                self.outbox.notify_one();
                TapAnswer {
                    text: say::acknowledged(&who),
                    alert: false,
                }
            }
            Ok(Some(ack)) => TapAnswer {
                text: say::already_taken(&self.name_of(ack.by.0)),
                alert: false,
            },
            Err(e) => TapAnswer {
                text: self.internal_failure("ack: store", &e),
                alert: true,
            },
        }
    }
}

/// How far back an "I'm on it" under a health alert takes alarms.
const ALARMS_TAKEN_WITHIN_MS: i64 = 24 * 3_600_000;

/// The moments (Unix ms) of the health monitor's alarms among `rows` (its
/// messages carrying the "I'm on it" button `ack`), each with its first
/// message, in the order of the moments.
pub(super) fn alarm_moments<'r>(rows: &'r [OutboxRow], ack: &str) -> Vec<(i64, &'r OutboxRow)> {
    let mut moments: Vec<(i64, &OutboxRow)> = Vec::new();
    for row in rows {
        if !row.buttons.as_deref().is_some_and(|b| b.contains(ack)) {
            continue;
        }
        if let Some(AlertKey {
            subject: Subject::Health { at_ms, .. },
            edit: None,
            ..
        }) = AlertKey::parse(&row.dedup_key)
            && !moments.iter().any(|(at, _)| *at == at_ms)
        {
            moments.push((at_ms, row));
        }
    }
    moments.sort_by_key(|(at, _)| *at);
    moments
}

/// The edits saying who took a failure: one for each message carrying
/// its "I'm on it" button (`ack`: the button's data), built on the
/// message's newest text, which loses that button.
fn taken_edits(rows: &[OutboxRow], ack: &str, who: &str) -> Vec<NewAlert> {
    let ack = ack.to_owned();
    let mut newest: Vec<(String, &OutboxRow)> = Vec::new();
    for row in rows {
        let Some(buttons) = row.buttons.as_deref() else {
            continue;
        };
        if !buttons.contains(&ack) {
            continue;
        }
        let original = row.edit_of.clone().unwrap_or_else(|| row.dedup_key.clone());
        newest.retain(|(o, _)| *o != original);
        newest.push((original, row));
    }
    newest
        .into_iter()
        .filter_map(|(original, row)| {
            let key = AlertKey::parse(&original)?;
            let rows: Vec<Vec<Button>> =
                serde_json::from_str(row.buttons.as_deref()?).unwrap_or_default();
            let kept: Vec<Vec<Button>> = rows
                .into_iter()
                .map(|r| r.into_iter().filter(|b| b.data != ack).collect())
                .collect();
            Some(NewAlert {
                thread_id: row.thread_id.and_then(|t| i32::try_from(t).ok()),
                buttons: Some(serde_json::to_string(&kept).expect("buttons serialise")),
                ..NewAlert::edit(
                    &key,
                    EditStep::Taken,
                    AlertKind::Failure,
                    row.env.as_deref().and_then(|e| Env::parse(e).ok()),
                    ChatId(row.chat_id),
                    say::taken(&row.text, who),
                )
            })
        })
        .collect()
}
