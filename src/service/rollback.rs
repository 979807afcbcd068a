//! `/rollback <env> <version>`: mid-incident, fast to type and hard to get
//! wrong. The target must be a published release that ran successfully in
//! that environment before (the bot's history, or a task definition of the
//! service carrying its tag) and differ from what runs now; migrations
//! added since are named in bold; approval follows the environment's
//! rollback policy, with break-glass where the config allows it.

use super::approvals::approval_buttons;
use super::direct::{Targets, carries};
use super::{App, Incoming, Reply};
use crate::adapters::ecs::{Revision, image_tag, tag_is_version};
use crate::adapters::github::Release;
use crate::alerts;
use crate::alerts::format::{span, utc};
use crate::config::EnvironmentConfig;
use crate::domain::{AlertKey, EditStep, NewOp, OpStep, may_break_glass, may_request_rollback};
use crate::domain::{
    AlertKind, DeployRefusal, Env, OperationId, OperationKind, OperationState, Version,
};
use crate::messages::direct::{
    github_down_ecs_unreadable, github_down_missing, github_down_no_task_definition,
    github_down_note, github_down_note_services, github_stopped_note,
};
use crate::messages::requests;
use crate::store::Transition;
use crate::store::{Created, NewAlert, NewOperation};

/// How many of a family's newest revisions are searched for a version
/// that ran before (each described once, then cached).
const HISTORY_SCAN: usize = 100;

/// How a rollback is asked for: with break-glass (a person's reason),
/// or by the bot itself.
pub(super) struct Asked<'a> {
    pub break_glass: Option<&'a str>,
    pub auto: Option<&'a Automatic>,
}

/// An automatic rollback's own terms (`rollback.auto`).
pub(super) struct Automatic {
    /// The approvals it waits for (0: dispatched at once).
    pub approvals: u32,
    /// Its loud alerts, stored with the request (none without one).
    pub alerts: Vec<NewAlert>,
    /// Derived from the failed deploy's id: the store's unique request id
    /// lets at most one automatic rollback follow a deploy.
    pub request_id: String,
}

/// A rollback's target, as checked: its release (`None`: GitHub out of
/// reach), what runs now, the task definition carrying it (when looked
/// up), and why it may run there (plain text).
struct Target {
    release: Option<Release>,
    running: Option<String>,
    carrying: Option<Revision>,
    /// Without GitHub, in an environment of several services: the task
    /// definition each is to be pointed at (in the config's order).
    on_ecs: Vec<Revision>,
    ran_here: String,
}

impl App {
    /// `/rollback <env> <version> [--break-glass <reason>]`: returns the
    /// audit outcome and the direct answer, if any.
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
                Some(Reply::new(requests::rollback_unknown_env())),
            );
        };
        let policy = cfg.rollback_policy();
        if let Some(refused) = self.may_roll_back(msg, env, cfg, &policy, break_glass) {
            return refused;
        }
        let asked = Asked {
            break_glass,
            auto: None,
        };
        self.request_rollback(msg, env, &version.to_string(), &asked)
            .await
    }

    /// A rollback of `env` to `target` by someone who may ask for it (or
    /// by the bot itself, `asked.auto`): every check of the target, the
    /// request stored with its prompts (or dispatched when it needs no
    /// approval). Returns the audit outcome and the answer, if any.
    pub(super) async fn request_rollback(
        &self,
        msg: &Incoming,
        env: &Env,
        target: &str,
        asked: &Asked<'_>,
    ) -> (String, Option<Reply>) {
        let Some(cfg) = self.config.environments.get(env) else {
            return (
                "invalid".into(),
                Some(Reply::new(requests::rollback_unknown_env())),
            );
        };
        let policy = cfg.rollback_policy();
        let break_glass = asked.break_glass;
        let target = target.to_owned();
        let Target {
            release,
            running,
            carrying,
            on_ecs,
            ran_here,
        } = match self.rollback_target(env, cfg, &target).await {
            Ok(found) => found,
            Err(answer) => return answer,
        };
        let github_down = release.is_none();

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
                (None, _, Some(_)) if !on_ecs.is_empty() => {
                    let targets: Vec<(&str, &str)> = cfg
                        .services()
                        .iter()
                        .zip(&on_ecs)
                        .map(|(s, r)| (s.name(), r.name.as_str()))
                        .collect();
                    github_down_note_services(&target, &targets)
                }
                (None, _, Some(target_td)) => github_down_note(&target, &target_td.name),
                _ => String::new(),
            }
        };
        let (migrations, artifact) = tokio::join!(migrations, self.artifact(cfg, &target));
        let needed = match (break_glass, asked.auto) {
            (Some(_), _) => 0,
            (None, Some(auto)) => auto.approvals,
            (None, None) => policy.approvals,
        };
        let requester = self.name_of(msg.user.0);
        let expiry = cfg.approval.expiry;
        let body =
            requests::rollback_body(&requester, &running_text, &artifact, &ran_here, &migrations);
        let mut alerts = Vec::new();
        let state = if needed == 0 {
            if let Some(reason) = break_glass {
                let text = requests::break_glass(&requester, env, &running_text, &target, reason);
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
            let text = requests::rollback_prompt(
                env,
                &target,
                &body,
                &requests::Needs {
                    needed,
                    approvers: &policy.approvers,
                    groups: &crate::domain::group_progress(&[], &policy.groups, |_| None),
                    not: policy.four_eyes.then_some(requester.as_str()),
                    expires_at: &utc(crate::alerts::format::from_ms(
                        crate::store::now_ms() + expiry.as_millis() as i64,
                    )),
                    expires_in: &span(expiry.as_secs() as i64),
                },
            );
            let buttons = approval_buttons(crate::domain::NewOp);
            match self.prompt_alerts(env, msg.chat, msg.user, &policy, &text, &buttons) {
                Ok(prompts) => alerts.extend(prompts),
                Err(refusal) => return ("refused:no_approver".into(), Some(Reply::new(refusal))),
            }
            OperationState::AwaitingApproval
        };
        if let Some(auto) = asked.auto {
            alerts.extend(auto.alerts.iter().cloned());
        }
        let op = NewOperation {
            kind: OperationKind::Rollback,
            env: Some(env.clone()),
            version: target.clone(),
            release_type: None,
            state,
            requested_by: msg.user,
            chat_id: msg.chat.0,
            request_id: asked
                .auto
                .map(|auto| auto.request_id.clone())
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            expires_in_ms: (needed > 0).then_some(expiry.as_millis() as i64),
            detail: running.as_ref().map(|t| format!("running={t}")),
            run: None,
            direct_ecs: github_down,
            freeze_override: None,
        };
        self.start_rollback(msg, &op, needed, break_glass, &alerts, &body)
            .await
    }

    /// The answer refusing a rollback (or its break-glass) to whoever
    /// may not ask for it, if they may not.
    fn may_roll_back(
        &self,
        msg: &Incoming,
        env: &Env,
        cfg: &EnvironmentConfig,
        policy: &crate::domain::EnvPolicy,
        break_glass: Option<&str>,
    ) -> Option<(String, Option<Reply>)> {
        let roles = self
            .config
            .user(msg.user)
            .map(|u| u.roles.as_slice())
            .unwrap_or(&[]);
        let allowed = may_request_rollback(env, roles, policy).and_then(|()| match break_glass {
            Some(_) => may_break_glass(env, cfg.rollback.break_glass, roles, policy),
            None => Ok(()),
        });
        let refusal = allowed.err()?;
        Some((
            format!("refused:{}", refusal.code()),
            Some(Reply::new(requests::rollback_refused(&refusal))),
        ))
    }

    /// Where a rollback's target stands: a published release (or GitHub
    /// out of reach), not what runs now, run there before (the bot's
    /// history, or a task definition of the service carrying it; without
    /// GitHub, a task definition it can run). `Err` is the answer that
    /// refuses it.
    async fn rollback_target(
        &self,
        env: &Env,
        cfg: &EnvironmentConfig,
        target: &str,
    ) -> Result<Target, (String, Option<Reply>)> {
        let (release, services, history) = tokio::join!(
            self.github.release_for(target),
            self.ecs.services_state(cfg),
            self.store.succeeded_in(env, 1000),
        );
        // GitHub out of reach does not stop a rollback mid-incident: the
        // target is checked against the bot's history and ECS instead, and
        // the approved rollback runs directly on ECS.
        let release = match release {
            Ok(Some(release)) => Some(release),
            Ok(None) => {
                return Err((
                    "refused:not_released".into(),
                    Some(Reply::new(requests::rollback_not_released(target))),
                ));
            }
            Err(e) if e.is_unreachable() => {
                tracing::warn!(error = %e, "rollback: GitHub unreachable; the rollback runs on ECS");
                None
            }
            Err(e) => {
                // GitHub answers, refusing the bot: its UI still works.
                return Err((
                    "error:github".into(),
                    Some(Reply::new(requests::rollback_release_unchecked(
                        target,
                        &e.to_string(),
                    ))),
                ));
            }
        };
        let github_down = release.is_none();
        // The first service must be read (what runs, as the prompt says
        // it); another that cannot be read (an IAM policy scoped to some
        // services, a service deleted) does not hold the rollback up
        // mid-incident: it counts as not running the version yet.
        let mut services = services.into_iter();
        let first = match services.next() {
            Some(Err(e)) => {
                return Err((
                    "error:ecs".into(),
                    Some(Reply::new(requests::ecs_unreadable(env, &e.to_string()))),
                ));
            }
            first => first,
        };
        let tags: Vec<Option<String>> = first
            .into_iter()
            .chain(services)
            .map(|state| {
                state
                    .inspect_err(|e| {
                        tracing::warn!(error = %e, env = %env, "rollback: a service unreadable");
                    })
                    .ok()?
                    .primary()
                    .and_then(|d| d.image.as_deref())
                    .and_then(image_tag)
                    .map(str::to_owned)
            })
            .collect();
        // What runs now, as the prompt says it: the first service's. The
        // rollback has nothing to do only once every service runs it (a
        // partial rollback is finished by asking again).
        let running = tags.first().cloned().flatten();
        if let Some(now) = &running
            && tags
                .iter()
                .all(|t| t.as_deref().is_some_and(|t| tag_is_version(t, target)))
        {
            return Err((
                "refused:already_running".into(),
                Some(Reply::new(requests::already_runs(env, now))),
            ));
        }
        let history = match history {
            Ok(history) => history,
            Err(e) => return Err(self.internal_error("rollback: store", &e)),
        };
        let in_history = history
            .iter()
            .find(|op| tag_is_version(&op.version, target))
            .map(|op| {
                requests::ran_here_after(op.id, &utc(crate::alerts::format::from_ms(op.updated_at)))
            });
        // Without GitHub the rollback needs a task definition carrying the
        // version, whatever the history says: ECS runs only those.
        let carrying = if in_history.is_none() || github_down {
            match self.ecs.revisions(cfg.first_service(), HISTORY_SCAN).await {
                Ok(revisions) => revisions.into_iter().find(|r| carries(r, target)),
                Err(e) if github_down => {
                    tracing::warn!(error = %e, "rollback: revisions");
                    return Err((
                        "error:ecs".into(),
                        Some(Reply::new(github_down_ecs_unreadable(env.as_str(), target))),
                    ));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "rollback: revisions");
                    None
                }
            }
        } else {
            None
        };
        let from_ecs = carrying.as_ref().map(|r| requests::carried_by(&r.name));
        let Some(ran_here) = in_history.or(from_ecs) else {
            return Err((
                "refused:never_ran".into(),
                Some(Reply::new(requests::never_ran(env, target))),
            ));
        };
        if github_down && carrying.is_none() {
            return Err((
                "refused:no_task_definition".into(),
                Some(Reply::new(github_down_no_task_definition(target))),
            ));
        }
        // Each service runs its own family's task definitions: without
        // GitHub, every one of them needs one carrying the version, or
        // none is touched.
        let mut on_ecs = Vec::new();
        if github_down && cfg.services().len() > 1 {
            match self.direct_targets(cfg, target).await {
                Ok(Targets::Found(targets)) => on_ecs = targets,
                Ok(Targets::Missing(missing)) => {
                    let missing: Vec<&str> = missing.iter().map(String::as_str).collect();
                    return Err((
                        "refused:no_task_definition".into(),
                        Some(Reply::new(github_down_missing(target, &missing))),
                    ));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "rollback: revisions");
                    return Err((
                        "error:ecs".into(),
                        Some(Reply::new(github_down_ecs_unreadable(env.as_str(), target))),
                    ));
                }
            }
        }
        Ok(Target {
            release,
            running,
            carrying,
            on_ecs,
            ran_here,
        })
    }

    /// Stores a rollback request with its prompts or break-glass alert;
    /// one that needs no approval is dispatched at once.
    async fn start_rollback(
        &self,
        msg: &Incoming,
        op: &NewOperation,
        needed: u32,
        break_glass: Option<&str>,
        alerts: &[NewAlert],
        body: &str,
    ) -> (String, Option<Reply>) {
        let (target, env) = (&op.version, op.env.as_ref().expect("a rollback has an env"));
        let (state, github_down) = (op.state, op.direct_ecs);
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
        let id = match self.create_operation(op, &audit, alerts).await {
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
        let head = requests::rollback_at_once(id.0, env, target, break_glass.is_some(), body);
        self.dispatch_claimed(id, &head).await
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
                Some(Reply::new(requests::rollback_busy(&refusal.message()))),
            ));
        }
        let by = self.name_of(msg.user.0);
        let text = requests::withdrawn_for_rollback(op.kind, op.id, &op.version, env, &by);
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
                requests::migrations_added(target_tag, &added)
            }
            Err(e) => requests::migrations_unchecked(target_tag, &head, &e.to_string()),
        }
    }
}
