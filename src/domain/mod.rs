//! The pure core: command parsing, versions, access policy and the
//! operation state machine. No I/O here; everything is tested without a runtime.

pub mod alert_key;
mod approval;
pub mod callback;
mod command;
pub mod dora;
pub mod health;
mod ids;
mod operation;
mod policy;
mod release;
pub mod rollout;
pub mod runs;
mod version;

pub use alert_key::{AlertKey, EditStep, LockEvent, OpSlot, OpStep, Subject};
pub use approval::{
    DecisionFacts, DecisionRefusal, DeployFacts, DeployRefusal, DeployVerdict, EnvPolicy,
    counting_approvals, judge_deploy, may_decide,
};
pub use callback::{Callback, GuidePick, NewOp, OpRef, QaVerdict, Vote};
pub use command::{COMMANDS, Command, CommandSpec, ParseContext, ParseError, parse};
pub use ids::{AlertKind, ChatId, Env, OperationId, Role, UserId};
pub use operation::{OperationKind, OperationState};
pub use policy::{
    Access, ChatKind, DELIVERY_IDS_KEPT, Refusal, RetentionCutoffs, STRANGER_ANSWER_EVERY, access,
    leaves, no_approver_sees, prompt_reaches_approver, retention_cutoffs, rings_on_call,
    run_version, stranger_key,
};
pub use release::{Check, Ci, Listed, ReleaseVerdict, bump, highest_published, release_checks};
pub use version::{ReleaseType, Version};
