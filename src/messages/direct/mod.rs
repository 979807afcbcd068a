//! The rollback that bypasses GitHub, straight on ECS: the prompt's notes
//! when GitHub is unreachable, the refusals, the button and the story.
//!
//! `what` and `who` arguments are the HTML of
//! [`crate::messages::story::what`] and [`crate::messages::story::who`]
//! (or [`by`]).

use crate::alerts::format::escape;

/// Why a rollback bypasses the Rollback workflow.
#[derive(Debug, Clone, Copy)]
pub enum Bypass {
    /// GitHub was unreachable when the rollback was asked for.
    GithubDown,
    /// The workflow of this earlier operation could not be dispatched.
    FailedDispatch(i64),
    /// Done again after the bot stopped in the middle of it.
    Resumed,
}

/// The label of the button a failed rollback dispatch offers (plain text).
pub fn button() -> String {
    "⏪ Roll back directly on ECS".to_owned()
}

/// Who started a direct rollback by the button: "By Dave".
pub fn by(name: &str) -> String {
    format!("By {}", escape(name))
}

/// The prompt's lines when GitHub is unreachable: what could not be
/// checked, and the way the rollback will go instead.
pub fn github_down_note(version: &str, task_definition: &str) -> String {
    format!(
        "⚠️ <b>GitHub is unreachable</b>: I could not check that {v} is a published release, \
         nor which database migrations were added after it. <b>Check the migrations by hand.</b>\n\
         The rollback runs <b>directly on ECS</b> (the service is pointed at <code>{td}</code>), \
         not through the Rollback workflow.\n",
        v = escape(version),
        td = escape(task_definition)
    )
}

/// The refusal of a rollback that would have to run on ECS but has
/// nothing to run there.
pub fn github_down_no_task_definition(version: &str) -> String {
    format!(
        "⛔ GitHub is unreachable, so the rollback would run directly on ECS, but no task definition \
         of the service carries {}: there is nothing to roll back to there. Nothing was done.",
        escape(version)
    )
}

/// The refusal of a rollback that cannot be checked at all: GitHub is
/// unreachable and ECS cannot list the task definitions.
pub fn github_down_ecs_unreadable(env: &str, version: &str) -> String {
    format!(
        "⚠️ GitHub is unreachable and ECS could not list the task definitions of {}: \
         I cannot check that {} ran there. Nothing was done.",
        escape(env),
        escape(version)
    )
}

/// The prompt's line when GitHub answered for the target's release but
/// not any more for the compare.
pub fn github_stopped_note(target_tag: &str) -> String {
    format!(
        "⚠️ GitHub stopped answering: I could not check which database migrations were added after {}. \
         <b>Check the migrations by hand.</b>\n",
        escape(target_tag)
    )
}

/// Why a direct rollback found nothing to point the service at (plain
/// text: also the operation's detail).
pub fn no_task_definition(version: &str) -> String {
    format!("no task definition of the service carries {version}")
}

/// A rollback started on ECS.
pub fn started(what: &str, id: i64, task_definition: &str, bypass: Bypass, who: &str) -> String {
    let why = match bypass {
        Bypass::GithubDown => ": GitHub was unreachable when it was asked for".to_owned(),
        Bypass::FailedDispatch(earlier) => format!(" (#{earlier} could not be dispatched)"),
        Bypass::Resumed => " (resumed after the bot restarted)".to_owned(),
    };
    format!(
        "⏪ {what} started <b>directly on ECS</b> (#{id}): the service now points at {}. \
         <b>This bypassed the Rollback workflow</b>{why}.\n{who}",
        escape(task_definition)
    )
}

/// A rollback on ECS that could not be done (`why` is plain text).
pub fn failed(what: &str, id: i64, why: &str, who: &str) -> String {
    format!(
        "❌ {what} directly on ECS (#{id}) failed: {}. Nothing changed on ECS.\n{who}",
        escape(why)
    )
}

/// The short new message under an edited failure, so phones ring.
pub fn failed_ring(what: &str, id: i64) -> String {
    format!("❌ {what} directly on ECS (#{id}) failed ↑")
}

/// The tap's answer once ECS took the update (plain text).
pub fn rolling_back(version: &str, task_definition: &str) -> String {
    format!("ECS is rolling back to {version} ({task_definition}).")
}

/// The answer to whoever started a direct rollback that failed (plain
/// text).
pub fn failed_answer(why: &str) -> String {
    format!("The rollback on ECS failed: {why}.")
}

/// The tap's refusal to someone who may not roll back (plain text).
pub fn not_an_approver(approvers: &[&str]) -> String {
    format!(
        "Only {} may roll back on ECS directly.",
        approvers.join(", ")
    )
}

/// The tap's refusal under an old failure (plain text).
pub fn stale(op: i64, env: &str) -> String {
    format!("#{op} is no longer the latest word on {env}: ask /rollback again.")
}

/// The tap's refusal when the workflow did start (plain text).
pub fn has_run(op: i64, state: &str) -> String {
    format!("#{op} is {state} with a workflow run: follow that instead.")
}

/// The tap's answer when ECS cannot be read (plain text).
pub fn ecs_unreadable(error: &str) -> String {
    format!("ECS cannot be read just now: {error}")
}

/// The tap's refusal when the version already runs (plain text).
pub fn already_running(env: &str, running: &str) -> String {
    format!("{env} already runs {running}: nothing to roll back.")
}

/// The tap's refusal when no task definition carries the version (plain
/// text).
pub fn nothing_on_ecs(version: &str) -> String {
    format!(
        "No task definition of the service carries {version}: there is nothing to roll back to on ECS."
    )
}

/// What a direct rollback did to one service of an environment of
/// several.
#[derive(Debug, Clone, Copy)]
pub struct ServiceOutcome<'a> {
    /// The service's name.
    pub service: &'a str,
    /// `Ok(task definition)` it now points at, or `Err(why)` (plain text).
    pub updated: Result<&'a str, &'a str>,
}

/// One line per service: "• worker: now points at app-worker:4".
fn outcome_lines(outcomes: &[ServiceOutcome<'_>]) -> String {
    outcomes
        .iter()
        .map(|o| match o.updated {
            Ok(td) => format!("\n• {}: now points at {}", escape(o.service), escape(td)),
            Err(why) => format!(
                "\n• {}: <b>not updated</b>: {}",
                escape(o.service),
                escape(why)
            ),
        })
        .collect()
}

/// A rollback started on ECS in an environment of several services, each
/// pointed at its own task definition.
pub fn started_services(
    what: &str,
    id: i64,
    outcomes: &[ServiceOutcome<'_>],
    bypass: Bypass,
    who: &str,
) -> String {
    let why = match bypass {
        Bypass::GithubDown => ": GitHub was unreachable when it was asked for".to_owned(),
        Bypass::FailedDispatch(earlier) => format!(" (#{earlier} could not be dispatched)"),
        Bypass::Resumed => " (resumed after the bot restarted)".to_owned(),
    };
    format!(
        "⏪ {what} started <b>directly on ECS</b> (#{id}) on each service. \
         <b>This bypassed the Rollback workflow</b>{why}.{}\n{who}",
        outcome_lines(outcomes)
    )
}

/// A rollback on ECS that updated some services and not others: the
/// environment now runs a mix, and the operation failed.
pub fn partial(what: &str, id: i64, outcomes: &[ServiceOutcome<'_>], who: &str) -> String {
    format!(
        "❌ {what} directly on ECS (#{id}) failed part-way: a <b>partial rollback</b>. \
         Some services were pointed back and others were not, so they now run different versions: \
         check them by hand.{}\n{who}",
        outcome_lines(outcomes)
    )
}

/// Why a partial rollback failed (plain text: also the operation's
/// detail and the answer to whoever started it).
pub fn partial_why() -> String {
    "only some services took the update (a partial rollback)".to_owned()
}

/// Why a rollback cannot run on ECS in an environment of several
/// services: those without a task definition carrying the version (plain
/// text, one per line: "worker: no task definition carries 1.2.2").
pub fn missing_task_definitions(version: &str, services: &[&str]) -> String {
    services
        .iter()
        .map(|s| format!("{s}: no task definition carries {version}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The tap's refusal when some services have no task definition carrying
/// the version (plain text).
pub fn nothing_on_ecs_for(version: &str, services: &[&str]) -> String {
    format!(
        "Not every service can be rolled back to {version} on ECS, so none was:\n{}",
        missing_task_definitions(version, services)
    )
}

/// The refusal of a rollback that would have to run on ECS, where some
/// services have nothing to run.
pub fn github_down_missing(version: &str, services: &[&str]) -> String {
    format!(
        "⛔ GitHub is unreachable, so the rollback would run directly on ECS, but not every service \
         has a task definition carrying {}:\n{}\nNothing was done.",
        escape(version),
        escape(&missing_task_definitions(version, services))
    )
}

/// The prompt's lines when GitHub is unreachable, in an environment of
/// several services: each is pointed at its own task definition.
pub fn github_down_note_services(version: &str, targets: &[(&str, &str)]) -> String {
    let targets: Vec<String> = targets
        .iter()
        .map(|(s, td)| format!("{} at <code>{}</code>", escape(s), escape(td)))
        .collect();
    format!(
        "⚠️ <b>GitHub is unreachable</b>: I could not check that {v} is a published release, \
         nor which database migrations were added after it. <b>Check the migrations by hand.</b>\n\
         The rollback runs <b>directly on ECS</b> (each service is pointed at its own task definition: {}), \
         not through the Rollback workflow.\n",
        targets.join(", "),
        v = escape(version),
    )
}

#[cfg(test)]
mod tests;
