//! `/release`'s messages: the checks by name, the dry run, the refusal,
//! "Release anyway?" and its answers, and a dispatch's outcome under any
//! request's head.

use crate::alerts::format::escape;
use crate::domain::{Check, OperationState, ReleaseType, ReleaseVerdict, Version};

/// Who may cut releases, refusing someone who may not (`roles`: who may,
/// comma-separated).
pub fn not_a_release_requester(roles: &str) -> String {
    format!(
        "⛔ Releases are cut by: {}. You hold none of these roles.",
        escape(roles)
    )
}

/// GitHub could not say which release is the latest.
pub fn latest_unreadable(error: &str) -> String {
    format!(
        "⚠️ Could not read the latest release on GitHub ({}). Nothing was done.",
        escape(error)
    )
}

/// The checks, one line each, ✅ or ❌ by name.
pub fn checks(checks: &[Check]) -> String {
    checks
        .iter()
        .map(|c| {
            format!(
                "{} {}: {}",
                if c.passed { "✅" } else { "❌" },
                c.name,
                escape(&c.detail)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The CI check's detail while checks still run (plain text).
pub fn ci_pending(names: &[String]) -> String {
    format!("still running: {}", names.join(", "))
}

/// The CI check's detail when checks fail (plain text).
pub fn ci_failing(names: &[String]) -> String {
    format!("failing: {}", names.join(", "))
}

/// The CI check's detail when the branch has no checks (plain text).
pub fn ci_no_checks() -> String {
    "no checks reported".into()
}

/// "<b>Release 1.3.0 (minor)</b>".
pub(super) fn head(version: &str, kind: &str) -> String {
    format!("<b>Release {} ({})</b>", escape(version), escape(kind))
}

/// A dry run of `/release`: the checks and what would follow (`checks`
/// is [`checks`]').
pub fn dry_run(
    version: &Version,
    kind: ReleaseType,
    checks: &str,
    verdict: &ReleaseVerdict,
) -> String {
    let would = match verdict {
        ReleaseVerdict::Refuse => "It would be refused.",
        ReleaseVerdict::Confirm => "It would ask you to confirm the bump first.",
        ReleaseVerdict::Proceed => "The Release workflow would be dispatched.",
    };
    format!(
        "🧪 Dry run of {}:\n{checks}\n{would} Nothing was dispatched.",
        head(&version.to_string(), kind.as_str())
    )
}

/// A release the checks refuse.
pub fn refused(version: &Version, kind: ReleaseType, checks: &str) -> String {
    format!(
        "⛔ {} refused:\n{checks}",
        head(&version.to_string(), kind.as_str())
    )
}

/// "Release anyway?" when only the bump does not fit (`{op}` stands for
/// its id).
pub fn release_anyway(version: &Version, kind: ReleaseType, checks: &str) -> String {
    format!(
        "⚠️ {} · #{{op}}\n{checks}\nRelease anyway?",
        head(&version.to_string(), kind.as_str())
    )
}

/// The button that confirms a release despite the bump (plain text).
pub fn release_anyway_label() -> String {
    "⚠️ Release anyway".into()
}

/// The button that drops it (plain text).
pub fn cancel_label() -> String {
    "Cancel".into()
}

/// The head of a release dispatched at once.
pub fn release_at_once(id: i64, version: &Version, kind: ReleaseType, checks: &str) -> String {
    format!(
        "🚀 {} · #{id}\n{checks}",
        head(&version.to_string(), kind.as_str())
    )
}

/// A release refused while another is in flight (`in_flight`: its id,
/// version and state, when known).
pub fn in_flight(in_flight: Option<(i64, &str, OperationState)>) -> String {
    let named = in_flight
        .map(|(id, version, state)| format!(" (#{id} {version}, {state})"))
        .unwrap_or_default();
    format!(
        "⏳ A release is already in flight{}. One release at a time.",
        escape(&named)
    )
}

/// A request dispatched at once: its workflow started (`head` is the
/// request's, HTML).
pub fn dispatched(head: &str) -> String {
    format!("{head}\nThe workflow is dispatched.")
}

/// A request carried out on ECS directly: what ECS was told.
pub fn dispatched_on_ecs(head: &str, said: &str) -> String {
    format!("{head}\n{}", escape(said))
}

/// A direct ECS rollback that failed.
pub fn ecs_failed(head: &str, error: &str) -> String {
    format!("{head}\n❌ {}", escape(error))
}

/// A workflow that could not be dispatched.
pub fn dispatch_failed(head: &str, error: &str) -> String {
    format!(
        "{head}\n❌ Could not dispatch the workflow: {}",
        escape(error)
    )
}

/// Someone other than the requester answered "Release anyway?" (plain
/// text).
pub fn only_the_requester(requester: &str) -> String {
    format!("Only {requester} can answer this.")
}

/// "Release anyway?" answered after it expired (plain text).
pub fn question_expired() -> String {
    "This question has expired. Ask again if it is still wanted.".into()
}

/// Why a confirmed release no longer passes when its checks could not
/// run.
pub fn checks_could_not_run(error: &str) -> String {
    format!("the checks could not run ({})", escape(error))
}

/// Why a confirmed release no longer passes when its stored request
/// cannot be read back.
pub fn request_unreadable() -> String {
    "the stored request is unreadable".into()
}

/// "<b>Release 1.3.0 (minor)</b> · #5" of a stored release (`kind` may
/// be unknown).
pub(super) fn asked(version: &str, kind: Option<ReleaseType>, id: i64) -> String {
    format!(
        "{} · #{id}",
        head(version, kind.map_or("?", ReleaseType::as_str))
    )
}

/// The head of a stored release's message: "<b>Release 1.3.0 (minor)</b> · #5".
pub fn asked_head(version: &str, kind: Option<ReleaseType>, id: i64) -> String {
    format!("📋 {}", asked(version, kind, id))
}

/// "Release anyway?", confirmed: the workflow is dispatched.
pub fn confirmed(version: &str, kind: Option<ReleaseType>, id: i64, by: &str) -> String {
    format!(
        "⚠️ {}\nConfirmed by {} despite the bump; dispatching the Release workflow.",
        asked(version, kind, id),
        escape(by)
    )
}

/// "Release anyway?", confirmed, but the checks run again no longer pass
/// (`why`: [`checks`]' or this module's reason, HTML).
pub fn confirmed_but_refused(
    version: &str,
    kind: Option<ReleaseType>,
    id: i64,
    by: &str,
    why: &str,
) -> String {
    format!(
        "⛔ {}\nConfirmed by {}, but the checks no longer pass:\n{why}",
        asked(version, kind, id),
        escape(by)
    )
}

/// "Release anyway?", cancelled.
pub fn cancelled(version: &str, kind: Option<ReleaseType>, id: i64, by: &str) -> String {
    format!(
        "✖️ {}\nCancelled by {}.",
        asked(version, kind, id),
        escape(by)
    )
}

/// The requester's answer to a confirmation the checks refused (plain
/// text).
pub fn not_released_answer() -> String {
    "Not released: the checks no longer pass.".into()
}

/// The requester's answer to a confirmation (plain text).
pub fn confirmed_answer() -> String {
    "Confirmed. Dispatching the Release workflow.".into()
}

/// The requester's answer to a cancellation (plain text).
pub fn cancelled_answer() -> String {
    "Cancelled.".into()
}

/// The answer to a second answer of the same question (plain text).
pub fn already_answered() -> String {
    "Too late: this request was already answered.".into()
}

#[cfg(test)]
mod tests;
