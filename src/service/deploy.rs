//! `/deploy <env> <version>`: the policy's verdict, the approval prompt,
//! decisions on it, and the dispatch of the Deploy workflow — each state
//! change with its audit line and alerts in one transaction.

use serde::{Deserialize, Serialize};

use super::{App, Incoming, Reply};
use crate::adapters::ecs::image_tag;
use crate::alerts::format::{escape, link, span, utc};
use crate::alerts::{self, Rendered};
use crate::config::{EnvironmentConfig, WorkflowInput};
use crate::domain::{
    AlertKind, DecisionFacts, DeployFacts, DeployVerdict, Env, EnvPolicy, OperationId,
    OperationState, UserId, Version, judge_deploy, may_decide,
};
use crate::store::{AuditEntry, Created, Decided, DispatchClaim, NewAlert, NewOperation};

/// One inline button: its label and its `callback_data` (≤ 64 bytes: an
/// operation id and an action, never the version or the environment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub text: String,
    pub data: String,
}

/// A tap on a button, as the Telegram front hands it over.
#[derive(Debug, Clone)]
pub struct Tap {
    pub user: UserId,
    /// The chat of the message the button is under, when Telegram says.
    pub chat: Option<i64>,
    pub data: String,
}

/// The answer to a tap (`answerCallbackQuery`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapAnswer {
    pub text: String,
    /// Show as an alert the person must dismiss (refusals).
    pub alert: bool,
}

/// What a button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Approve,
    Reject,
    Verified,
    FoundIssues,
    ReleaseAnyway,
    CancelRelease,
}

/// Reads `d:<operation>:<a|r>` (a decision) or `q:<operation>:<v|i>` (QA's
/// verdict); anything else is not ours.
fn parse_tap(data: &str) -> Option<(OperationId, Action)> {
    let mut parts = data.split(':');
    let (Some(kind @ ("d" | "q" | "r")), Some(id), Some(action), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if id.is_empty() || id.len() > 18 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let action = match (kind, action) {
        ("d", "a") => Action::Approve,
        ("d", "r") => Action::Reject,
        ("q", "v") => Action::Verified,
        ("q", "i") => Action::FoundIssues,
        ("r", "y") => Action::ReleaseAnyway,
        ("r", "n") => Action::CancelRelease,
        _ => return None,
    };
    Some((OperationId(id.parse().ok()?), action))
}

fn policy_of(cfg: &EnvironmentConfig) -> EnvPolicy {
    EnvPolicy {
        requesters: cfg.requesters.clone(),
        approvers: cfg.approval.approvers.clone(),
        approvals: cfg.approval.approvals,
        four_eyes: cfg.approval.four_eyes,
        requires_verified_in: cfg.approval.requires_verified_in.clone(),
    }
}

fn prompt_key(op: &str, chat: i64) -> String {
    format!("op:{op}:prompt@{chat}")
}

impl App {
    fn name_of(&self, user: i64) -> String {
        self.config
            .user(UserId(user))
            .map(|u| u.name.clone())
            .unwrap_or_else(|| format!("user {user}"))
    }

    fn audit(
        &self,
        actor: Option<UserId>,
        chat: Option<i64>,
        action: &str,
        outcome: &str,
        op: Option<OperationId>,
        detail: String,
    ) -> AuditEntry {
        AuditEntry {
            actor,
            chat: chat.map(crate::domain::ChatId),
            action: action.to_owned(),
            outcome: outcome.to_owned(),
            operation: op,
            detail,
        }
    }

    /// `/deploy`: returns the audit outcome and the direct answer, if any
    /// (an approval prompt goes out through the outbox instead).
    pub(super) async fn deploy(
        &self,
        msg: &Incoming,
        env: &Env,
        version: &Version,
        dry_run: bool,
    ) -> (String, Option<Reply>) {
        let Some(cfg) = self.config.environments.get(env) else {
            return (
                "invalid".into(),
                Some(Reply::new(format!(
                    "❌ Unknown environment {}.",
                    escape(env.as_str())
                ))),
            );
        };
        let policy = policy_of(cfg);
        let roles = self
            .config
            .user(msg.user)
            .map(|u| u.roles.clone())
            .unwrap_or_default();
        let tag = version.to_string();

        let released = match self.github.release_for(&tag).await {
            Ok(r) => r.is_some(),
            Err(e) => {
                tracing::warn!(error = %e, "deploy: release look-up failed");
                return (
                    "error:github".into(),
                    Some(Reply::new(format!(
                        "⚠️ Could not check on GitHub that {} is released ({}). Nothing was done.",
                        escape(&tag),
                        escape(&e.to_string())
                    ))),
                );
            }
        };
        let store_facts = async {
            let verified = match &policy.requires_verified_in {
                Some(prior) => self.store.is_verified(prior.as_str(), &tag).await?,
                None => true,
            };
            let lock = self
                .store
                .active_locks()
                .await?
                .into_iter()
                .find(|l| l.env == env.as_str())
                .map(|l| (self.name_of(l.locked_by), l.reason));
            let in_flight = self
                .store
                .live_operations()
                .await?
                .into_iter()
                .find(|o| o.env.as_deref() == Some(env.as_str()))
                .map(|o| (o.id, o.kind.clone(), o.version.clone(), o.state()));
            Ok::<_, crate::store::StoreError>((verified, lock, in_flight))
        };
        let (verified, lock, in_flight) = match store_facts.await {
            Ok(facts) => facts,
            Err(e) => return self.internal_error("deploy: store", &e),
        };
        let verdict = judge_deploy(&DeployFacts {
            env,
            version,
            requester_roles: &roles,
            policy: &policy,
            released,
            verified_before: verified,
            lock,
            in_flight,
        });
        let needed = match verdict {
            DeployVerdict::Refused(refusal) if dry_run => {
                return (
                    "dry_run".into(),
                    Some(Reply::new(format!(
                        "🧪 Dry run of /deploy {} {}: it would be refused.\n{}",
                        escape(env.as_str()),
                        escape(&tag),
                        escape(&refusal.message())
                    ))),
                );
            }
            DeployVerdict::Refused(refusal) => {
                return (
                    format!("refused:{}", refusal.code()),
                    Some(Reply::new(escape(&refusal.message()))),
                );
            }
            DeployVerdict::Proceed => 0,
            DeployVerdict::NeedsApprovals(n) => n,
        };

        let running_tag = self.running_tag(cfg).await;
        let running = match &running_tag {
            Ok(Some(tag)) => format!("<b>{}</b>", escape(tag)),
            Ok(None) => "unknown".into(),
            Err(e) => format!("unknown (ECS: {})", escape(e)),
        };
        let requester = self.name_of(msg.user.0);
        if dry_run {
            let would = if needed == 0 {
                "would be dispatched at once: no approval is needed".to_owned()
            } else {
                let approvers: Vec<&str> = policy.approvers.iter().map(|r| r.as_str()).collect();
                let not_you = if policy.four_eyes {
                    format!(" (not {requester})")
                } else {
                    String::new()
                };
                format!(
                    "would need {needed} approval(s) from: {}{not_you}",
                    approvers.join(", ")
                )
            };
            return (
                "dry_run".into(),
                Some(Reply::new(format!(
                    "🧪 Dry run: Deploy {} → {} {}.\nRunning there now: {running}\nNothing was dispatched.",
                    escape(&tag),
                    escape(env.as_str()),
                    escape(&would)
                ))),
            );
        }
        let expiry = cfg.approval.expiry;
        let expires_at = crate::store::now_ms() + expiry.as_millis() as i64;
        let head = format!(
            "<b>Deploy {} → {}</b> · #{{op}}",
            escape(&tag),
            escape(env.as_str())
        );
        let (state, alerts) = if needed == 0 {
            (OperationState::Approved, vec![])
        } else {
            let approvers: Vec<&str> = policy.approvers.iter().map(|r| r.as_str()).collect();
            let mut text = format!(
                "🚀 {head}\nAsked by {}\nRunning there now: {running}\nNeeds {needed} approval(s) from: {}",
                escape(&requester),
                escape(&approvers.join(", "))
            );
            if policy.four_eyes {
                text.push_str(&format!(" (not {})", escape(&requester)));
            }
            text.push_str(&format!(
                "\nExpires {} (in {})",
                utc(crate::alerts::format::from_ms(expires_at)),
                span(expiry.as_secs() as i64)
            ));
            let buttons = vec![vec![
                Button {
                    text: "✅ Approve".into(),
                    data: "d:{op}:a".into(),
                },
                Button {
                    text: "❌ Reject".into(),
                    data: "d:{op}:r".into(),
                },
            ]];
            let prompt = NewAlert {
                buttons: Some(serde_json::to_string(&buttons).expect("buttons serialise")),
                ..NewAlert::message(
                    prompt_key("{op}", msg.chat.0),
                    AlertKind::Approval,
                    Some(env.clone()),
                    msg.chat,
                    text,
                )
            };
            (OperationState::AwaitingApproval, vec![prompt])
        };
        let op = NewOperation {
            kind: "deploy",
            env: Some(env.as_str().to_owned()),
            version: tag.clone(),
            release_type: None,
            state,
            requested_by: msg.user,
            chat_id: msg.chat.0,
            request_id: uuid::Uuid::new_v4().to_string(),
            expires_in_ms: (needed > 0).then_some(expiry.as_millis() as i64),
            // What the approval will rest on: checked again at dispatch.
            detail: running_tag.ok().flatten().map(|t| format!("running={t}")),
        };
        let audit = self.audit(
            Some(msg.user),
            Some(msg.chat.0),
            "operation:deploy",
            state.as_str(),
            None,
            format!("{tag} to {env}; needs {needed} approval(s)"),
        );
        let id = match self.store.create_operation(&op, &audit, &alerts).await {
            Ok(Created::New(id)) => id,
            Ok(Created::Busy) => {
                return (
                    "refused:busy".into(),
                    Some(Reply::new(format!(
                        "⏳ {} already has an operation in flight. One operation at a time per environment.",
                        escape(env.as_str())
                    ))),
                );
            }
            Err(e) => return self.internal_error("deploy: store", &e),
        };
        if needed > 0 {
            self.outbox.notify_one();
            return ("requested".into(), None);
        }
        let head = format!(
            "🚀 #{} Deploy {} → {}: no approval needed.",
            id.0,
            escape(&tag),
            escape(env.as_str())
        );
        self.dispatch_claimed(id, &head).await
    }

    /// The image tag the environment's service runs now.
    async fn running_tag(&self, cfg: &EnvironmentConfig) -> Result<Option<String>, String> {
        self.ecs
            .service_state(cfg)
            .await
            .map(|s| {
                s.primary()
                    .and_then(|d| d.image.as_deref())
                    .and_then(image_tag)
                    .map(str::to_owned)
            })
            .map_err(|e| e.to_string())
    }

    /// Re-checks, at dispatch, what an approval rested on: the version is
    /// still verified where policy wants it, the environment is not
    /// locked, the requester may still ask, and nobody deployed there in
    /// between. `Err` says why the approval went stale.
    async fn recheck(
        &self,
        op: &crate::store::OperationRow,
        cfg: &EnvironmentConfig,
    ) -> Result<(), String> {
        let env = op.env.as_deref().unwrap_or_default();
        let policy = policy_of(cfg);
        let roles = self
            .config
            .user(UserId(op.requested_by))
            .map(|u| u.roles.as_slice())
            .unwrap_or(&[]);
        if !roles.iter().any(|r| policy.requesters.contains(r)) {
            return Err(format!(
                "{} may no longer ask for deploys to {env}",
                self.name_of(op.requested_by)
            ));
        }
        if let Some(prior) = &policy.requires_verified_in {
            match self.store.is_verified(prior.as_str(), &op.version).await {
                Ok(true) => {}
                Ok(false) => {
                    return Err(format!("{} is no longer verified in {prior}", op.version));
                }
                Err(e) => return Err(format!("the verification could not be read ({e})")),
            }
        }
        match self.store.active_locks().await {
            Ok(locks) => {
                if let Some(lock) = locks.iter().find(|l| l.env == env) {
                    return Err(format!(
                        "{env} was locked by {}: {}",
                        self.name_of(lock.locked_by),
                        lock.reason
                    ));
                }
            }
            Err(e) => return Err(format!("the locks could not be read ({e})")),
        }
        let shown = op
            .detail
            .as_deref()
            .and_then(|d| d.strip_prefix("running="));
        if let (Some(shown), Ok(Some(now))) = (shown, self.running_tag(cfg).await)
            && shown != now
        {
            return Err(format!(
                "{env} changed since the request: it ran {shown} and now runs {now}"
            ));
        }
        Ok(())
    }

    /// A tap on an approval button.
    pub async fn handle_tap(&self, tap: &Tap) -> TapAnswer {
        let refuse = |text: String| TapAnswer { text, alert: true };
        let Some((id, action)) = parse_tap(&tap.data) else {
            self.audit_quietly(self.audit(
                Some(tap.user),
                None,
                "tap",
                "refused:forged",
                None,
                crate::alerts::format::clip(&tap.data, 64),
            ))
            .await;
            return refuse("This button is not one of mine.".into());
        };
        let op = match self.store.operation(id).await {
            Ok(Some(op))
                if (op.kind == "release")
                    == matches!(action, Action::ReleaseAnyway | Action::CancelRelease) =>
            {
                op
            }
            Ok(_) => {
                self.audit_quietly(self.audit(
                    Some(tap.user),
                    None,
                    "tap",
                    "refused:forged",
                    None,
                    tap.data.clone(),
                ))
                .await;
                return refuse("This button is not one of mine.".into());
            }
            Err(e) => {
                tracing::error!(error = %e, "tap: store");
                return refuse("Something went wrong on my side; try again in a moment.".into());
            }
        };
        if op.kind == "release" {
            return self
                .confirm_release(tap, &op, action == Action::ReleaseAnyway)
                .await;
        }
        let Some(cfg) = op
            .env
            .as_deref()
            .and_then(|e| Env::parse(e).ok())
            .and_then(|e| self.config.environments.get(&e))
        else {
            return refuse("This environment is no longer configured.".into());
        };
        if matches!(action, Action::Verified | Action::FoundIssues) {
            return self
                .qa_verdict(tap, &op, cfg, action == Action::Verified)
                .await;
        }
        let policy = policy_of(cfg);
        let user = self.config.user(tap.user);
        let facts = DecisionFacts {
            requester: UserId(op.requested_by),
            state: op.state(),
            expired: op.expires_at.is_some_and(|t| t <= crate::store::now_ms()),
            decider: tap.user,
            decider_roles: user.map(|u| u.roles.as_slice()),
            already_voted: false,
            policy: &policy,
        };
        let verb = if action == Action::Approve {
            "approve"
        } else {
            "reject"
        };
        if let Err(refusal) = may_decide(&facts) {
            self.audit_quietly(self.audit(
                Some(tap.user),
                Some(op.chat_id),
                &format!("tap:{verb}"),
                &format!("refused:{}", refusal.code()),
                Some(id),
                refusal.message(),
            ))
            .await;
            return refuse(refusal.message());
        }
        let decider = self.name_of(tap.user.0);
        let requester = self.name_of(op.requested_by);
        let head = format!(
            "<b>Deploy {} → {}</b> · #{}\nAsked by {}",
            escape(&op.version),
            escape(op.env.as_deref().unwrap_or("?")),
            op.id,
            escape(&requester)
        );
        let outcome_text = if action == Action::Approve {
            format!(
                "✅ {head}\nApproved by {}; dispatching the Deploy workflow.",
                escape(&decider)
            )
        } else {
            format!("❌ {head}\nRejected by {}.", escape(&decider))
        };
        let key = prompt_key(&op.id.to_string(), op.chat_id);
        let edit = NewAlert {
            edit_of: Some(key.clone()),
            ..NewAlert::message(
                format!("{key}:{verb}"),
                AlertKind::Approval,
                op.env.as_deref().and_then(|e| Env::parse(e).ok()),
                crate::domain::ChatId(op.chat_id),
                outcome_text,
            )
        };
        let audit = self.audit(
            Some(tap.user),
            Some(op.chat_id),
            &format!("tap:{verb}"),
            "recorded",
            Some(id),
            String::new(),
        );
        let needed = i64::from(policy.approvals.max(1));
        // What the request rested on is checked again before the approval
        // counts: a stale request is cancelled, never dispatched.
        if action == Action::Approve
            && let Err(why) = self.recheck(&op, cfg).await
        {
            return self.stale(&op, &decider, &why).await;
        }
        match self
            .store
            .decide(
                id,
                tap.user,
                action == Action::Approve,
                needed,
                &audit,
                &[edit],
            )
            .await
        {
            Ok(Decided::Moved(OperationState::Approved)) => {
                self.outbox.notify_one();
                match self.store.claim_dispatch(id).await {
                    Ok(Some(claim)) => {
                        // A failure is alerted and recorded by dispatch itself.
                        let _ = self.dispatch(claim, Some(decider)).await;
                    }
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %e, operation = id.0, "claim dispatch"),
                }
                TapAnswer {
                    text: "Approved. Dispatching the Deploy workflow.".into(),
                    alert: false,
                }
            }
            Ok(Decided::Moved(_)) => {
                self.outbox.notify_one();
                TapAnswer {
                    text: "Rejected.".into(),
                    alert: false,
                }
            }
            Ok(Decided::Counted { approvals }) => TapAnswer {
                text: format!("Recorded: {approvals} of {needed} approvals."),
                alert: false,
            },
            Ok(Decided::AlreadyVoted) => refuse("You have already decided on this request.".into()),
            Ok(Decided::TooLate(state)) => {
                refuse(format!("Too late: this request is already {state}."))
            }
            Err(e) => {
                tracing::error!(error = %e, "tap: store");
                refuse("Something went wrong on my side; try again in a moment.".into())
            }
        }
    }

    /// Dispatches the workflow of a claimed operation (Deploy or Release).
    /// Never retried blindly: a failure ends the operation, said loudly,
    /// and is returned for the requester's answer.
    pub(super) async fn dispatch(
        &self,
        claim: DispatchClaim,
        approver: Option<String>,
    ) -> Result<(), String> {
        let op = claim.operation;
        let id = OperationId(op.id);
        let env = op.env.clone().unwrap_or_default();
        let env_typed = Env::parse(&env).ok();
        let workflows = &self.config.github.workflows;
        let release = op.kind == "release";
        let wf = if release {
            &workflows.release
        } else {
            &workflows.deploy
        };
        let mut inputs = vec![(wf.input_name(WorkflowInput::Version), op.version.clone())];
        if release {
            let kind = op.release_type.clone().unwrap_or_default();
            inputs.push((wf.input_name(WorkflowInput::ReleaseType), kind));
        } else {
            inputs.insert(0, (wf.input_name(WorkflowInput::Environment), env.clone()));
        }
        inputs.push((
            wf.input_name(WorkflowInput::RequestId),
            op.request_id.clone(),
        ));
        let who = match &approver {
            Some(a) => format!(
                "Asked by {} · approved by {}",
                escape(&self.name_of(op.requested_by)),
                escape(a)
            ),
            None => format!("Asked by {}", escape(&self.name_of(op.requested_by))),
        };
        let (what, kind) = if release {
            (
                format!(
                    "<b>Release {}</b> ({})",
                    escape(&op.version),
                    escape(op.release_type.as_deref().unwrap_or("?"))
                ),
                AlertKind::Release,
            )
        } else {
            (
                format!(
                    "<b>{}</b> · deploy of <b>{}</b>",
                    escape(&env),
                    escape(&op.version)
                ),
                AlertKind::Deployment,
            )
        };
        let action = format!("dispatch:{}", op.kind);
        match self.github.dispatch(&wf.file, &inputs).await {
            Ok(run) => {
                let run_link = run
                    .html_url
                    .as_deref()
                    .map(|u| format!("\n{}", link(u, "Workflow run")))
                    .unwrap_or_default();
                let text = format!("🚀 {what} started (#{})\n{who}{run_link}", op.id);
                let alerts = alerts::route(
                    &self.config,
                    &Rendered {
                        kind,
                        env: env_typed,
                        key: format!("op:{}:dispatched", op.id),
                        text,
                    },
                );
                let audit = self.audit(
                    None,
                    None,
                    &action,
                    "dispatched",
                    Some(id),
                    format!("run {:?}", run.run_id),
                );
                let run_id = run.run_id.and_then(|r| i64::try_from(r).ok());
                if let Err(e) = self
                    .store
                    .record_dispatch(id, run_id, run.html_url.as_deref(), &audit, &alerts)
                    .await
                {
                    tracing::error!(error = %e, operation = op.id, "recording a dispatch failed");
                }
                self.outbox.notify_one();
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, operation = op.id, "dispatch failed");
                let text = format!(
                    "❌ {what} (#{}) could not be dispatched: {}\n{who}",
                    op.id,
                    escape(&e.to_string())
                );
                let alerts = alerts::route(
                    &self.config,
                    &Rendered {
                        kind: AlertKind::Failure,
                        env: env_typed,
                        key: format!("op:{}:dispatch-failed", op.id),
                        text,
                    },
                );
                let audit = self.audit(None, None, &action, "failed", Some(id), e.to_string());
                if let Err(e) = self
                    .store
                    .advance(
                        id,
                        &[OperationState::Dispatched],
                        OperationState::Failed,
                        None,
                        Some(&e.to_string()),
                        &audit,
                        &alerts,
                    )
                    .await
                {
                    tracing::error!(error = %e, operation = op.id, "recording a failed dispatch failed");
                }
                self.outbox.notify_one();
                Err(e.to_string())
            }
        }
    }

    /// An approval whose grounds changed: the operation is cancelled, the
    /// prompt says why, nothing is dispatched.
    async fn stale(&self, op: &crate::store::OperationRow, decider: &str, why: &str) -> TapAnswer {
        let id = OperationId(op.id);
        let key = prompt_key(&op.id.to_string(), op.chat_id);
        let text = format!(
            "⚠️ <b>Deploy {} → {}</b> · #{}\nAsked by {}\nApproved by {}, but no longer valid: {}. Nothing was dispatched.",
            escape(&op.version),
            escape(op.env.as_deref().unwrap_or("?")),
            op.id,
            escape(&self.name_of(op.requested_by)),
            escape(decider),
            escape(why)
        );
        let edit = NewAlert {
            edit_of: Some(key.clone()),
            ..NewAlert::message(
                format!("{key}:stale"),
                AlertKind::Approval,
                op.env.as_deref().and_then(|e| Env::parse(e).ok()),
                crate::domain::ChatId(op.chat_id),
                text,
            )
        };
        let audit = self.audit(
            None,
            Some(op.chat_id),
            "dispatch:deploy",
            "refused:stale",
            Some(id),
            why.to_owned(),
        );
        if let Err(e) = self
            .store
            .advance(
                id,
                &[OperationState::AwaitingApproval, OperationState::Approved],
                OperationState::Cancelled,
                None,
                Some(why),
                &audit,
                &[edit],
            )
            .await
        {
            tracing::error!(error = %e, operation = op.id, "recording a stale approval failed");
        }
        self.outbox.notify_one();
        TapAnswer {
            text: format!("Approved, but not dispatched: {why}."),
            alert: true,
        }
    }

    /// The requester's answer to "Release anyway?".
    async fn confirm_release(
        &self,
        tap: &Tap,
        op: &crate::store::OperationRow,
        go: bool,
    ) -> TapAnswer {
        let id = OperationId(op.id);
        let verb = if go { "release_anyway" } else { "cancel" };
        let refusal = if tap.user.0 != op.requested_by {
            Some((
                "not_the_requester",
                format!("Only {} can answer this.", self.name_of(op.requested_by)),
            ))
        } else if op.state() != OperationState::AwaitingApproval {
            Some((
                "already_decided",
                format!("Too late: this request is already {}.", op.state()),
            ))
        } else if op.expires_at.is_some_and(|t| t <= crate::store::now_ms()) {
            Some((
                "expired",
                "This question has expired. Ask again if it is still wanted.".to_owned(),
            ))
        } else {
            None
        };
        if let Some((code, text)) = refusal {
            self.audit_quietly(self.audit(
                Some(tap.user),
                tap.chat,
                &format!("tap:{verb}"),
                &format!("refused:{code}"),
                Some(id),
                text.clone(),
            ))
            .await;
            return TapAnswer { text, alert: true };
        }
        let key = super::release::confirm_key(&op.id.to_string(), op.chat_id);
        let head = format!(
            "<b>Release {} ({})</b> · #{}",
            escape(&op.version),
            escape(op.release_type.as_deref().unwrap_or("?")),
            op.id
        );
        let who = escape(&self.name_of(tap.user.0));
        let (to, text) = if go {
            (
                OperationState::Approved,
                format!(
                    "⚠️ {head}\nConfirmed by {who} despite the bump; dispatching the Release workflow."
                ),
            )
        } else {
            (
                OperationState::Cancelled,
                format!("✖️ {head}\nCancelled by {who}."),
            )
        };
        let edit = NewAlert {
            edit_of: Some(key.clone()),
            ..NewAlert::message(
                format!("{key}:{verb}"),
                AlertKind::Approval,
                None,
                crate::domain::ChatId(op.chat_id),
                text,
            )
        };
        let audit = self.audit(
            Some(tap.user),
            tap.chat,
            &format!("tap:{verb}"),
            to.as_str(),
            Some(id),
            String::new(),
        );
        match self
            .store
            .advance(
                id,
                &[OperationState::AwaitingApproval],
                to,
                None,
                None,
                &audit,
                &[edit],
            )
            .await
        {
            Ok(true) => {
                self.outbox.notify_one();
                if go {
                    if let Ok(Some(claim)) = self.store.claim_dispatch(id).await {
                        let _ = self.dispatch(claim, None).await;
                    }
                    TapAnswer {
                        text: "Confirmed. Dispatching the Release workflow.".into(),
                        alert: false,
                    }
                } else {
                    TapAnswer {
                        text: "Cancelled.".into(),
                        alert: false,
                    }
                }
            }
            Ok(false) => TapAnswer {
                text: "Too late: this request was already answered.".into(),
                alert: true,
            },
            Err(e) => {
                tracing::error!(error = %e, "release confirm: store");
                TapAnswer {
                    text: "Something went wrong on my side; try again in a moment.".into(),
                    alert: true,
                }
            }
        }
    }

    /// QA's verdict on a version that reached an environment.
    async fn qa_verdict(
        &self,
        tap: &Tap,
        op: &crate::store::OperationRow,
        cfg: &EnvironmentConfig,
        verified: bool,
    ) -> TapAnswer {
        let id = OperationId(op.id);
        let verb = if verified { "verify" } else { "found_issues" };
        let roles = self
            .config
            .user(tap.user)
            .map(|u| u.roles.as_slice())
            .unwrap_or(&[]);
        let refusal = if !roles.iter().any(|r| cfg.verifiers.contains(r)) {
            let names: Vec<&str> = cfg.verifiers.iter().map(|r| r.as_str()).collect();
            Some((
                "not_a_verifier",
                format!("Only {} may give QA's verdict.", names.join(", ")),
            ))
        } else if op.state() != OperationState::Succeeded {
            Some((
                "not_deployed",
                format!("#{} is {}, not a finished deploy.", op.id, op.state()),
            ))
        } else {
            None
        };
        if let Some((code, text)) = refusal {
            self.audit_quietly(self.audit(
                Some(tap.user),
                tap.chat,
                &format!("tap:{verb}"),
                &format!("refused:{code}"),
                Some(id),
                text.clone(),
            ))
            .await;
            return TapAnswer { text, alert: true };
        }
        let env = op.env.clone().unwrap_or_default();
        let who = self.name_of(tap.user.0);
        let audit = self.audit(
            Some(tap.user),
            tap.chat,
            &format!("tap:{verb}"),
            "recorded",
            Some(id),
            format!("{} in {env}", op.version),
        );
        let mut edits = Vec::new();
        if let Some(chat) = tap.chat {
            let key = format!("op:{}:qa@{chat}", op.id);
            let text = if verified {
                format!(
                    "✅ <b>{} {}</b> (#{}) verified by {}",
                    escape(&env),
                    escape(&op.version),
                    op.id,
                    escape(&who)
                )
            } else {
                format!(
                    "🐞 <b>{} {}</b> (#{}): {} found issues",
                    escape(&env),
                    escape(&op.version),
                    op.id,
                    escape(&who)
                )
            };
            edits.push(NewAlert {
                edit_of: Some(key.clone()),
                ..NewAlert::message(
                    format!("{key}:{verb}:{}", tap.user.0),
                    AlertKind::Approval,
                    Env::parse(&env).ok(),
                    crate::domain::ChatId(chat),
                    text,
                )
            });
        }
        if let Err(e) = self
            .store
            .record_verification(&env, &op.version, verified, tap.user, &audit, &edits)
            .await
        {
            tracing::error!(error = %e, "qa verdict: store");
            return TapAnswer {
                text: "Something went wrong on my side; try again in a moment.".into(),
                alert: true,
            };
        }
        self.outbox.notify_one();
        TapAnswer {
            text: if verified {
                format!("Recorded: {} verified.", op.version)
            } else {
                format!("Recorded: issues found in {}.", op.version)
            },
            alert: false,
        }
    }

    /// Ends the requests nobody decided in time: each prompt is edited to
    /// say so and loses its buttons.
    pub async fn expire_requests(&self) {
        let ops = match self.store.expired_requests().await {
            Ok(ops) => ops,
            Err(e) => {
                tracing::warn!(error = %e, "expiry: store unreadable");
                return;
            }
        };
        for op in ops {
            let id = OperationId(op.id);
            let waited = op.expires_at.unwrap_or(op.created_at) - op.created_at;
            let (key, text) = if op.kind == "release" {
                (
                    super::release::confirm_key(&op.id.to_string(), op.chat_id),
                    format!(
                        "⌛ <b>Release {} ({})</b> · #{}\nNot confirmed within {}; nothing was released.",
                        escape(&op.version),
                        escape(op.release_type.as_deref().unwrap_or("?")),
                        op.id,
                        span(waited / 1000)
                    ),
                )
            } else {
                (
                    prompt_key(&op.id.to_string(), op.chat_id),
                    format!(
                        "⌛ <b>Deploy {} → {}</b> · #{}\nAsked by {}\nExpired after {} with no decision. Ask again if it is still wanted.",
                        escape(&op.version),
                        escape(op.env.as_deref().unwrap_or("?")),
                        op.id,
                        escape(&self.name_of(op.requested_by)),
                        span(waited / 1000)
                    ),
                )
            };
            let edit = NewAlert {
                edit_of: Some(key.clone()),
                ..NewAlert::message(
                    format!("{key}:expired"),
                    AlertKind::Approval,
                    op.env.as_deref().and_then(|e| Env::parse(e).ok()),
                    crate::domain::ChatId(op.chat_id),
                    text,
                )
            };
            let audit = self.audit(
                None,
                Some(op.chat_id),
                "expiry",
                "expired",
                Some(id),
                String::new(),
            );
            match self
                .store
                .advance(
                    id,
                    &[OperationState::AwaitingApproval],
                    OperationState::Expired,
                    None,
                    None,
                    &audit,
                    &[edit],
                )
                .await
            {
                Ok(true) => self.outbox.notify_one(),
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, operation = op.id, "expiry failed"),
            }
        }
    }

    async fn audit_quietly(&self, entry: AuditEntry) {
        if let Err(e) = self.store.audit(&entry).await {
            tracing::error!(error = %e, action = %entry.action, "audit log write failed");
        }
    }

    /// An internal failure: logged with its cause, shown as one line with
    /// a reference to quote.
    pub(super) fn internal_error(
        &self,
        what: &str,
        e: &dyn std::fmt::Display,
    ) -> (String, Option<Reply>) {
        let reference = &uuid::Uuid::new_v4().simple().to_string()[..8];
        tracing::error!(reference, error = %e, "{what}");
        (
            "error:internal".into(),
            Some(Reply::new(format!(
                "⚠️ Something went wrong on my side (ref {reference}); nothing was done. It is in the bot's log."
            ))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taps_are_read_strictly() {
        assert_eq!(
            parse_tap("d:12:a"),
            Some((OperationId(12), Action::Approve))
        );
        assert_eq!(parse_tap("d:12:r"), Some((OperationId(12), Action::Reject)));
        for forged in [
            "d:12:x",
            "d:12",
            "d:-1:a",
            "d::a",
            "x:12:a",
            "d:12:a:b",
            "d:1e3:a",
            "d:99999999999999999999:a",
            "",
        ] {
            assert_eq!(parse_tap(forged), None, "{forged}");
        }
    }

    #[test]
    fn button_data_fits_telegram() {
        let data = "d:999999999999999999:r";
        assert!(data.len() <= 64);
        assert!(parse_tap(data).is_some());
    }
}
