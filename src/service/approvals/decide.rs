//! A decision on a request: the Approve / Reject tap (or the guard's
//! confirmation), checked by the policy, re-checked against what the
//! request rests on, and written with the prompt's edits in one go.

use super::lapsed::{Shown, Waiting};
use super::policy_for;
use super::recheck::Recheck;
use crate::config::EnvironmentConfig;
use crate::domain::EditStep;
use crate::domain::{
    DecisionFacts, OperationId, UserId, Vote, counting_approvals, may_decide, tally,
};
use crate::messages::approvals as msg;
use crate::service::App;
use crate::service::Started;
use crate::service::taps::{Tap, TapAnswer};
use crate::store::{Decided, Decision, OperationRow};

impl App {
    /// A tap on Approve (or its confirmation) or Reject of a deploy or
    /// rollback request.
    pub(in crate::service) async fn vote_tap(
        &self,
        tap: &Tap,
        id: OperationId,
        vote: Vote,
    ) -> TapAnswer {
        let op = match self.prompted(tap, id, false, false).await {
            Ok(op) => op,
            Err(answer) => return answer,
        };
        match self.env_config(&op) {
            Ok(cfg) => self.vote(tap, &op, cfg, vote).await,
            Err(answer) => answer,
        }
    }

    async fn vote(
        &self,
        tap: &Tap,
        op: &OperationRow,
        cfg: &EnvironmentConfig,
        vote: Vote,
    ) -> TapAnswer {
        let began = std::time::Instant::now();
        let id = OperationId(op.id);
        let policy = policy_for(op, cfg);
        let user = self.config.user(tap.user);
        let approving = matches!(vote, Vote::Approve | Vote::ConfirmApprove);
        let facts = DecisionFacts {
            requester: UserId(op.requested_by),
            state: op.state,
            expired: op.expires_at.is_some_and(|t| t <= crate::store::now_ms()),
            decider: tap.user,
            decider_roles: user.map(|u| u.roles.as_slice()),
            already_voted: false,
            approve: approving,
            policy: &policy,
        };
        let verb = match vote {
            Vote::Approve => "approve",
            Vote::ConfirmApprove => "confirm",
            Vote::Reject => "reject",
        };
        if let Err(refusal) = may_decide(&facts) {
            return self
                .refuse_tap(tap, verb, refusal.code(), Some(id), refusal.message())
                .await;
        }
        let decider = self.name_of(tap.user.0);
        let requester = self.name_of(op.requested_by);
        // The fat-finger guard: a first Approve only arms the approval.
        if vote == Vote::Approve && cfg.approval.confirm_tap {
            return self.arm(tap, op, cfg).await;
        }
        if vote == Vote::ConfirmApprove
            && let Err(answer) = self.armed_in_time(tap, id, cfg, verb).await
        {
            return answer;
        }
        let (step, outcome_text) = vote_outcome(op, vote, &requester, &decider);
        let edits = self.edit_prompts(op, step, outcome_text).await;
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
        if approving && let Err(answer) = self.recheck_vote(op, cfg, &decider, began).await {
            return answer;
        }
        // Approvals follow the config as it is now: one given by someone
        // since removed from `[[users]]`, or who lost the approver role,
        // no longer counts; the prompt says so when it leaves one short.
        let requester_id = UserId(op.requested_by);
        let roles_of = |u: UserId| self.config.user(u).map(|u| u.roles.as_slice());
        let counts = |u: UserId| {
            counting_approvals(&[u], requester_id, &policy, roles_of)
                .1
                .is_empty()
        };
        let tally = |counting: &[UserId]| tally(counting, &policy.groups, roles_of);
        let waiting = if approving {
            let shown = Shown {
                requester: &requester,
                decider: &decider,
            };
            match self
                .waiting_edits(op, tap.user, &policy, needed, &shown)
                .await
            {
                Ok(edits) => edits,
                Err(answer) => return answer,
            }
        } else {
            Waiting {
                lapsed: Vec::new(),
                counted: Vec::new(),
            }
        };
        let decided = self
            .store
            .decide(
                id,
                &Decision {
                    user: tap.user,
                    approve: approving,
                    needed,
                    counts: &counts,
                    tally: &tally,
                    audit: &audit,
                    alerts_if_moved: &edits,
                    alerts_if_lapsed: &waiting.lapsed,
                    alerts_if_counted: &waiting.counted,
                },
            )
            .await;
        self.answer_vote(tap, op, verb, needed, began, decided)
            .await
    }

    /// What the request rested on, checked again before an approval
    /// counts: a stale request is cancelled, never dispatched.
    async fn recheck_vote(
        &self,
        op: &OperationRow,
        cfg: &EnvironmentConfig,
        decider: &str,
        began: std::time::Instant,
    ) -> Result<(), TapAnswer> {
        let checked = self.recheck(op, cfg).await;
        tracing::debug!(operation = op.id, after = ?began.elapsed(), "tap: re-checked");
        match checked {
            Ok(()) => Ok(()),
            Err(Recheck::Stale(why)) => Err(self.stale(op, decider, &why).await),
            Err(Recheck::Unavailable(e)) => {
                let reference = &crate::service::reference();
                tracing::error!(reference, error = %e, operation = op.id, "recheck: store");
                Err(TapAnswer {
                    text: msg::recheck_unavailable(reference),
                    alert: true,
                })
            }
        }
    }

    /// What the tapper is told once the store has the decision.
    #[allow(clippy::too_many_arguments)]
    async fn answer_vote(
        &self,
        tap: &Tap,
        op: &OperationRow,
        verb: &str,
        needed: i64,
        began: std::time::Instant,
        decided: Result<Decided, crate::store::StoreError>,
    ) -> TapAnswer {
        let id = OperationId(op.id);
        match decided {
            Ok(Decided::Claimed(claim)) => {
                tracing::debug!(operation = id.0, after = ?began.elapsed(), "tap: approved and claimed");
                self.outbox.notify_one();
                // A dispatch failure is alerted and recorded by dispatch
                // itself.
                let text = match self.dispatch(*claim).await {
                    Ok(Started::Workflow) => msg::dispatching(op),
                    Ok(Started::OnEcs(said)) => msg::approved_and(&said),
                    Err(e) if op.direct_ecs => msg::approved_and(&e.to_string()),
                    Err(e) => msg::dispatch_failed(&e.to_string()),
                };
                TapAnswer { text, alert: false }
            }
            Ok(Decided::Rejected) => {
                self.outbox.notify_one();
                TapAnswer {
                    text: msg::rejected_answer(),
                    alert: false,
                }
            }
            Ok(Decided::Counted { approvals, lapsed }) if !lapsed.is_empty() => {
                self.outbox.notify_one();
                let names: Vec<String> = lapsed.iter().map(|u| self.name_of(u.0)).collect();
                TapAnswer {
                    text: msg::recorded_lapsed(&names, approvals, needed),
                    alert: false,
                }
            }
            Ok(Decided::Counted { approvals, .. }) => TapAnswer {
                text: msg::recorded(approvals, needed),
                alert: false,
            },
            Ok(Decided::AlreadyVoted) => {
                let text = msg::already_voted();
                self.refuse_tap(tap, verb, "already_voted", Some(id), text)
                    .await
            }
            Ok(Decided::TooLate(state)) => {
                let text = msg::too_late(state);
                self.refuse_tap(tap, verb, "already_decided", Some(id), text)
                    .await
            }
            Err(e) => TapAnswer {
                text: self.internal_failure("tap: store", &e),
                alert: true,
            },
        }
    }
}

/// The edit a vote makes to the prompts, and its text.
fn vote_outcome(
    op: &OperationRow,
    vote: Vote,
    requester: &str,
    decider: &str,
) -> (EditStep, String) {
    let text = if vote == Vote::Reject {
        msg::rejected(op, requester, decider)
    } else {
        msg::approved(op, requester, decider)
    };
    let step = match vote {
        Vote::Approve => EditStep::Approve,
        Vote::ConfirmApprove => EditStep::ConfirmApprove,
        Vote::Reject => EditStep::Reject,
    };
    (step, text)
}
