//! `/deploy <env> <version>`: the policy's verdict, the approval prompt
//! (decisions on it are `approvals`'), or the dispatch of the Deploy
//! workflow at once — each state change with its audit line and alerts in
//! one transaction.

use super::approvals::{approval_buttons, policy_of};
use super::{App, Incoming, Reply};
use crate::alerts::format::{span, utc};
use crate::domain::NewOp;
use crate::domain::{
    DeployFacts, DeployVerdict, Env, OperationKind, OperationState, Version, judge_deploy,
};
use crate::messages::requests as msg;
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
                Some(Reply::new(msg::deploy_unknown_env(env))),
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
                    Some(Reply::new(msg::release_unchecked(&tag, &e.to_string()))),
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
                    Some(Reply::new(msg::deploy_dry_run_refused(
                        env,
                        &tag,
                        &refusal.message(),
                    ))),
                );
            }
            DeployVerdict::Refused(refusal) => {
                return (
                    format!("refused:{}", refusal.code()),
                    Some(Reply::new(msg::refused(&refusal.message()))),
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
        let running = msg::running(&running_tag);
        let requester = self.name_of(msg.user.0);
        if dry_run {
            let needs = (needed > 0).then(|| {
                let not = policy.four_eyes.then_some(requester.as_str());
                (needed, policy.approvers.as_slice(), not)
            });
            return (
                "dry_run".into(),
                Some(Reply::new(msg::deploy_dry_run(env, &tag, needs, &running))),
            );
        }
        let expiry = cfg.approval.expiry;
        let expires_at = crate::store::now_ms() + expiry.as_millis() as i64;
        let (state, alerts) = if needed == 0 {
            (OperationState::Approved, vec![])
        } else {
            let changelog = match (&release, &running_tag) {
                (Some(release), Ok(Some(running))) => {
                    self.changelog(running, &release.tag_name).await
                }
                _ => String::new(),
            };
            let text = msg::deploy_prompt(
                env,
                &tag,
                &requester,
                &running,
                &self.artifact(cfg, &tag).await,
                &msg::Needs {
                    needed,
                    approvers: &policy.approvers,
                    not: policy.four_eyes.then_some(requester.as_str()),
                    expires_at: &utc(crate::alerts::format::from_ms(expires_at)),
                    expires_in: &span(expiry.as_secs() as i64),
                },
                &changelog,
            );
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
        let head = msg::deploy_at_once(id.0, env, &tag);
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
            Ok(c) if c.total == 0 => msg::no_changes_since(&base),
            Ok(c) => msg::changes_since(&base, c.total, &c.subjects, &c.html_url),
            Err(e) => {
                tracing::warn!(error = %e, "changelog unavailable");
                String::new()
            }
        }
    }
}
