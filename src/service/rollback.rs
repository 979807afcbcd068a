//! `/rollback <env> <version>`: mid-incident, fast to type and hard to get
//! wrong. The target must be a published release that ran successfully in
//! that environment before (the bot's history, or a task definition of the
//! service carrying its tag) and differ from what runs now; migrations
//! added since are named in bold; approval follows the environment's
//! rollback policy, with break-glass where the config allows it.

use super::direct::carries;
use super::{App, Incoming, Reply};
use crate::adapters::ecs::{image_tag, tag_is_version};
use crate::alerts;
use crate::alerts::format::{escape, span, utc};
use crate::config::EnvironmentConfig;
use crate::domain::{AlertKey, EditStep, NewOp, OpStep};
use crate::domain::{
    AlertKind, DeployRefusal, Env, OperationId, OperationKind, OperationState, Version,
};
use crate::messages::direct::{
    github_down_ecs_unreadable, github_down_no_task_definition, github_down_note,
    github_stopped_note,
};
use crate::store::Transition;
use crate::store::{Created, NewOperation, OperationRow};

/// How many of a family's newest revisions are searched for a version
/// that ran before (each described once, then cached).
const HISTORY_SCAN: usize = 100;

impl App {
    pub(super) async fn rollback(
        &self,
        msg: &Incoming,
        env: &Env,
        version: &Version,
        break_glass: Option<&str>,
    ) -> (String, Option<Reply>) {
        let Some(cfg) = self.config.environments.get(env) else {
            return (
                "invalid".into(),
                Some(Reply::new("❌ Unknown environment.".into())),
            );
        };
        let roles = self
            .config
            .user(msg.user)
            .map(|u| u.roles.clone())
            .unwrap_or_default();
        let requesters = cfg.rollback_requesters();
        if !roles.iter().any(|r| requesters.contains(r)) {
            let names: Vec<&str> = requesters.iter().map(|r| r.as_str()).collect();
            return (
                "refused:not_a_requester".into(),
                Some(Reply::new(format!(
                    "⛔ Rollbacks of {} are asked for by: {}. You hold none of these roles.",
                    escape(env.as_str()),
                    escape(&names.join(", "))
                ))),
            );
        }
        if break_glass.is_some() {
            if !cfg.rollback.break_glass {
                return (
                    "refused:break_glass_off".into(),
                    Some(Reply::new(format!(
                        "⛔ Break-glass is off for {env} (<code>environments.{env}.rollback.break_glass</code>). \
                         Ask without it: the rollback waits for its approval.",
                        env = escape(env.as_str())
                    ))),
                );
            }
            let approvers = cfg.rollback_approvers();
            if !roles.iter().any(|r| approvers.contains(r)) {
                let names: Vec<&str> = approvers.iter().map(|r| r.as_str()).collect();
                return (
                    "refused:not_an_approver".into(),
                    Some(Reply::new(format!(
                        "⛔ Only {} may break the glass on {}.",
                        escape(&names.join(", ")),
                        escape(env.as_str())
                    ))),
                );
            }
        }

        let target = version.to_string();
        let (release, service, history) = tokio::join!(
            self.github.release_for(&target),
            self.ecs.service_state(cfg),
            self.store.succeeded_in(env, 1000),
        );
        // GitHub out of reach does not stop a rollback mid-incident: the
        // target is checked against the bot's history and ECS instead, and
        // the approved rollback runs directly on ECS.
        let release = match release {
            Ok(Some(release)) => Some(release),
            Ok(None) => {
                return (
                    "refused:not_released".into(),
                    Some(Reply::new(format!(
                        "⛔ {} is not a published release: roll back only to a released version.",
                        escape(&target)
                    ))),
                );
            }
            Err(e) if e.is_unreachable() => {
                tracing::warn!(error = %e, "rollback: GitHub unreachable; the rollback runs on ECS");
                None
            }
            Err(e) => {
                // GitHub answers, refusing the bot: its UI still works.
                return (
                    "error:github".into(),
                    Some(Reply::new(format!(
                        "⚠️ Could not check on GitHub that {} is released ({}). Nothing was done. \
                         The Rollback workflow in GitHub Actions still works.",
                        escape(&target),
                        escape(&e.to_string())
                    ))),
                );
            }
        };
        let github_down = release.is_none();
        let running = match service {
            Ok(state) => state
                .primary()
                .and_then(|d| d.image.as_deref())
                .and_then(image_tag)
                .map(str::to_owned),
            Err(e) => {
                return (
                    "error:ecs".into(),
                    Some(Reply::new(format!(
                        "⚠️ Could not read what runs on {} from ECS ({}). Nothing was done.",
                        escape(env.as_str()),
                        escape(&e.to_string())
                    ))),
                );
            }
        };
        if let Some(now) = &running
            && tag_is_version(now, &target)
        {
            return (
                "refused:already_running".into(),
                Some(Reply::new(format!(
                    "⛔ {} already runs {}: nothing to roll back.",
                    escape(env.as_str()),
                    escape(now)
                ))),
            );
        }
        let history = match history {
            Ok(history) => history,
            Err(e) => return self.internal_error("rollback: store", &e),
        };
        let in_history = history
            .iter()
            .find(|op| tag_is_version(&op.version, &target))
            .map(|op| {
                format!(
                    "ran here after #{} ({})",
                    op.id,
                    utc(crate::alerts::format::from_ms(op.updated_at))
                )
            });
        // Without GitHub the rollback needs a task definition carrying the
        // version, whatever the history says: ECS runs only those.
        let carrying = if in_history.is_none() || github_down {
            match self.ecs.revisions(cfg, HISTORY_SCAN).await {
                Ok(revisions) => revisions.into_iter().find(|r| carries(r, &target)),
                Err(e) if github_down => {
                    tracing::warn!(error = %e, "rollback: revisions");
                    return (
                        "error:ecs".into(),
                        Some(Reply::new(github_down_ecs_unreadable(
                            env.as_str(),
                            &target,
                        ))),
                    );
                }
                Err(e) => {
                    tracing::warn!(error = %e, "rollback: revisions");
                    None
                }
            }
        } else {
            None
        };
        let from_ecs = carrying
            .as_ref()
            .map(|r| format!("task definition {} of this service carries it", r.name));
        let Some(ran_here) = in_history.or(from_ecs) else {
            return (
                "refused:never_ran".into(),
                Some(Reply::new(format!(
                    "⛔ {} never ran successfully on {}: it is not in my history, and no task definition \
                     of the service carries it. Roll back only to a version that ran there.",
                    escape(&target),
                    escape(env.as_str())
                ))),
            );
        };
        if github_down && carrying.is_none() {
            return (
                "refused:no_task_definition".into(),
                Some(Reply::new(github_down_no_task_definition(&target))),
            );
        }

        // A pending (undispatched) request there gives way to the rollback;
        // anything already running must end first.
        if let Some(reply) = self.clear_the_way(msg, env).await {
            return reply;
        }

        let running_text = running.clone().unwrap_or_else(|| "unknown".into());
        // GitHub's compare and ECS's task definitions are asked side by side.
        let migrations = async {
            match (&release, &running, &carrying) {
                (Some(release), Some(now), _) => {
                    self.migrations_since(&release.tag_name, now).await
                }
                (None, _, Some(target_td)) => github_down_note(&target, &target_td.name),
                _ => String::new(),
            }
        };
        let (migrations, artifact) = tokio::join!(migrations, self.artifact(cfg, &target));
        let needed = if break_glass.is_some() {
            0
        } else {
            cfg.rollback_approvals()
        };
        let requester = self.name_of(msg.user.0);
        let expiry = cfg.approval.expiry;
        let head = format!(
            "<b>Rollback {} → {}</b> · #{{op}}",
            escape(env.as_str()),
            escape(&target)
        );
        let body = format!(
            "Asked by {}\nRunning now: <b>{}</b>\nWill run: {} ({})\n{migrations}",
            escape(&requester),
            escape(&running_text),
            artifact,
            escape(&ran_here),
        );
        let mut alerts = Vec::new();
        let state = if needed == 0 {
            if let Some(reason) = break_glass {
                let text = format!(
                    "🚨 <b>BREAK-GLASS</b>: {} rolls <b>{}</b> back from {} to <b>{}</b> without a second approval (#{{op}}).\nReason: {}",
                    escape(&requester),
                    escape(env.as_str()),
                    escape(&running_text),
                    escape(&target),
                    escape(reason)
                );
                alerts.extend(alerts::route_kinds(
                    &self.config,
                    &[AlertKind::Rollback, AlertKind::Failure],
                    Some(env),
                    &AlertKey::op(NewOp, OpStep::BreakGlass),
                    &text,
                ));
            }
            OperationState::Approved
        } else {
            let approvers: Vec<&str> = cfg
                .rollback_approvers()
                .iter()
                .map(|r| r.as_str())
                .collect();
            let mut text = format!(
                "⏪ {head}\n{body}Needs {needed} approval(s) from: {}",
                escape(&approvers.join(", "))
            );
            if cfg.approval.four_eyes {
                text.push_str(&format!(" (not {})", escape(&requester)));
            }
            text.push_str(&format!(
                "\nExpires {} (in {})",
                utc(crate::alerts::format::from_ms(
                    crate::store::now_ms() + expiry.as_millis() as i64
                )),
                span(expiry.as_secs() as i64)
            ));
            let policy = rollback_policy(cfg);
            let buttons = super::deploy::approval_buttons(crate::domain::NewOp);
            match self.prompt_alerts(env, msg.chat, msg.user, &policy, &text, &buttons) {
                Ok(prompts) => alerts.extend(prompts),
                Err(refusal) => return ("refused:no_approver".into(), Some(Reply::new(refusal))),
            }
            OperationState::AwaitingApproval
        };
        let op = NewOperation {
            kind: OperationKind::Rollback,
            env: Some(env.clone()),
            version: target.clone(),
            release_type: None,
            state,
            requested_by: msg.user,
            chat_id: msg.chat.0,
            request_id: uuid::Uuid::new_v4().to_string(),
            expires_in_ms: (needed > 0).then_some(expiry.as_millis() as i64),
            detail: running.as_ref().map(|t| format!("running={t}")),
            run: None,
            direct_ecs: github_down,
        };
        let (outcome, detail) = match break_glass {
            Some(reason) => (
                "break_glass",
                format!("{target} to {env}; reason: {reason}"),
            ),
            None => (
                state.as_str(),
                format!("{target} to {env}; needs {needed} approval(s)"),
            ),
        };
        let detail = if github_down {
            format!("{detail}; directly on ECS: GitHub unreachable")
        } else {
            detail
        };
        let audit = self.audit(
            Some(msg.user),
            Some(msg.chat.0),
            "operation:rollback",
            outcome,
            None,
            detail,
        );
        let id = match self.create_operation(&op, &audit, &alerts).await {
            Ok(Created::New(id)) => id,
            Ok(Created::Busy) => {
                return (
                    "refused:busy".into(),
                    Some(Reply::new(self.in_flight(env).await)),
                );
            }
            Err(e) => return self.internal_error("rollback: store", &e),
        };
        if needed > 0 {
            return ("requested".into(), None);
        }
        let head = format!(
            "⏪ #{} Rollback {} → {}{}\n{body}",
            id.0,
            escape(env.as_str()),
            escape(&target),
            if break_glass.is_some() {
                ": break-glass, no approval."
            } else {
                ": no approval needed."
            },
        );
        self.dispatch_claimed(id, head.trim_end()).await
    }

    /// Makes room for a rollback: a request there that is not dispatched
    /// yet is withdrawn (its prompt says why); one that is under way is
    /// reported, and the rollback refused, as for any busy environment.
    async fn clear_the_way(&self, msg: &Incoming, env: &Env) -> Option<(String, Option<Reply>)> {
        let live = match self.store.live_operations().await {
            Ok(live) => live,
            Err(e) => return Some(self.internal_error("rollback: store", &e)),
        };
        let op = live.into_iter().find(|o| o.env.as_ref() == Some(env))?;
        // A deploy whose run is over but that ECS or health has not
        // confirmed is what one rolls back from: it ends unhealthy.
        if op.state == OperationState::Confirming {
            let detail = format!(
                "{}rolled back before ECS and health confirmed it",
                op.ran_before()
                    .map(|r| format!("running={r} · "))
                    .unwrap_or_default()
            );
            let audit = self.audit(
                Some(msg.user),
                Some(msg.chat.0),
                "operation:withdraw",
                "unhealthy",
                Some(OperationId(op.id)),
                "for a rollback".into(),
            );
            return match self
                .transition(
                    OperationId(op.id),
                    Transition::new(&[OperationState::Confirming], OperationState::Unhealthy)
                        .detail(&detail),
                    &audit,
                    &[],
                )
                .await
            {
                Ok(_) => None,
                Err(e) => Some(self.internal_error("rollback: store", &e)),
            };
        }
        let pending = [
            OperationState::Requested,
            OperationState::AwaitingApproval,
            OperationState::Approved,
        ];
        if !pending.contains(&op.state) {
            let refusal = DeployRefusal::Busy {
                env: env.clone(),
                id: op.id,
                kind: op.kind,
                version: op.version.clone(),
                state: op.state,
            };
            return Some((
                "refused:busy".into(),
                Some(Reply::new(format!(
                    "{} Let it finish (or cancel the run in GitHub Actions), then roll back.",
                    escape(&refusal.message())
                ))),
            ));
        }
        let by = self.name_of(msg.user.0);
        let text = format!(
            "🚫 <b>{} {} → {}</b> · #{}\nWithdrawn: {} asked for a rollback of {}.",
            capitalised(op.kind.as_str()),
            escape(&op.version),
            escape(env.as_str()),
            op.id,
            escape(&by),
            escape(env.as_str())
        );
        let edits = self.edit_prompts(&op, EditStep::Withdrawn, text).await;
        let audit = self.audit(
            Some(msg.user),
            Some(msg.chat.0),
            "operation:withdraw",
            "cancelled",
            Some(OperationId(op.id)),
            "for a rollback".into(),
        );
        match self
            .transition(
                OperationId(op.id),
                Transition::new(&pending, OperationState::Cancelled)
                    .detail("withdrawn for a rollback"),
                &audit,
                &edits,
            )
            .await
        {
            Ok(_) => None,
            Err(e) => Some(self.internal_error("rollback: store", &e)),
        }
    }

    /// The bold warning about migrations added after `target` (they stay
    /// applied when the code rolls back), or a line saying so when GitHub
    /// cannot tell. Empty when there are none.
    async fn migrations_since(&self, target_tag: &str, running: &str) -> String {
        let head = match Version::from_tag(running) {
            Some(v) => match self.github.release_for(&v.to_string()).await {
                Ok(Some(r)) => r.tag_name,
                // Gone since the target's release was read: the compare
                // would only wait out another timeout.
                Err(e) if e.is_unreachable() => {
                    tracing::warn!(error = %e, "rollback: GitHub unreachable");
                    return github_stopped_note(target_tag);
                }
                _ => running.to_owned(),
            },
            None => running.to_owned(),
        };
        let path = &self.config.github.migrations_path;
        match self.github.compare(target_tag, &head).await {
            Ok(c) => {
                let added: Vec<&String> = c
                    .added_files
                    .iter()
                    .filter(|f| f.starts_with(path.as_str()))
                    .collect();
                if added.is_empty() {
                    return String::new();
                }
                let names: Vec<String> = added
                    .iter()
                    .take(10)
                    .map(|f| format!("<code>{}</code>", escape(f)))
                    .collect();
                let more = if added.len() > 10 {
                    format!(" and {} more", added.len() - 10)
                } else {
                    String::new()
                };
                format!(
                    "⚠️ <b>{} database migration(s) were added after {}: {}{more}. Rolling the code back does not roll them back: check that {} works with the schema they leave.</b>\n",
                    added.len(),
                    escape(target_tag),
                    names.join(", "),
                    escape(target_tag)
                )
            }
            Err(e) => format!(
                "⚠️ Could not compare {} with {} on GitHub ({}): check the migrations by hand.\n",
                escape(target_tag),
                escape(&head),
                escape(&e.to_string())
            ),
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The rollback facts an environment's config gives (for prompts).
pub(super) fn rollback_policy(cfg: &EnvironmentConfig) -> crate::domain::EnvPolicy {
    crate::domain::EnvPolicy {
        requesters: cfg.rollback_requesters().to_vec(),
        approvers: cfg.rollback_approvers().to_vec(),
        approvals: cfg.rollback_approvals(),
        four_eyes: cfg.approval.four_eyes,
        requires_verified_in: None,
    }
}

/// Whether an operation row is a rollback (its prompts and alerts differ).
pub(super) fn is_rollback(op: &OperationRow) -> bool {
    op.kind == OperationKind::Rollback
}
