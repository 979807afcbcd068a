//! The approval prompt's edits and the answers to a decision's taps:
//! approved, rejected, no longer valid, approvals that lapsed, the
//! fat-finger guard's confirmation.

use crate::alerts::format::escape;
use crate::domain::{Env, EnvPolicy, GroupProgress, OperationKind, OperationState, Role};
use crate::store::OperationRow;

/// "Deploy 1.3.0 → prod" or "Rollback prod → 1.2.2".
pub fn op_title(op: &OperationRow) -> String {
    let env = escape(op.env_name().unwrap_or("?"));
    let version = escape(&op.version);
    if op.kind == OperationKind::Rollback {
        format!("Rollback {env} → {version}")
    } else {
        format!("Deploy {version} → {env}")
    }
}

/// What every edit of a prompt opens with: its title and who asked.
pub fn head(op: &OperationRow, requester: &str) -> String {
    format!(
        "<b>{}</b> · #{}\nAsked by {}",
        op_title(op),
        op.id,
        escape(requester)
    )
}

/// The workflow an approved request dispatches (plain text).
fn workflow(op: &OperationRow) -> &'static str {
    if op.kind == OperationKind::Rollback {
        "Rollback"
    } else {
        "Deploy"
    }
}

/// The prompt, rejected (or withdrawn by its requester).
pub fn rejected(op: &OperationRow, requester: &str, decider: &str) -> String {
    format!(
        "❌ {}\nRejected by {}.",
        head(op, requester),
        escape(decider)
    )
}

/// The prompt, approved: what happens next.
pub fn approved(op: &OperationRow, requester: &str, decider: &str) -> String {
    let next = if op.direct_ecs {
        "rolling back directly on ECS".to_owned()
    } else {
        format!("dispatching the {} workflow", workflow(op))
    };
    format!(
        "✅ {}\nApproved by {}; {next}.",
        head(op, requester),
        escape(decider)
    )
}

/// The prompt, approved but no longer valid: what changed (`why`).
pub fn stale(op: &OperationRow, requester: &str, decider: &str, why: &str) -> String {
    format!(
        "⚠️ {}\nApproved by {}, but no longer valid: {}. Nothing was dispatched.",
        head(op, requester),
        escape(decider),
        escape(why)
    )
}

/// The prompt, once an approval left it short because approvals given
/// earlier no longer count (`lapsed`: whose).
#[allow(clippy::too_many_arguments)]
pub fn lapsed(
    op: &OperationRow,
    requester: &str,
    decider: &str,
    lapsed: &[String],
    counting: i64,
    needed: i64,
    approvers: &[Role],
    expires: Option<&str>,
) -> String {
    let roles: Vec<&str> = approvers.iter().map(Role::as_str).collect();
    let expires = expires
        .map(|at| format!("\nExpires {at}"))
        .unwrap_or_default();
    format!(
        "⏳ {}\nApproved by {}. {} (no longer an approver here).\n\
         {counting} of {needed} approvals; {} more needed from: {}.{expires}",
        head(op, requester),
        escape(decider),
        escape(&no_longer_counts(lapsed)),
        needed - counting,
        escape(&roles.join(", "))
    )
}

/// Each group's progress: "qa 1/1 ✅ · senior 0/1" (plain text).
pub fn groups_progress(groups: &[GroupProgress]) -> String {
    let parts: Vec<String> = groups
        .iter()
        .map(|g| {
            let done = if g.full() { " ✅" } else { "" };
            format!("{} {}/{}{done}", g.role.as_str(), g.given, g.count)
        })
        .collect();
    parts.join(" · ")
}

/// The prompt, once an approval counted towards its groups and it still
/// waits for others.
pub fn counted(
    op: &OperationRow,
    requester: &str,
    decider: &str,
    groups: &[GroupProgress],
    expires: Option<&str>,
) -> String {
    let expires = expires
        .map(|at| format!("\nExpires {at}"))
        .unwrap_or_default();
    format!(
        "⏳ {}\nApproved by {}.\nApprovals by group: {}{expires}",
        head(op, requester),
        escape(decider),
        escape(&groups_progress(groups))
    )
}

/// The reminder under a prompt still undecided at two thirds of its
/// expiry, mentioning who may still decide it (`approvers`: id and name).
pub fn reminder(op: &OperationRow, approvers: &[(i64, String)], expires: &str) -> String {
    let who: Vec<String> = approvers
        .iter()
        .map(|(id, name)| format!("<a href=\"tg://user?id={id}\">{}</a>", escape(name)))
        .collect();
    let who = if who.is_empty() {
        "approvers".to_owned()
    } else {
        who.join(", ")
    };
    format!(
        "⏰ {who}: <b>{}</b> · #{} still waits for your decision. It expires {expires}.",
        op_title(op),
        op.id
    )
}

/// "Bob's approval no longer counts", "Bob's and Erin's approvals no
/// longer count" (plain text).
pub fn no_longer_counts(names: &[String]) -> String {
    let whose: Vec<String> = names.iter().map(|n| format!("{n}'s")).collect();
    match whose.as_slice() {
        [one] => format!("{one} approval no longer counts"),
        many => format!("{} approvals no longer count", many.join(" and ")),
    }
}

/// The refusal of a request whose prompt no approver would see.
pub fn no_approver_sees(env: &Env, policy: &EnvPolicy) -> String {
    escape(&crate::domain::no_approver_sees(env, policy))
}

/// The Approve button's label (plain text).
pub fn approve_label() -> String {
    "✅ Approve".into()
}

/// The Reject button's label (plain text).
pub fn reject_label() -> String {
    "❌ Reject".into()
}

/// The fat-finger guard's button: "Confirm deploy 1.3.0 → prod" (plain
/// text).
pub fn confirm_label(op: &OperationRow) -> String {
    let env = op.env_name().unwrap_or("?");
    if op.kind == OperationKind::Rollback {
        format!("Confirm rollback {env} → {}", op.version)
    } else {
        format!("Confirm deploy {} → {env}", op.version)
    }
}

/// The guard's message under the prompt, over its confirm button
/// (`window`: how long it stays open, e.g. "30s").
pub fn arm_prompt(decider: &str, label: &str, window: &str) -> String {
    format!(
        "👆 {}: {}? Tap within {window}.",
        escape(decider),
        escape(&label.replacen("Confirm", "confirm", 1))
    )
}

/// The tapper's answer to a first Approve under the guard (plain text).
pub fn arm_answer(label: &str, window: &str) -> String {
    format!("Now tap “{label}” within {window}.")
}

/// The guard's second tap came too late, or from someone else (plain
/// text).
pub fn not_armed() -> String {
    "The confirmation window has passed (or this is not your approval). Tap Approve again.".into()
}

/// The tapper's answer to an approval that went stale (plain text).
pub fn stale_answer(why: &str) -> String {
    format!("Approved, but not dispatched: {why}.")
}

/// The re-check could not read what it needs (plain text).
pub fn recheck_unavailable(reference: &str) -> String {
    format!(
        "Could not check the request just now (ref {reference}); nothing changed. Try again in a moment."
    )
}

/// The tapper's answer to the approval that completed a request, its
/// workflow dispatched (plain text).
pub fn dispatching(op: &OperationRow) -> String {
    format!("Approved. Dispatching the {} workflow.", workflow(op))
}

/// The tapper's answer to the approval that completed a request, with
/// what its dispatch said (plain text).
pub fn approved_and(said: &str) -> String {
    format!("Approved. {said}")
}

/// The tapper's answer to an approval whose dispatch failed (plain text).
pub fn dispatch_failed(error: &str) -> String {
    format!("Approved, but the dispatch failed: {error}")
}

/// The tapper's answer to a rejection (plain text).
pub fn rejected_answer() -> String {
    "Rejected.".into()
}

/// The tapper's answer to an approval counted (plain text).
pub fn recorded(approvals: i64, needed: i64) -> String {
    format!("Recorded: {approvals} of {needed} approvals.")
}

/// The tapper's answer to an approval counted while earlier ones lapsed
/// (plain text).
pub fn recorded_lapsed(lapsed: &[String], approvals: i64, needed: i64) -> String {
    format!(
        "Recorded, but {}: {approvals} of {needed} approvals.",
        no_longer_counts(lapsed)
    )
}

/// A second decision by the same person (plain text).
pub fn already_voted() -> String {
    "You have already decided on this request.".into()
}

/// A decision on a request already decided (plain text).
pub fn too_late(state: OperationState) -> String {
    format!("Too late: this request is already {state}.")
}

#[cfg(test)]
mod tests;
