//! `/deploy <env> <version>`: the policy's verdict, the approval prompt,
//! decisions on it, and the dispatch of the Deploy workflow — each state
//! change with its audit line and alerts in one transaction.

use super::taps::{Button, TapAnswer};
use super::{App, Incoming, Reply};
use crate::adapters::ecs::{image_tag, tag_is_version};
use crate::alerts::format::{escape, link, span, utc};
use crate::config::EnvironmentConfig;
use crate::domain::EditStep;
use crate::domain::{
    AlertKey, Callback, ChatId, DeployRefusal, NewOp, OpRef, OpSlot, OpStep, Vote,
};
use crate::domain::{
    DeployFacts, DeployVerdict, Env, EnvPolicy, OperationId, OperationKind, OperationState, UserId,
    Version, judge_deploy,
};
use crate::store::Transition;
use crate::store::{Created, NewOperation};

/// Why a re-check did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Recheck {
    /// What the request rested on changed: it must not be dispatched.
    Stale(String),
    /// The facts could not be read now: try again, change nothing.
    Unavailable(String),
}

/// The policy an operation is decided under: a rollback's for a
/// rollback, the deploy's otherwise.
pub(super) fn policy_for(op: &crate::store::OperationRow, cfg: &EnvironmentConfig) -> EnvPolicy {
    if super::rollback::is_rollback(op) {
        super::rollback::rollback_policy(cfg)
    } else {
        policy_of(cfg)
    }
}

pub(super) fn policy_of(cfg: &EnvironmentConfig) -> EnvPolicy {
    EnvPolicy {
        requesters: cfg.requesters.clone(),
        approvers: cfg.approval.approvers.clone(),
        approvals: cfg.approval.approvals,
        four_eyes: cfg.approval.four_eyes,
        requires_verified_in: cfg.approval.requires_verified_in.clone(),
    }
}

/// "Deploy 1.3.0 → prod" or "Rollback prod → 1.2.2" (HTML-escaped).
pub(super) fn op_title(op: &crate::store::OperationRow) -> String {
    let env = escape(op.env_name().unwrap_or("?"));
    let version = escape(&op.version);
    if op.kind == OperationKind::Rollback {
        format!("Rollback {env} → {version}")
    } else {
        format!("Deploy {version} → {env}")
    }
}

/// Approve / Reject under a prompt (of a new operation, [`NewOp`]: `{op}`
/// becomes its id).
pub(super) fn approval_buttons<O: OpRef>(op: O) -> Vec<Vec<Button>> {
    vec![vec![
        Button {
            text: "✅ Approve".into(),
            data: Callback::Decide {
                op,
                vote: Vote::Approve,
            }
            .encode(),
        },
        Button {
            text: "❌ Reject".into(),
            data: Callback::Decide {
                op,
                vote: Vote::Reject,
            }
            .encode(),
        },
    ]]
}

pub(super) fn prompt_key(op: impl Into<OpSlot>, chat: i64) -> AlertKey {
    AlertKey::op(op, OpStep::Prompt).in_chat(ChatId(chat))
}

/// The key of the question an operation asked in `chat`, if it asked one
/// there: the approval prompt of a deploy or rollback, the "Release
/// anyway?" question of a release.
pub(super) fn asked_key(op: &crate::store::OperationRow, chat: i64) -> AlertKey {
    let id = OperationId(op.id);
    if op.kind == OperationKind::Release {
        super::release::confirm_key(id, chat)
    } else {
        prompt_key(id, chat)
    }
}

/// How many of a family's newest revisions are searched for the one that
/// carries a version (each is described once, then cached).
const ARTIFACT_SCAN: usize = 50;

/// How old the store's part of an approval's re-check may be when the
/// approval is written: a slower ECS answer means the store is read again.
const RECHECK_FRESH: std::time::Duration = std::time::Duration::from_millis(50);

impl App {
    /// Why an environment takes no new operation: what is in flight there
    /// (for the race the checks before creating it could not see).
    pub(super) async fn in_flight(&self, env: &Env) -> String {
        let live = self.store.live_operations().await.unwrap_or_default();
        match live.iter().find(|op| op.env.as_ref() == Some(env)) {
            Some(op) => DeployRefusal::Busy {
                env: env.clone(),
                id: op.id,
                kind: op.kind,
                version: op.version.clone(),
                state: op.state,
            }
            .message(),
            None => format!(
                "⏳ {} already has an operation in flight. One operation at a time per environment.",
                escape(env.as_str())
            ),
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
        let began = std::time::Instant::now();

        let release = match self.github.release_for(&tag).await {
            Ok(r) => r,
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
        tracing::debug!(after = ?began.elapsed(), "deploy: release looked up");
        let released = release.is_some();
        let store_facts = async {
            let verified = match &policy.requires_verified_in {
                Some(prior) => self.store.is_verified(prior, &tag).await?,
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
                .find(|o| o.env.as_ref() == Some(env))
                .map(|o| (o.id, o.kind, o.version.clone(), o.state));
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

        // What runs there now: shown to whoever decides (a dry run, an
        // approver). A deploy that needs no approval does not wait on ECS
        // before its dispatch; it notes what ran before as ECS answers.
        let running_tag = if dry_run || needed > 0 {
            self.running_tag(cfg).await
        } else {
            Ok(None)
        };
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
                "🚀 {head}\nAsked by {}\nRunning there now: {running}\nWill run: {}\nNeeds {needed} approval(s) from: {}",
                escape(&requester),
                self.artifact(cfg, &tag).await,
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
            if let (Some(release), Ok(Some(running))) = (&release, &running_tag) {
                text.push_str(&self.changelog(running, &release.tag_name).await);
            }
            match self.prompt_alerts(
                env,
                msg.chat,
                msg.user,
                &policy,
                &text,
                &approval_buttons(NewOp),
            ) {
                Ok(prompts) => (OperationState::AwaitingApproval, prompts),
                Err(refusal) => return ("refused:no_approver".into(), Some(Reply::new(refusal))),
            }
        };
        let op = NewOperation {
            kind: OperationKind::Deploy,
            env: Some(env.clone()),
            version: tag.clone(),
            release_type: None,
            state,
            requested_by: msg.user,
            chat_id: msg.chat.0,
            request_id: uuid::Uuid::new_v4().to_string(),
            expires_in_ms: (needed > 0).then_some(expiry.as_millis() as i64),
            // What the approval will rest on: checked again at dispatch.
            detail: running_tag.ok().flatten().map(|t| format!("running={t}")),
            run: None,
            direct_ecs: false,
        };
        let audit = self.audit(
            Some(msg.user),
            Some(msg.chat.0),
            "operation:deploy",
            state.as_str(),
            None,
            format!("{tag} to {env}; needs {needed} approval(s)"),
        );
        let created = self.create_operation(&op, &audit, &alerts).await;
        tracing::debug!(after = ?began.elapsed(), "deploy: operation stored");
        let id = match created {
            Ok(Created::New(id)) => id,
            Ok(Created::Busy) => {
                return (
                    "refused:busy".into(),
                    Some(Reply::new(self.in_flight(env).await)),
                );
            }
            Err(e) => return self.internal_error("deploy: store", &e),
        };
        if needed > 0 {
            return ("requested".into(), None);
        }
        let head = format!(
            "🚀 #{} Deploy {} → {}: no approval needed.",
            id.0,
            escape(&tag),
            escape(env.as_str())
        );
        let (answer, ran_before) =
            tokio::join!(self.dispatch_claimed(id, &head), self.running_tag(cfg));
        if let Ok(Some(tag)) = ran_before
            && let Err(e) = self.store.note_ran_before(id, &tag).await
        {
            tracing::warn!(operation = id.0, error = %e, "deploy: what ran before not noted");
        }
        answer
    }

    /// "Changes since X": the commits between what runs and what is asked
    /// for, for the approver to read. Empty when GitHub cannot say.
    async fn changelog(&self, running: &str, wanted_tag: &str) -> String {
        let base = match Version::from_tag(running) {
            Some(v) => match self.github.release_for(&v.to_string()).await {
                Ok(Some(r)) => r.tag_name,
                _ => return String::new(),
            },
            None => return String::new(),
        };
        match self.github.compare(&base, wanted_tag).await {
            Ok(c) if c.total == 0 => format!("\nNo changes since {}.", escape(&base)),
            Ok(c) => {
                const SHOWN: usize = 10;
                let commits = if c.total == 1 {
                    "1 commit".to_owned()
                } else {
                    format!("{} commits", c.total)
                };
                let mut text = format!("\nChanges since {} ({commits}):", escape(&base));
                for subject in c.subjects.iter().rev().take(SHOWN) {
                    text.push_str(&format!(
                        "\n• {}",
                        escape(&crate::alerts::format::clip(subject, 100))
                    ));
                }
                if c.total as usize > SHOWN {
                    text.push_str(&format!("\n… and {} more", c.total as usize - SHOWN));
                }
                text.push_str(&format!("\n{}", link(&c.html_url, "Full comparison")));
                text
            }
            Err(e) => {
                tracing::warn!(error = %e, "changelog unavailable");
                String::new()
            }
        }
    }

    /// The image tag the environment's service runs now.
    /// What a deploy of `version` will run, as far as ECS knows: the image
    /// and the newest task definition revision carrying it (HTML).
    pub(super) async fn artifact(&self, cfg: &EnvironmentConfig, version: &str) -> String {
        match self.ecs.revisions(cfg, ARTIFACT_SCAN).await {
            Ok(revisions) => {
                let carrying = revisions.iter().find_map(|r| {
                    let image = r.image.as_deref()?;
                    tag_is_version(image_tag(image)?, version).then_some((image, &r.name))
                });
                match carrying {
                    Some((image, name)) => format!(
                        "<code>{}</code> · task definition <code>{}</code>",
                        escape(image),
                        escape(name)
                    ),
                    None => format!(
                        "image tag <b>{}</b>; no task definition carries it yet (the workflow registers one)",
                        escape(version)
                    ),
                }
            }
            Err(e) => format!(
                "image tag <b>{}</b> (ECS: {})",
                escape(version),
                escape(&e.to_string())
            ),
        }
    }

    pub(super) async fn running_tag(
        &self,
        cfg: &EnvironmentConfig,
    ) -> Result<Option<String>, String> {
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
    /// between. ECS and the store are asked side by side: the store reads
    /// take a millisecond, ECS several, and a tap waits on the longer only.
    /// When ECS was slow (retries, a timeout), the store is read again
    /// after it: a lock taken meanwhile must still stop the approval.
    pub(super) async fn recheck(
        &self,
        op: &crate::store::OperationRow,
        cfg: &EnvironmentConfig,
    ) -> Result<(), Recheck> {
        let shown = op.ran_before();
        let env = op.env_name().unwrap_or_default();
        let ecs = async {
            if shown.is_none() {
                return Ok(None);
            }
            let began = std::time::Instant::now();
            let tag = self.running_tag(cfg).await;
            tracing::debug!(operation = op.id, took = ?began.elapsed(), "recheck: ecs");
            tag
        };
        let began = std::time::Instant::now();
        let (running, stored) = tokio::join!(ecs, self.recheck_store(op, cfg));
        if let (Some(shown), Ok(Some(now))) = (shown, running)
            && shown != now
        {
            return Err(Recheck::Stale(format!(
                "{env} changed since the request: it ran {shown} and now runs {now}"
            )));
        }
        if began.elapsed() > RECHECK_FRESH {
            return self.recheck_store(op, cfg).await;
        }
        stored
    }

    async fn recheck_store(
        &self,
        op: &crate::store::OperationRow,
        cfg: &EnvironmentConfig,
    ) -> Result<(), Recheck> {
        let env = op.env_name().unwrap_or_default();
        let policy = policy_for(op, cfg);
        let (verified_before, lock) = if crate::domain::rests_on_qa_and_locks(op.kind) {
            self.recheck_reads(op, &policy)
                .await
                .map_err(|e| Recheck::Unavailable(e.to_string()))?
        } else {
            (true, None)
        };
        let requester = self.name_of(op.requested_by);
        let roles = self
            .config
            .user(UserId(op.requested_by))
            .map(|u| u.roles.as_slice())
            .unwrap_or(&[]);
        crate::domain::recheck(&crate::domain::RecheckFacts {
            kind: op.kind,
            env,
            version: &op.version,
            requester: &requester,
            requester_roles: roles,
            policy: &policy,
            verified_before,
            lock,
        })
        .map_err(|stale| Recheck::Stale(stale.message()))
    }

    /// What a deploy's approval rests on, from the store: still verified
    /// where the policy wants it, and who locked the environment, if anyone.
    async fn recheck_reads(
        &self,
        op: &crate::store::OperationRow,
        policy: &EnvPolicy,
    ) -> Result<(bool, Option<(String, String)>), crate::store::StoreError> {
        let verified = match &policy.requires_verified_in {
            Some(prior) => self.store.is_verified(prior, &op.version).await?,
            None => true,
        };
        let env = op.env_name().unwrap_or_default();
        let lock = self
            .store
            .active_locks()
            .await?
            .into_iter()
            .find(|l| l.env == env)
            .map(|l| (self.name_of(l.locked_by), l.reason));
        Ok((verified, lock))
    }

    /// An approval whose grounds changed: the operation is cancelled, the
    /// prompt says why, nothing is dispatched.
    pub(super) async fn stale(
        &self,
        op: &crate::store::OperationRow,
        decider: &str,
        why: &str,
    ) -> TapAnswer {
        let id = OperationId(op.id);

        let text = format!(
            "⚠️ <b>{}</b> · #{}\nAsked by {}\nApproved by {}, but no longer valid: {}. Nothing was dispatched.",
            op_title(op),
            op.id,
            escape(&self.name_of(op.requested_by)),
            escape(decider),
            escape(why)
        );
        let edits = self.edit_prompts(op, EditStep::Stale, text).await;
        let audit = self.audit(
            None,
            Some(op.chat_id),
            "dispatch:deploy",
            "refused:stale",
            Some(id),
            why.to_owned(),
        );
        if let Err(e) = self
            .transition(
                id,
                Transition::new(
                    &[OperationState::AwaitingApproval, OperationState::Approved],
                    OperationState::Cancelled,
                )
                .detail(why),
                &audit,
                &edits,
            )
            .await
        {
            tracing::error!(error = %e, operation = op.id, "recording a stale approval failed");
        }
        TapAnswer {
            text: format!("Approved, but not dispatched: {why}."),
            alert: true,
        }
    }
}
