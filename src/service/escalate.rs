//! Nobody left unpaged: a prod failure alert nobody took ("I'm on it")
//! within `incident.ack_within` is posted again to the chats that take
//! failures there, mentioning the next of `[contacts]` in order, one step
//! a window, until someone takes it. Leader work: each step is written
//! once (its outbox key is unique) with its audit line, through the
//! fenced store; a step found due after a restart is written then.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::App;
use crate::alerts;
use crate::domain::{AlertAct, AlertKey, AlertKind, Callback, Env, OpStep, OperationId, UserId};
use crate::messages::act as say;
use crate::store::{OperationRow, Untaken, now_ms};

impl App {
    /// Writes every escalation step that is due and not written yet.
    pub async fn escalate_unacknowledged(&self) {
        let contacts = self.config.contacts.in_order();
        let last = crate::domain::last_env(self.config.environments.keys());
        let (false, Some(env)) = (contacts.is_empty(), last) else {
            return;
        };
        let window = i64::try_from(self.config.incident.ack_within.as_millis()).unwrap_or(i64::MAX);
        let steps = contacts.len() as i64;
        let now = now_ms();
        // Failures older than every step's time are history, not news.
        let horizon = now.saturating_sub(window.saturating_mul(steps + 1));
        let failed = match self.store.failures_since(env, horizon).await {
            Ok(ops) => ops,
            Err(e) => {
                tracing::warn!(error = %e, "escalation: store unreadable");
                return;
            }
        };
        for op in failed {
            let due = ((now - op.updated_at) / window.max(1)).min(steps);
            if due < 1 {
                continue;
            }
            match self.store.acknowledgement(OperationId(op.id)).await {
                Ok(None) => {}
                Ok(Some(_)) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, operation = op.id, "escalation: store unreadable");
                    continue;
                }
            }
            for step in 1..=due {
                let (_, contact) = contacts[(step - 1) as usize];
                self.escalate_step(&op, step as u32, contact, now).await;
            }
        }
        self.escalate_alarms(env, &contacts, window, now, horizon)
            .await;
    }

    /// The same for the health monitor's alarms about `env`: each moment's
    /// alarms, untaken, posted again one step a window.
    async fn escalate_alarms(
        &self,
        env: &Env,
        contacts: &[(&str, UserId)],
        window: i64,
        now: i64,
        horizon: i64,
    ) {
        let Some(index) = self.config.environments.get_index_of(env) else {
            return;
        };
        let ack = Callback::<OperationId>::Health {
            env: index,
            act: AlertAct::Acknowledge,
        }
        .encode();
        let rows = match self.store.alarms_since(env, horizon).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "escalation: store unreadable");
                return;
            }
        };
        // Each moment with its first alarm, as sent, with its buttons.
        for (at, alarm) in super::act::alarm_moments(&rows, &ack) {
            let due = ((now - at) / window.max(1)).min(contacts.len() as i64);
            if due < 1 || !matches!(self.store.alarm_acknowledgement(env, at).await, Ok(None)) {
                continue;
            }
            for step in 1..=due {
                let (_, contact) = contacts[(step - 1) as usize];
                let name = self.name_of(contact.0);
                let text = say::alarm_escalation(&alarm.text, (now - at) / 1000, &name, contact.0);
                let mut routed = alerts::route_kinds(
                    &self.config,
                    &[AlertKind::Failure],
                    Some(env),
                    &AlertKey::health_escalated(env.clone(), at, step as u32),
                    &text,
                );
                for alert in &mut routed {
                    alert.buttons = alarm.buttons.clone();
                }
                let audit = self.audit(
                    None,
                    None,
                    "incident:escalate",
                    "escalated",
                    None,
                    format!(
                        "{}: step {step}: {name}",
                        say::health_lock_reason(env.as_str())
                    ),
                );
                match self
                    .store
                    .escalate(Untaken::Alarms { env, at }, &audit, &routed)
                    .await
                {
                    Ok(true) => self.outbox.notify_one(),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, env = %env, "escalation: not stored"),
                }
            }
        }
    }

    /// Posts step `step` of `op`'s escalation, mentioning `contact`,
    /// unless it was posted before.
    async fn escalate_step(
        &self,
        op: &OperationRow,
        step: u32,
        contact: crate::domain::UserId,
        now: i64,
    ) {
        let id = OperationId(op.id);
        let name = self.name_of(contact.0);
        let text = say::escalation(op, (now - op.updated_at) / 1000, &name, contact.0);
        let mut routed = alerts::route_kinds(
            &self.config,
            &[AlertKind::Failure],
            op.env.as_ref(),
            &AlertKey::op(id, OpStep::Escalated(step)),
            &text,
        );
        self.with_alert_buttons(op, &mut routed).await;
        let audit = self.audit(
            None,
            None,
            "incident:escalate",
            "escalated",
            Some(id),
            format!("step {step}: {name}"),
        );
        match self
            .store
            .escalate(Untaken::Operation(id), &audit, &routed)
            .await
        {
            Ok(true) => self.outbox.notify_one(),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, operation = op.id, "escalation: not stored"),
        }
    }
}

/// Escalates unacknowledged failures, looking a tenth of the window
/// apart (between 100 ms and 30 s), until stopped.
pub async fn escalation_loop(app: Arc<App>, stop: CancellationToken) {
    loop {
        let app = app.current();
        let every = (app.config.incident.ack_within / 10)
            .clamp(Duration::from_millis(100), Duration::from_secs(30));
        app.escalate_unacknowledged().await;
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}
