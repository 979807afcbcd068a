//! What an approval rests on, checked again before it counts: a stale
//! request is cancelled, never dispatched.

use crate::config::EnvironmentConfig;
use crate::domain::{EditStep, EnvPolicy, OperationId, OperationState, UserId};
use crate::service::App;
use crate::service::taps::TapAnswer;
use crate::store::{OperationRow, Transition};

use super::policy_for;

/// Why a re-check did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::service) enum Recheck {
    /// What the request rested on changed: it must not be dispatched.
    Stale(String),
    /// The facts could not be read now: try again, change nothing.
    Unavailable(String),
}

/// How old the store's part of an approval's re-check may be when the
/// approval is written: a slower ECS answer means the store is read again.
const RECHECK_FRESH: std::time::Duration = std::time::Duration::from_millis(50);

impl App {
    /// Re-checks, at dispatch, what an approval rested on: the version is
    /// still verified where policy wants it, the environment is not
    /// locked nor frozen (unless the requester overrode the freeze), the requester may still ask, and nobody deployed there in
    /// between. ECS and the store are asked side by side: the store reads
    /// take a millisecond, ECS several, and a tap waits on the longer only.
    /// When ECS was slow (retries, a timeout), the store is read again
    /// after it: a lock taken meanwhile must still stop the approval.
    pub(in crate::service) async fn recheck(
        &self,
        op: &OperationRow,
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
        op: &OperationRow,
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
        let (frozen, freeze_overridden) = self
            .recheck_freeze(op)
            .await
            .map_err(|e| Recheck::Unavailable(e.to_string()))?;
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
            automatic_still_on: op.kind == crate::domain::OperationKind::Rollback
                && op.requested_by == crate::domain::AUTOMATIC.0
                && cfg.rollback.auto,
            frozen,
            freeze_overridden,
        })
        .map_err(|stale| Recheck::Stale(stale.message()))
    }

    /// What a deploy's approval rests on, from the store: still verified
    /// where the policy wants it, and who locked the environment, if anyone.
    async fn recheck_reads(
        &self,
        op: &OperationRow,
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

    /// The freeze holding a deploy's environment now (as the chat says
    /// it), and whether its requester overrode a freeze when asking.
    async fn recheck_freeze(
        &self,
        op: &OperationRow,
    ) -> Result<(Option<String>, bool), crate::store::StoreError> {
        let Some(env) = op
            .env
            .as_ref()
            .filter(|_| crate::domain::held_by_freezes(op.kind))
        else {
            return Ok((None, false));
        };
        let Some(frozen) = self.frozen_now(env).await? else {
            return Ok((None, false));
        };
        let overridden = self
            .store
            .freeze_override(OperationId(op.id))
            .await?
            .is_some();
        let said = crate::messages::freeze::frozen_plain(env.as_str(), &frozen);
        Ok((Some(said), overridden))
    }

    /// An approval whose grounds changed: the operation is cancelled, the
    /// prompt says why, nothing is dispatched.
    pub(in crate::service) async fn stale(
        &self,
        op: &OperationRow,
        decider: &str,
        why: &str,
    ) -> TapAnswer {
        let id = OperationId(op.id);

        let requester = self.name_of(op.requested_by);
        let text = crate::messages::approvals::stale(op, &requester, decider, why);
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
            text: crate::messages::approvals::stale_answer(why),
            alert: true,
        }
    }
}
