//! Automatic rollback (`environments.<env>.rollback.auto`): who asks for
//! it, the loud alert that the bot did, and why it did not when it could
//! not.

use crate::alerts::format::escape;
use crate::store::OperationRow;

/// Who asks for an automatic rollback, as the requests and the audit
/// name them (plain text).
pub fn requester() -> String {
    "the bot (automatic rollback)".to_owned()
}

/// The alert: deploy `failed` went wrong, and the bot asked for the
/// rollback to `target` by itself; `approvals` still needed (0: it is
/// dispatched at once).
pub fn requested(failed: &OperationRow, target: &str, approvals: u32) -> String {
    let env = escape(failed.env_name().unwrap_or_default());
    let then = if approvals == 0 {
        "It needs no approval here (<code>rollback.auto_approve</code>): it is dispatched now."
            .to_owned()
    } else {
        format!("It waits for {approvals} approval(s) in the approval chats, as any rollback.")
    };
    format!(
        "🚨🤖 <b>Automatic rollback of {env}</b>\nDeploy #{} of {} {}: the bot asks to roll {env} back to <b>{}</b>, the last version confirmed healthy there.\n{then}",
        failed.id,
        escape(&failed.version),
        ended(failed),
        escape(target),
    )
}

/// The bot meant to roll back after `failed` but asked for nothing:
/// `why` (Telegram HTML, the answer a person's `/rollback` would have had).
pub fn not_requested(failed: &OperationRow, why: &str) -> String {
    let env = escape(failed.env_name().unwrap_or_default());
    format!(
        "⚠️ <b>No automatic rollback of {env}</b> after deploy #{} of {}:\n{why}\nRoll back by hand with /rollback.",
        failed.id,
        escape(&failed.version),
    )
}

/// The bot meant to roll back after `failed`, but no version was
/// confirmed healthy in its environment before it.
pub fn no_target(failed: &OperationRow) -> String {
    let env = escape(failed.env_name().unwrap_or_default());
    format!(
        "⚠️ <b>No automatic rollback of {env}</b> after deploy #{} of {}: no other version was confirmed healthy there before it.",
        failed.id,
        escape(&failed.version),
    )
}

/// How the deploy ended, for the alert.
fn ended(op: &OperationRow) -> &'static str {
    match op.state {
        crate::domain::OperationState::Failed => "failed after ECS changed",
        _ => "was deployed but is unhealthy",
    }
}

#[cfg(test)]
mod tests;
