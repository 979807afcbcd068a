//! Approvals, in one place: the prompt of a request and its copies in
//! the approval chats (`prompts`), a decision on it (`decide`), the
//! fat-finger guard (`arm`), the re-check of what an approval rests on
//! (`recheck`), and approvals that lapsed under the config as it is now
//! (`lapsed`). Who may decide is `domain::policy`'s call; the request
//! flows (`deploy`, `rollback`, `release`) only ask for a prompt.

mod arm;
mod decide;
mod lapsed;
mod prompts;
mod recheck;
mod remind;

use super::taps::Button;
use crate::config::EnvironmentConfig;
use crate::domain::{AlertKey, Callback, ChatId, EnvPolicy, OpRef, OpSlot, OpStep, OperationId};
use crate::domain::{OperationKind, Vote};
use crate::store::OperationRow;

pub(in crate::service) use recheck::Recheck;

/// The policy an operation is decided under: a rollback's for a
/// rollback, the deploy's otherwise.
pub(in crate::service) fn policy_for(
    op: &crate::store::OperationRow,
    cfg: &EnvironmentConfig,
) -> EnvPolicy {
    cfg.policy(op.kind)
}

/// Approve / Reject under a prompt (of a new operation, [`NewOp`]: `{op}`
/// becomes its id).
pub(in crate::service) fn approval_buttons<O: OpRef>(op: O) -> Vec<Vec<Button>> {
    vec![vec![
        Button {
            text: crate::messages::approvals::approve_label(),
            data: Callback::Decide {
                op,
                vote: Vote::Approve,
            }
            .encode(),
        },
        Button {
            text: crate::messages::approvals::reject_label(),
            data: Callback::Decide {
                op,
                vote: Vote::Reject,
            }
            .encode(),
        },
    ]]
}

pub(in crate::service) fn prompt_key(op: impl Into<OpSlot>, chat: i64) -> AlertKey {
    AlertKey::op(op, OpStep::Prompt).in_chat(ChatId(chat))
}

/// The key of the question an operation asked in `chat`, if it asked one
/// there: the approval prompt of a deploy or rollback, the "Release
/// anyway?" question of a release.
pub(in crate::service) fn asked_key(op: &OperationRow, chat: i64) -> AlertKey {
    let id = OperationId(op.id);
    if op.kind == OperationKind::Release {
        confirm_key(id, chat)
    } else {
        prompt_key(id, chat)
    }
}

pub(in crate::service) fn confirm_key(op: impl Into<OpSlot>, chat: i64) -> AlertKey {
    AlertKey::op(op, OpStep::Confirm).in_chat(ChatId(chat))
}
