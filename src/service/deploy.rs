//! `/deploy <env> <version>`: the policy's verdict, the approval prompt
//! (decisions on it are `approvals`'), or the dispatch of the Deploy
//! workflow at once — each state change with its audit line and alerts in
//! one transaction.

use super::approvals::approval_buttons;
use super::{App, Incoming, Reply};
use crate::alerts::format::{span, utc};
use crate::config::EnvironmentConfig;
use crate::domain::NewOp;
use crate::domain::{
    DeployFacts, DeployVerdict, Env, EnvPolicy, OperationKind, OperationState, Version,
    judge_deploy,
};
use crate::messages::requests;
use crate::store::{Created, NewAlert, NewOperation};

/// Verified before, the lock (by, reason), the operation in flight.
type DeployStoreFacts = (
    bool,
    Option<(String, String)>,
    Option<(i64, OperationKind, String, OperationState)>,
);

/// A deploy request as asked: who, where, what, under which policy.
struct Asked<'a> {
    msg: &'a Incoming,
    env: &'a Env,
    cfg: &'a EnvironmentConfig,
    policy: &'a EnvPolicy,
    tag: &'a str,
    requester: &'a str,
}

impl App {
    /// `/deploy`: returns the audit outcome and the direct answer, if any
    /// (an approval prompt goes out through the outbox instead).
    pub(super) async fn deploy(
        &self,
        msg: &Incoming,
        env: &Env,
        version: &Version,
        dry_run: bool,
        override_freeze: Option<&str>,
    ) -> (String, Option<Reply>) {
        let Some(cfg) = self.config.environments.get(env) else {
            return (
                "invalid".into(),
                Some(Reply::new(requests::deploy_unknown_env(env))),
            );
        };
        let policy = cfg.deploy_policy();
        let tag = version.to_string();
        let began = std::time::Instant::now();
        let (release, needed) = match self
            .judge_request(msg, env, version, &policy, dry_run)
            .await
        {
            Ok(judged) => judged,
            Err(answer) => return answer,
        };
        let overridden = match self
            .deploy_freeze(msg, env, &tag, &policy, override_freeze, dry_run)
            .await
        {
            Ok(overridden) => overridden,
            Err(answer) => return answer,
        };

        // What runs there now: shown to whoever decides (a dry run, an
        // approver). A deploy that needs no approval does not wait on ECS
        // before its dispatch; it notes what ran before as ECS answers.
        let running_tag = if dry_run || needed > 0 {
            self.running_tag(cfg).await
        } else {
            Ok(None)
        };
        let running = requests::running(&running_tag);
        let requester = self.name_of(msg.user.0);
        if dry_run {
            return dry_run_answer(env, &tag, needed, &policy, &requester, &running);
        }
        let expiry = cfg.approval.expiry;
        let expires_at = crate::store::now_ms() + expiry.as_millis() as i64;
        let (state, mut alerts) = if needed == 0 {
            (OperationState::Approved, vec![])
        } else {
            let asked = Asked {
                msg,
                env,
                cfg,
                policy: &policy,
                tag: &tag,
                requester: &requester,
            };
            let changelog = match (&release, &running_tag) {
                (Some(release), Ok(Some(running))) => {
                    self.changelog(running, &release.tag_name).await
                }
                _ => String::new(),
            };
            match self
                .deploy_prompts(&asked, needed, &running, &changelog, expires_at)
                .await
            {
                Ok(prompts) => (OperationState::AwaitingApproval, prompts),
                Err(refusal) => return ("refused:no_approver".into(), Some(Reply::new(refusal))),
            }
        };
        // A freeze overridden is announced with the request, in its transaction.
        let override_freeze = match (&overridden, override_freeze) {
            (Some(freeze), Some(reason)) => {
                alerts.extend(self.override_alerts(env, &tag, &requester, freeze, reason));
                Some(reason.to_owned())
            }
            _ => None,
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
            freeze_override: override_freeze,
        };
        self.start_deploy(msg, cfg, &op, needed, &alerts, began)
            .await
    }

    /// What the policy makes of a deploy request (who asks, the release,
    /// QA's verdict, locks, what is in flight): the release and how many
    /// approvals it needs, or the answer refusing it.
    async fn judge_request(
        &self,
        msg: &Incoming,
        env: &Env,
        version: &Version,
        policy: &EnvPolicy,
        dry_run: bool,
    ) -> Result<(Option<crate::adapters::github::Release>, u32), (String, Option<Reply>)> {
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
                return Err((
                    "error:github".into(),
                    Some(Reply::new(requests::release_unchecked(
                        &tag,
                        &e.to_string(),
                    ))),
                ));
            }
        };
        tracing::debug!(after = ?began.elapsed(), "deploy: release looked up");
        let released = release.is_some();
        let (verified, lock, in_flight) = match self.deploy_facts(env, &tag, policy).await {
            Ok(facts) => facts,
            Err(e) => return Err(self.internal_error("deploy: store", &e)),
        };
        let verdict = judge_deploy(&DeployFacts {
            env,
            version,
            requester_roles: &roles,
            policy,
            released,
            verified_before: verified,
            lock,
            in_flight,
        });
        let needed = needed_approvals(verdict, dry_run, env, &tag)?;
        Ok((release, needed))
    }

    /// Stores a deploy request with its prompts; one that needs no
    /// approval is dispatched at once, noting what ran before.
    async fn start_deploy(
        &self,
        msg: &Incoming,
        cfg: &EnvironmentConfig,
        op: &NewOperation,
        needed: u32,
        alerts: &[NewAlert],
        began: std::time::Instant,
    ) -> (String, Option<Reply>) {
        let (tag, env) = (&op.version, op.env.as_ref().expect("a deploy has an env"));
        let (outcome, overridden) = match &op.freeze_override {
            Some(reason) => ("override_freeze", format!("; freeze overridden: {reason}")),
            None => (op.state.as_str(), String::new()),
        };
        let audit = self.audit(
            Some(msg.user),
            Some(msg.chat.0),
            "operation:deploy",
            outcome,
            None,
            format!("{tag} to {env}; needs {needed} approval(s){overridden}"),
        );
        let created = self.create_operation(op, &audit, alerts).await;
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
        let head = requests::deploy_at_once(id.0, env, tag);
        let (answer, ran_before) =
            tokio::join!(self.dispatch_claimed(id, &head), self.running_tag(cfg));
        if let Ok(Some(tag)) = ran_before
            && let Err(e) = self.store.note_ran_before(id, &tag).await
        {
            tracing::warn!(operation = id.0, error = %e, "deploy: what ran before not noted");
        }
        answer
    }

    /// What the policy judges a deploy on, from the store: verified where
    /// it must be, who locked the environment, what is in flight there.
    async fn deploy_facts(
        &self,
        env: &Env,
        tag: &str,
        policy: &EnvPolicy,
    ) -> Result<DeployStoreFacts, crate::store::StoreError> {
        let verified = match &policy.requires_verified_in {
            Some(prior) => self.store.is_verified(prior, tag).await?,
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
        Ok((verified, lock, in_flight))
    }

    /// A deploy's approval prompt, one copy per chat that shows it; `Err`
    /// is the refusal when no approver would see it.
    async fn deploy_prompts(
        &self,
        asked: &Asked<'_>,
        needed: u32,
        running: &str,
        changelog: &str,
        expires_at: i64,
    ) -> Result<Vec<NewAlert>, String> {
        let policy = asked.policy;
        let text = requests::deploy_prompt(
            asked.env,
            asked.tag,
            asked.requester,
            running,
            &self.artifact(asked.cfg, asked.tag).await,
            &requests::Needs {
                needed,
                approvers: &policy.approvers,
                groups: &crate::domain::group_progress(&[], &policy.groups, |_| None),
                not: policy.four_eyes.then_some(asked.requester),
                expires_at: &utc(crate::alerts::format::from_ms(expires_at)),
                expires_in: &span(asked.cfg.approval.expiry.as_secs() as i64),
            },
            changelog,
        );
        self.prompt_alerts(
            asked.env,
            asked.msg.chat,
            asked.msg.user,
            policy,
            &text,
            &approval_buttons(NewOp),
        )
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
            Ok(c) if c.total == 0 => requests::no_changes_since(&base),
            Ok(c) => requests::changes_since(&base, c.total, &c.subjects, &c.html_url),
            Err(e) => {
                tracing::warn!(error = %e, "changelog unavailable");
                String::new()
            }
        }
    }
}

/// How many approvals a deploy the policy judged needs, or the answer
/// that refuses it (a dry run says it would be refused).
fn needed_approvals(
    verdict: DeployVerdict,
    dry_run: bool,
    env: &Env,
    tag: &str,
) -> Result<u32, (String, Option<Reply>)> {
    match verdict {
        DeployVerdict::Refused(refusal) if dry_run => Err((
            "dry_run".into(),
            Some(Reply::new(requests::deploy_dry_run_refused(
                env,
                tag,
                &refusal.message(),
            ))),
        )),
        DeployVerdict::Refused(refusal) => Err((
            format!("refused:{}", refusal.code()),
            Some(Reply::new(requests::refused(&refusal.message()))),
        )),
        DeployVerdict::Proceed => Ok(0),
        DeployVerdict::NeedsApprovals(n) => Ok(n),
    }
}

/// A dry run's answer for a deploy the policy lets through: at once, or
/// once approved by whom.
fn dry_run_answer(
    env: &Env,
    tag: &str,
    needed: u32,
    policy: &EnvPolicy,
    requester: &str,
    running: &str,
) -> (String, Option<Reply>) {
    let needs = (needed > 0).then(|| {
        let not = policy.four_eyes.then_some(requester);
        (needed, policy.approvers.as_slice(), not)
    });
    (
        "dry_run".into(),
        Some(Reply::new(requests::deploy_dry_run(
            env, tag, needs, running,
        ))),
    )
}
