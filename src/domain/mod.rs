//! The pure core: command parsing, versions, access policy and the
//! operation state machine. No I/O here; everything is tested without a runtime.

pub mod alert_key;
pub mod callback;
mod checklist;
mod command;
mod deployment;
pub mod dora;
pub mod fault;
pub mod freeze;
pub mod health;
mod ids;
mod operation;
mod policy;
mod release;
pub mod rollout;
pub mod rotation;
pub mod runs;
mod version;

pub use alert_key::{AlertKey, EditStep, LockEvent, OpSlot, OpStep, Subject};
pub use callback::{AlertAct, Callback, GuidePick, NewOp, OpRef, QaVerdict, Vote};
pub use checklist::{
    ChecklistItem, ChecklistWhen, MAX_CHECKLIST_ITEM_CHARS, MAX_CHECKLIST_ITEMS, Tick,
    checklist_for, process_checklist, unticked,
};
pub use command::{COMMANDS, Command, CommandSpec, ParseContext, ParseError, parse};
pub use deployment::{DeploymentStatus, deployment_retry_after, deployment_statuses};
pub use ids::{AlertKind, ChatId, Env, OperationId, Role, UserId};
pub use operation::{OperationKind, OperationState};
pub use policy::{
    AUTOMATIC, Access, ApprovalGroup, AutoRollbackFacts, ChatKind, DELIVERY_IDS_KEPT,
    DecisionFacts, DecisionRefusal, DeployFacts, DeployRefusal, DeployVerdict, EnvPolicy,
    FreezeRefusal, GateRefusal, GroupProgress, RecheckFacts, Refusal, RetentionCutoffs,
    RoleRefusal, RollbackRefusal, RollbackRules, STRANGER_ANSWER_EVERY, Stale, access,
    auto_rollback_skips_approvals, calls_for_auto_rollback, counting_approvals,
    freeze_holds_at_dispatch, group_progress, group_roles, held_by_freezes, is_overdue,
    judge_deploy, judge_freeze, last_env, leaves, may_act_in_incident, may_answer_release_question,
    may_ask, may_break_glass, may_call_for_auto_rollback, may_decide, may_diagnose,
    may_open_report, may_read_secret_ages, may_release, may_request_rollback, may_review_gate,
    may_roll_back_directly, may_tick_checklist, may_verify, may_withdraw, no_approver_sees,
    policy_for, prompt_reaches_approver, recheck, reminder_at, rests_on_qa_and_locks,
    retention_cutoffs, rings_on_call, rotation_reminder_due, run_version, still_to_decide,
    stranger_key, tally,
};
pub use release::{Check, Ci, Listed, ReleaseVerdict, bump, highest_published, release_checks};
pub use version::{ReleaseType, Version};
