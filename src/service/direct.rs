//! The rollback that does not need GitHub: when the Rollback workflow
//! cannot be dispatched (API down, workflow disabled), the failure alert
//! offers the rollback's approvers a button that points the ECS service
//! at the newest task definition carrying the target version
//! (`UpdateService`). The bot then follows the ECS rollout and confirms it
//! like any other, and every message says the workflow was bypassed.

use super::App;
use super::taps::{Tap, TapAnswer};
use crate::adapters::ecs::{image_tag, tag_is_version};
use crate::alerts;
use crate::alerts::format::escape;
use crate::domain::{AlertKind, Env, OperationId, OperationState};
use crate::store::{Created, NewOperation};

/// How long after the failed dispatch the direct way stays open.
const DIRECT_WITHIN_MS: i64 = 3_600_000;

/// How many of a family's newest revisions are searched for the target.
const SCAN: usize = 100;

/// The button a failed rollback dispatch offers.
pub(super) fn direct_button(op: i64) -> super::Button {
    super::Button {
        text: "⏪ Roll back directly on ECS".into(),
        data: format!("e:{op}:y"),
    }
}

impl App {
    /// A tap on "Roll back directly on ECS" (`e:{op}:y`).
    pub(super) async fn direct_rollback_tap(&self, tap: &Tap) -> TapAnswer {
        let refuse = |text: String| TapAnswer { text, alert: true };
        let id = super::taps::button_operation(&tap.data, "e", "y");
        let op = match id {
            Some(id) => self.store.operation(id).await.ok().flatten(),
            None => None,
        };
        let Some(op) = op.filter(|op| op.kind == "rollback") else {
            let text = "This button is not one of mine.".to_owned();
            return self.refuse_tap(tap, "direct", "forged", None, text).await;
        };
        let id = OperationId(op.id);
        let Some((env, cfg)) = op
            .env
            .as_deref()
            .and_then(|e| Env::parse(e).ok())
            .and_then(|e| self.config.environments.get(&e).map(|c| (e, c)))
        else {
            return refuse("This environment is no longer configured.".into());
        };
        let approvers = cfg.rollback_approvers();
        let allowed = self
            .config
            .user(tap.user)
            .is_some_and(|u| u.roles.iter().any(|r| approvers.contains(r)));
        if !allowed {
            let names: Vec<&str> = approvers.iter().map(|r| r.as_str()).collect();
            let text = format!("Only {} may roll back on ECS directly.", names.join(", "));
            return self
                .refuse_tap(tap, "direct", "not_an_approver", Some(id), text)
                .await;
        }
        // Only a rollback whose workflow never started: no run known, and
        // dispatch failed (or its outcome is still unknown).
        let state = op.state();
        // Only the environment's latest operation, and only for a while: a
        // button under an old failure must not roll prod back days later.
        let latest = self
            .store
            .history(op.env.as_deref(), 1)
            .await
            .ok()
            .and_then(|ops| ops.first().map(|o| o.id));
        if latest != Some(op.id) || crate::store::now_ms() - op.updated_at > DIRECT_WITHIN_MS {
            let text = format!(
                "#{} is no longer the latest word on {}: ask /rollback again.",
                op.id,
                op.env.as_deref().unwrap_or("?")
            );
            return self
                .refuse_tap(tap, "direct", "stale", Some(id), text)
                .await;
        }
        if op.run_id.is_some()
            || !matches!(state, OperationState::Failed | OperationState::Dispatched)
        {
            let text = format!(
                "#{} is {} with a workflow run: follow that instead.",
                op.id, state
            );
            return self
                .refuse_tap(tap, "direct", "has_run", Some(id), text)
                .await;
        }
        let revisions = match self.ecs.revisions(cfg, SCAN).await {
            Ok(revisions) => revisions,
            Err(e) => return refuse(format!("ECS cannot be read just now: {e}")),
        };
        if let Ok(Some(now)) = self.running_tag(cfg).await
            && tag_is_version(&now, &op.version)
        {
            let text = format!("{env} already runs {now}: nothing to roll back.");
            return self
                .refuse_tap(tap, "direct", "already_running", Some(id), text)
                .await;
        }
        let Some(target) = revisions.into_iter().find(|r| {
            r.image
                .as_deref()
                .and_then(image_tag)
                .is_some_and(|t| tag_is_version(t, &op.version))
        }) else {
            let text = format!(
                "No task definition of the service carries {}: there is nothing to roll back to on ECS.",
                op.version
            );
            return self
                .refuse_tap(tap, "direct", "no_task_definition", Some(id), text)
                .await;
        };

        // The workflow's operation ends here (if its dispatch is still in
        // doubt, it is superseded); the direct one takes its place.
        let who = self.name_of(tap.user.0);
        if state == OperationState::Dispatched {
            let audit = self.audit(
                Some(tap.user),
                tap.chat,
                "rollback:direct",
                "superseded",
                Some(id),
                String::new(),
            );
            match self
                .store
                .advance(
                    id,
                    &[OperationState::Dispatched],
                    OperationState::Failed,
                    None,
                    Some("superseded by a direct ECS rollback"),
                    &audit,
                    &[],
                )
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    return refuse("It moved on meanwhile; tap again if still needed.".into());
                }
                Err(e) => return refuse(format!("Could not record it: {e}")),
            }
        }
        let new = NewOperation {
            kind: "rollback",
            env: op.env.clone(),
            version: op.version.clone(),
            release_type: None,
            state: OperationState::Approved,
            requested_by: tap.user,
            chat_id: op.chat_id,
            request_id: uuid::Uuid::new_v4().to_string(),
            expires_in_ms: None,
            detail: op.detail.clone(),
            run: None,
        };
        let audit = self.audit(
            Some(tap.user),
            tap.chat,
            "operation:rollback",
            "ecs_direct",
            None,
            format!(
                "{} to {env} via UpdateService {}, after #{}",
                op.version, target.name, op.id
            ),
        );
        let new_id = match self.store.create_operation(&new, &audit, &[]).await {
            Ok(Created::New(new_id)) => new_id,
            Ok(Created::Busy) => {
                return refuse(self.in_flight(&env).await);
            }
            Err(e) => return refuse(format!("Could not record it: {e}")),
        };
        let claimed = matches!(self.store.claim_dispatch(new_id).await, Ok(Some(_)));
        if !claimed {
            return refuse("Someone else is on it.".into());
        }
        let what = format!(
            "<b>{}</b> · rollback to <b>{}</b>",
            escape(env.as_str()),
            escape(&op.version)
        );
        match self.ecs.update_service(cfg, &target.arn).await {
            Ok(()) => {
                let text = format!(
                    "⏪ {what} started <b>directly on ECS</b> (#{}): the service now points at {}. \
                     <b>This bypassed the Rollback workflow</b> (#{} could not be dispatched).\nBy {}",
                    new_id.0,
                    escape(&target.name),
                    op.id,
                    escape(&who)
                );
                let mut alerts = Vec::new();
                alerts.extend(alerts::route_kinds(
                    &self.config,
                    &[AlertKind::Rollback, AlertKind::Failure],
                    Some(&env),
                    &format!("op:{}:direct", new_id.0),
                    &text,
                ));
                let audit = self.audit(
                    Some(tap.user),
                    tap.chat,
                    "dispatch:rollback",
                    "ecs_updated",
                    Some(new_id),
                    target.arn.clone(),
                );
                if let Err(e) = self
                    .store
                    .advance(
                        new_id,
                        &[OperationState::Dispatched],
                        OperationState::Confirming,
                        None,
                        None,
                        &audit,
                        &alerts,
                    )
                    .await
                {
                    tracing::error!(error = %e, operation = new_id.0, "direct rollback not recorded");
                }
                self.outbox.notify_one();
                self.confirmer.notify_one();
                TapAnswer {
                    text: format!("ECS is rolling back to {} ({}).", op.version, target.name),
                    alert: false,
                }
            }
            Err(e) => {
                let text = format!(
                    "❌ {what} directly on ECS (#{}) failed: {}\nBy {}",
                    new_id.0,
                    escape(&e.to_string()),
                    escape(&who)
                );
                let mut alerts = Vec::new();
                alerts.extend(alerts::route_kinds(
                    &self.config,
                    &[AlertKind::Rollback, AlertKind::Failure],
                    Some(&env),
                    &format!("op:{}:direct-failed", new_id.0),
                    &text,
                ));
                let audit = self.audit(
                    Some(tap.user),
                    tap.chat,
                    "dispatch:rollback",
                    "failed",
                    Some(new_id),
                    e.to_string(),
                );
                let _ = self
                    .store
                    .advance(
                        new_id,
                        &[OperationState::Dispatched],
                        OperationState::Failed,
                        None,
                        Some(&e.to_string()),
                        &audit,
                        &alerts,
                    )
                    .await;
                self.outbox.notify_one();
                refuse(format!("ECS refused: {e}"))
            }
        }
    }
}
