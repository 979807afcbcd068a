//! A run held by a GitHub environment's required reviewers: the review
//! prompt, its edit once reviewed, the comment the bot leaves on GitHub,
//! and the answers to the prompt's taps.

use super::approvals::head;
use crate::alerts::format::escape;
use crate::domain::GateRefusal;
use crate::store::OperationRow;

/// The prompt: the run waits on `environment`'s reviewers. When the bot's
/// GitHub identity is not one of them, the prompt says so and how to fix
/// it instead of offering buttons that cannot work.
pub fn prompt(
    op: &OperationRow,
    requester: &str,
    environment: &str,
    run_url: &str,
    bot_may_review: bool,
) -> String {
    let environment = escape(environment);
    let mut text = format!(
        "{}\n⏸ The <a href=\"{}\">run</a> waits for a review of the GitHub environment <b>{environment}</b>.",
        head(op, requester),
        escape(run_url)
    );
    if bot_may_review {
        text.push_str("\nAn approver may approve or reject it here; the requester may not.");
    } else {
        text.push_str(&format!(
            "\n⚠️ The bot is not a required reviewer of <b>{environment}</b>, so it cannot \
             review from here: review the run on GitHub, or add the bot's GitHub identity \
             (the GitHub App, or the token's user) to the environment's required reviewers."
        ));
    }
    text
}

/// The prompt once reviewed: who approved or rejected it.
pub fn reviewed(
    op: &OperationRow,
    requester: &str,
    environment: &str,
    run_url: &str,
    reviewer: &str,
    approved: bool,
) -> String {
    let outcome = if approved {
        "✅ Approved"
    } else {
        "❌ Rejected"
    };
    format!(
        "{}\n{outcome} by {} for the GitHub environment <b>{}</b>: the <a href=\"{}\">run</a> {}.",
        head(op, requester),
        escape(reviewer),
        escape(environment),
        escape(run_url),
        if approved { "goes on" } else { "stops" }
    )
}

/// The comment the bot's review carries on GitHub (plain text): who
/// decided, by their Telegram name and numeric id.
pub fn review_comment(reviewer: &str, telegram_id: i64, approved: bool, op: i64) -> String {
    let verb = if approved { "Approved" } else { "Rejected" };
    format!(
        "{verb} from Telegram by {reviewer} (Telegram id {telegram_id}), aletheia-bot operation #{op}."
    )
}

/// The answer to a tap that reviewed the gate (plain text).
pub fn done(approved: bool) -> String {
    if approved {
        "Approved on GitHub: the run goes on.".to_owned()
    } else {
        "Rejected on GitHub: the run stops.".to_owned()
    }
}

/// The answer to a tap on a gate already reviewed (plain text).
pub fn already_reviewed(by: &str) -> String {
    format!("Already reviewed by {by}.")
}

/// The answer to a tap on a gate someone is reviewing right now (plain
/// text).
pub fn being_reviewed(by: &str) -> String {
    format!("{by} is reviewing this on GitHub right now.")
}

/// The answer to a tap by someone who may not review (plain text).
pub fn refused(refusal: &GateRefusal) -> String {
    match refusal {
        GateRefusal::NotAnApprover { roles } => {
            let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            format!(
                "⛔ This environment's runs are reviewed by: {}. You hold none of these roles.",
                roles.join(", ")
            )
        }
        GateRefusal::OwnRequest => {
            "⛔ You asked for this run: another approver must review it (four eyes).".to_owned()
        }
    }
}

/// The answer when GitHub no longer waits on the environment (plain text).
pub fn not_pending(environment: &str) -> String {
    format!("GitHub no longer waits for a review of {environment}: nothing was changed.")
}

/// The answer when the bot's GitHub identity may not review (plain text).
pub fn bot_not_a_reviewer(environment: &str) -> String {
    format!(
        "The bot is not a required reviewer of {environment} on GitHub: review the run there, \
         or add the bot's GitHub identity to the environment's reviewers."
    )
}

#[cfg(test)]
#[path = "gates/tests.rs"]
mod tests;
