//! The request flows' messages: `/deploy` and `/rollback` (their prompts,
//! dry runs, refusals, break-glass), and what they show of a version
//! (what runs now, what will run, the changelog, migrations).

use crate::alerts::format::{clip, escape, link};
use crate::domain::{Env, OperationKind, Role};

/// Who must approve a request and until when, as its prompt ends.
#[derive(Debug, Clone)]
pub struct Needs<'a> {
    pub needed: u32,
    pub approvers: &'a [Role],
    /// The requester, named under four eyes ("not Alice").
    pub not: Option<&'a str>,
    /// When the prompt expires (UTC) and in how long.
    pub expires_at: &'a str,
    pub expires_in: &'a str,
    /// With approval groups, each group's progress (then `needed` and
    /// `approvers` are not shown).
    pub groups: &'a [crate::domain::GroupProgress],
}

fn roles(roles: &[Role]) -> String {
    roles
        .iter()
        .map(Role::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// "Needs 1 approval(s) from: senior (not Alice)\nExpires … (in 1h)".
fn needs(n: &Needs<'_>) -> String {
    let not = n
        .not
        .map(|who| format!(" (not {})", escape(who)))
        .unwrap_or_default();
    let from = if n.groups.is_empty() {
        format!(
            "Needs {} approval(s) from: {}",
            n.needed,
            escape(&roles(n.approvers))
        )
    } else {
        format!(
            "Needs approval from each group: {}",
            escape(&super::approvals::groups_progress(n.groups))
        )
    };
    format!(
        "{from}{not}\nExpires {} (in {})",
        n.expires_at, n.expires_in
    )
}

/// A plain-text refusal (a policy's `message()`), as the chat shows it.
pub fn refused(message: &str) -> String {
    escape(message)
}

/// `/deploy` to an environment the config does not name.
pub fn deploy_unknown_env(env: &Env) -> String {
    format!("❌ Unknown environment {}.", escape(env.as_str()))
}

/// `/rollback` of an environment the config does not name.
pub fn rollback_unknown_env() -> String {
    "❌ Unknown environment.".into()
}

/// GitHub could not say whether a version is released.
pub fn release_unchecked(tag: &str, error: &str) -> String {
    format!(
        "⚠️ Could not check on GitHub that {} is released ({}). Nothing was done.",
        escape(tag),
        escape(error)
    )
}

/// What runs in an environment now, as a prompt shows it: the tag, or
/// "unknown" (and why, when ECS could not say).
pub fn running(now: &Result<Option<String>, String>) -> String {
    match now {
        Ok(Some(tag)) => format!("<b>{}</b>", escape(tag)),
        Ok(None) => "unknown".into(),
        Err(e) => format!("unknown (ECS: {})", escape(e)),
    }
}

/// A dry run of a deploy the policy would refuse.
pub fn deploy_dry_run_refused(env: &Env, tag: &str, refusal: &str) -> String {
    format!(
        "🧪 Dry run of /deploy {} {}: it would be refused.\n{}",
        escape(env.as_str()),
        escape(tag),
        escape(refusal)
    )
}

/// A dry run of a deploy that would go ahead: at once (`needs` is
/// `None`), or once approved; `running` is [`running`]'s.
pub fn deploy_dry_run(
    env: &Env,
    tag: &str,
    needs: Option<(u32, &[Role], Option<&str>)>,
    running: &str,
) -> String {
    let would = match needs {
        None => "would be dispatched at once: no approval is needed".to_owned(),
        Some((needed, approvers, not)) => format!(
            "would need {needed} approval(s) from: {}{}",
            roles(approvers),
            not.map(|who| format!(" (not {who})")).unwrap_or_default()
        ),
    };
    format!(
        "🧪 Dry run: Deploy {} → {} {}.\nRunning there now: {running}\nNothing was dispatched.",
        escape(tag),
        escape(env.as_str()),
        escape(&would)
    )
}

/// A deploy's approval prompt (`{op}` stands for its id, filled in when
/// it is stored); `running`, `artifact` and `changelog` are this module's.
pub fn deploy_prompt(
    env: &Env,
    tag: &str,
    requester: &str,
    running: &str,
    artifact: &str,
    needs: &Needs<'_>,
    changelog: &str,
) -> String {
    format!(
        "🚀 <b>Deploy {} → {}</b> · #{{op}}\nAsked by {}\nRunning there now: {running}\nWill run: {artifact}\n{}{changelog}",
        escape(tag),
        escape(env.as_str()),
        escape(requester),
        self::needs(needs)
    )
}

/// The head of a deploy that needs no approval, before its dispatch's
/// outcome.
pub fn deploy_at_once(id: i64, env: &Env, tag: &str) -> String {
    format!(
        "🚀 #{id} Deploy {} → {}: no approval needed.",
        escape(tag),
        escape(env.as_str())
    )
}

/// The changelog line when nothing changed since what runs.
pub fn no_changes_since(base: &str) -> String {
    format!("\nNo changes since {}.", escape(base))
}

/// The commits between what runs (`base`) and what is asked for, newest
/// first, ten at most, and a link to GitHub's comparison.
pub fn changes_since(base: &str, total: u64, subjects: &[String], url: &str) -> String {
    const SHOWN: usize = 10;
    let commits = if total == 1 {
        "1 commit".to_owned()
    } else {
        format!("{total} commits")
    };
    let mut text = format!("\nChanges since {} ({commits}):", escape(base));
    for subject in subjects.iter().rev().take(SHOWN) {
        text.push_str(&format!("\n• {}", escape(&clip(subject, 100))));
    }
    if total as usize > SHOWN {
        text.push_str(&format!("\n… and {} more", total as usize - SHOWN));
    }
    text.push_str(&format!("\n{}", link(url, "Full comparison")));
    text
}

/// What a version will run as: the image and the task definition
/// revision carrying it.
pub fn artifact(image: &str, task_definition: &str) -> String {
    format!(
        "<code>{}</code> · task definition <code>{}</code>",
        escape(image),
        escape(task_definition)
    )
}

/// What a version will run as when no task definition carries it yet.
pub fn artifact_unregistered(version: &str) -> String {
    format!(
        "image tag <b>{}</b>; no task definition carries it yet (the workflow registers one)",
        escape(version)
    )
}

/// What a version will run as when ECS could not say.
pub fn artifact_unknown(version: &str, error: &str) -> String {
    format!(
        "image tag <b>{}</b> (ECS: {})",
        escape(version),
        escape(error)
    )
}

/// An environment busy with an operation the bot could not name (a race
/// the checks before creating one could not see).
pub fn busy(env: &Env) -> String {
    format!(
        "⏳ {} already has an operation in flight. One operation at a time per environment.",
        escape(env.as_str())
    )
}

/// A rollback's target is not a published release.
pub fn rollback_not_released(target: &str) -> String {
    format!(
        "⛔ {} is not a published release: roll back only to a released version.",
        escape(target)
    )
}

/// GitHub refused to say whether a rollback's target is released.
pub fn rollback_release_unchecked(target: &str, error: &str) -> String {
    format!(
        "⚠️ Could not check on GitHub that {} is released ({}). Nothing was done. \
         The Rollback workflow in GitHub Actions still works.",
        escape(target),
        escape(error)
    )
}

/// ECS could not say what runs in the environment.
pub fn ecs_unreadable(env: &Env, error: &str) -> String {
    format!(
        "⚠️ Could not read what runs on {} from ECS ({}). Nothing was done.",
        escape(env.as_str()),
        escape(error)
    )
}

/// A rollback to what already runs.
pub fn already_runs(env: &Env, now: &str) -> String {
    format!(
        "⛔ {} already runs {}: nothing to roll back.",
        escape(env.as_str()),
        escape(now)
    )
}

/// A rollback to a version that never ran there.
pub fn never_ran(env: &Env, target: &str) -> String {
    format!(
        "⛔ {} never ran successfully on {}: it is not in my history, and no task definition \
         of the service carries it. Roll back only to a version that ran there.",
        escape(target),
        escape(env.as_str())
    )
}

/// Where a rollback's target ran before, from the bot's history (plain
/// text).
pub fn ran_here_after(id: i64, at: &str) -> String {
    format!("ran here after #{id} ({at})")
}

/// Where a rollback's target ran before, from ECS (plain text).
pub fn carried_by(task_definition: &str) -> String {
    format!("task definition {task_definition} of this service carries it")
}

/// A rollback's break-glass: the refusal as the chat shows it (the
/// config key as code).
pub fn rollback_refused(refusal: &crate::domain::RollbackRefusal) -> String {
    match refusal {
        crate::domain::RollbackRefusal::BreakGlassOff { env } => format!(
            "⛔ Break-glass is off for {env} (<code>environments.{env}.rollback.break_glass</code>). \
             Ask without it: the rollback waits for its approval.",
            env = escape(env.as_str())
        ),
        other => escape(&other.message()),
    }
}

/// What a rollback's prompt and its no-approval answer show under the
/// head: who asked, what runs, what will run and why it may, and the
/// migrations warning (`artifact` and `migrations` are this module's).
pub fn rollback_body(
    requester: &str,
    running: &str,
    artifact: &str,
    ran_here: &str,
    migrations: &str,
) -> String {
    format!(
        "Asked by {}\nRunning now: <b>{}</b>\nWill run: {} ({})\n{migrations}",
        escape(requester),
        escape(running),
        artifact,
        escape(ran_here),
    )
}

/// A rollback's approval prompt (`{op}` stands for its id).
pub fn rollback_prompt(env: &Env, target: &str, body: &str, needs: &Needs<'_>) -> String {
    format!(
        "⏪ <b>Rollback {} → {}</b> · #{{op}}\n{body}{}",
        escape(env.as_str()),
        escape(target),
        self::needs(needs)
    )
}

/// The 🚨 alert of a break-glass rollback (`{op}` stands for its id).
pub fn break_glass(
    requester: &str,
    env: &Env,
    running: &str,
    target: &str,
    reason: &str,
) -> String {
    format!(
        "🚨 <b>BREAK-GLASS</b>: {} rolls <b>{}</b> back from {} to <b>{}</b> without a second approval (#{{op}}).\nReason: {}",
        escape(requester),
        escape(env.as_str()),
        escape(running),
        escape(target),
        escape(reason)
    )
}

/// The head of a rollback that needs no approval (break-glass, or none
/// configured), over its body.
pub fn rollback_at_once(id: i64, env: &Env, target: &str, break_glass: bool, body: &str) -> String {
    let text = format!(
        "⏪ #{id} Rollback {} → {}{}\n{body}",
        escape(env.as_str()),
        escape(target),
        if break_glass {
            ": break-glass, no approval."
        } else {
            ": no approval needed."
        },
    );
    text.trim_end().to_owned()
}

/// A rollback refused while an operation runs there (`busy` is the
/// policy's plain-text refusal).
pub fn rollback_busy(busy: &str) -> String {
    format!(
        "{} Let it finish (or cancel the run in GitHub Actions), then roll back.",
        escape(busy)
    )
}

/// The prompt of a request withdrawn for a rollback.
pub fn withdrawn_for_rollback(
    kind: OperationKind,
    id: i64,
    version: &str,
    env: &Env,
    by: &str,
) -> String {
    format!(
        "🚫 <b>{} {} → {}</b> · #{id}\nWithdrawn: {} asked for a rollback of {}.",
        capitalised(kind.as_str()),
        escape(version),
        escape(env.as_str()),
        escape(by),
        escape(env.as_str())
    )
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The bold warning about migrations added after a rollback's target
/// (they stay applied when the code rolls back): ten named at most.
pub fn migrations_added(target_tag: &str, added: &[&String]) -> String {
    let names: Vec<String> = added
        .iter()
        .take(10)
        .map(|f| format!("<code>{}</code>", escape(f)))
        .collect();
    let more = if added.len() > 10 {
        format!(" and {} more", added.len() - 10)
    } else {
        String::new()
    };
    format!(
        "⚠️ <b>{} database migration(s) were added after {}: {}{more}. Rolling the code back does not roll them back: check that {} works with the schema they leave.</b>\n",
        added.len(),
        escape(target_tag),
        names.join(", "),
        escape(target_tag)
    )
}

/// GitHub could not compare a rollback's target with what runs.
pub fn migrations_unchecked(target_tag: &str, head: &str, error: &str) -> String {
    format!(
        "⚠️ Could not compare {} with {} on GitHub ({}): check the migrations by hand.\n",
        escape(target_tag),
        escape(head),
        escape(error)
    )
}

#[cfg(test)]
mod tests;
