//! `/deploy <env> <version>`: the policy's verdict, the approval prompt
//! (decisions on it are `approvals`'), or the dispatch of the Deploy
//! workflow at once — each state change with its audit line and alerts in
//! one transaction.

use super::approvals::{approval_buttons, policy_of};
use super::{App, Incoming, Reply};
use crate::alerts::format::{escape, link, span, utc};
use crate::domain::NewOp;
use crate::domain::{
    DeployFacts, DeployVerdict, Env, OperationKind, OperationState, Version, judge_deploy,
};
use crate::store::{Created, NewOperation};

impl App {
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
}
