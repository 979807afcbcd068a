//! The guided `/release`, `/deploy` and `/rollback`: every step's
//! question, its buttons' labels (plain text), the confirmation, and what
//! the dialogue says when it ends. Tap answers are plain text.

use crate::alerts::format::escape;

/// The button that leaves a dialogue.
pub fn cancel_label() -> String {
    "✖ Cancel".to_owned()
}

/// A bare `/release` before any release exists.
pub fn no_release_yet() -> String {
    "📦 No release yet. Name the first one: /release 0.1.0 minor".to_owned()
}

/// A bare `/release` when GitHub did not give the latest release.
pub fn latest_release_unreadable(error: &str) -> String {
    format!(
        "⚠️ Could not read the latest release on GitHub ({}). Nothing was done.",
        escape(error)
    )
}

/// A bare `/release` when the latest release's tag is no version.
pub fn latest_not_a_version(tag: &str) -> String {
    format!(
        "📦 The latest release, {}, is not a version I can bump. Say it: /release &lt;version&gt; &lt;patch|minor|major&gt;",
        escape(tag)
    )
}

/// A next version's button: `1.4.0 · minor`.
pub fn release_choice_label(version: &str, release_type: &str) -> String {
    format!("{version} · {release_type}")
}

/// The first step of a guided release.
pub fn release_question(latest: &str) -> String {
    format!(
        "📦 <b>New release</b> · the latest is <b>{}</b>\nWhich version?",
        escape(latest)
    )
}

/// A bare `/deploy` by someone who may deploy nowhere.
pub fn may_deploy_nowhere() -> String {
    "⛔ None of your roles may ask for a deploy anywhere.".to_owned()
}

/// `/deploy <env>` by someone who may not deploy there.
pub fn may_not_deploy_to(env: &str) -> String {
    format!(
        "⛔ None of your roles may ask for a deploy to {}.",
        escape(env)
    )
}

/// The first step of a guided deploy.
pub fn deploy_where() -> String {
    "🚀 <b>Deploy</b> · where to?".to_owned()
}

/// GitHub did not list the releases to offer.
pub fn releases_unreadable(error: &str) -> String {
    format!(
        "⚠️ Could not read the releases on GitHub ({}). Nothing was done.",
        escape(error)
    )
}

/// No version to offer for a deploy to `env`; `verified_in`: the
/// environment where QA must have verified it first.
pub fn nothing_to_deploy(env: &str, verified_in: Option<&str>) -> String {
    let why = match verified_in {
        Some(prior) => format!("no release is verified by QA on {prior} yet"),
        None => "there is no published release".to_owned(),
    };
    format!(
        "🚀 Deploy → {}: nothing to offer, {}.",
        escape(env),
        escape(&why)
    )
}

/// The versions step of a guided deploy to `env`.
pub fn deploy_version_question(env: &str, verified_in: Option<&str>) -> String {
    let mut text = format!("🚀 <b>Deploy → {}</b> · which version?", escape(env));
    if let Some(prior) = verified_in {
        text.push_str(&format!(
            "\nOnly versions QA verified on {}, newest first.",
            escape(prior)
        ));
    }
    text
}

/// A bare `/rollback` by someone who may roll back nowhere.
pub fn may_roll_back_nowhere() -> String {
    "⛔ None of your roles may ask for a rollback anywhere.".to_owned()
}

/// `/rollback <env>` by someone who may not roll back there.
pub fn may_not_roll_back(env: &str) -> String {
    format!(
        "⛔ None of your roles may ask for a rollback of {}.",
        escape(env)
    )
}

/// The first step of a guided rollback.
pub fn rollback_where() -> String {
    "⏪ <b>Rollback</b> · which environment?".to_owned()
}

/// A version that ran before, as a button: `1.2.2 · 3d 4h ago`.
pub fn rollback_choice_label(version: &str, ago: &str) -> String {
    format!("{version} · {ago}")
}

/// No earlier version known to have run in `env`.
pub fn nothing_to_roll_back_to(env: &str) -> String {
    format!(
        "⏪ Rollback of {env}: I know of no earlier version that ran there. \
         Name one: /rollback {env} &lt;version&gt; (a task definition of the service must carry it).",
        env = escape(env)
    )
}

/// The versions step of a guided rollback of `env`.
pub fn rollback_version_question(env: &str, running: Option<&str>) -> String {
    format!(
        "⏪ <b>Rollback {}</b> · to which version? Running now: <b>{}</b>\nVersions that ran there, newest first:",
        escape(env),
        escape(running.unwrap_or("unknown"))
    )
}

/// `/cancel` that left the dialogue.
pub fn left() -> String {
    "✖ Left the dialogue. Nothing was done.".to_owned()
}

/// `/cancel` of someone else's dialogue.
pub fn not_yours_to_cancel(owner: &str) -> String {
    format!(
        "That dialogue is {}'s; only they can cancel it.",
        escape(owner)
    )
}

/// `/cancel` without a dialogue.
pub fn nothing_to_cancel() -> String {
    "Nothing to cancel here.".to_owned()
}

/// A tap on a button of a dialogue that ended (plain text).
pub fn dialogue_over() -> String {
    "This dialogue is over. Start again with /release or /deploy.".to_owned()
}

/// A tap on someone else's dialogue (plain text).
pub fn not_your_dialogue(owner: &str) -> String {
    format!("This is {owner}'s dialogue; start your own with /release or /deploy.")
}

/// The answer to a tap on Cancel (plain text).
pub fn cancelled_answer() -> String {
    "Cancelled.".to_owned()
}

/// The dialogue's message once cancelled.
pub fn cancelled() -> String {
    "✖ Cancelled. Nothing was done.".to_owned()
}

/// The answer to a tap that found nothing to offer (plain text).
pub fn nothing_to_offer() -> String {
    "Nothing to offer.".to_owned()
}

/// The answer to the second tap on a confirmation (plain text).
pub fn already_done() -> String {
    "Already done.".to_owned()
}

/// The confirmation tap could not end the dialogue (plain text).
pub fn not_done() -> String {
    "Something went wrong on my side; nothing was done. Try again in a moment.".to_owned()
}

/// A guided release's confirmation.
pub fn release_confirm(version: &str, release_type: &str) -> String {
    format!(
        "📦 <b>Release {} ({})</b>?\nThe pre-release checks run when you confirm.",
        escape(version),
        escape(release_type)
    )
}

/// Its button.
pub fn release_confirm_label(version: &str) -> String {
    format!("✅ Release {version}")
}

/// A guided deploy's confirmation.
pub fn deploy_confirm(version: &str, env: &str) -> String {
    format!(
        "🚀 <b>Deploy {} → {}</b>?\nThe checks run, and approval is asked for, when you confirm.",
        escape(version),
        escape(env)
    )
}

/// Its button.
pub fn deploy_confirm_label(version: &str, env: &str) -> String {
    format!("✅ Deploy {version} → {env}")
}

/// A guided rollback's confirmation.
pub fn rollback_confirm(env: &str, version: &str) -> String {
    format!(
        "⏪ <b>Rollback {} → {}</b>?\nThe checks run, and approval is asked for, when you confirm.",
        escape(env),
        escape(version)
    )
}

/// Its button.
pub fn rollback_confirm_label(env: &str, version: &str) -> String {
    format!("✅ Roll {env} back to {version}")
}

/// The dialogue's message once a release is confirmed.
pub fn release_asked(version: &str, release_type: &str, who: &str) -> String {
    format!(
        "📦 <b>Release {} ({})</b>: asked by {}.",
        escape(version),
        escape(release_type),
        escape(who)
    )
}

/// The dialogue's message once a deploy is confirmed.
pub fn deploy_asked(version: &str, env: &str, who: &str) -> String {
    format!(
        "🚀 <b>Deploy {} → {}</b>: asked by {}.",
        escape(version),
        escape(env),
        escape(who)
    )
}

/// The dialogue's message once a rollback is confirmed.
pub fn rollback_asked(env: &str, version: &str, who: &str) -> String {
    format!(
        "⏪ <b>Rollback {} → {}</b>: asked by {}.",
        escape(env),
        escape(version),
        escape(who)
    )
}

#[cfg(test)]
mod tests;
