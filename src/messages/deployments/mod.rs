//! What GitHub's Environments page reads of a deploy or rollback: the
//! deployment's description and each status's (plain text, at most 140
//! characters, GitHub's limit for a status).

use crate::domain::{DeploymentStatus, Env, OperationId, OperationKind};

/// GitHub's most for a status's description.
const MOST: usize = 140;

/// The deployment of an operation.
pub fn description(op: OperationId, kind: OperationKind, version: &str, env: &Env) -> String {
    let what = match kind {
        OperationKind::Rollback => "Rollback",
        OperationKind::Deploy | OperationKind::Release => "Deploy",
    };
    short(format!(
        "{what} of {version} to {env} (aletheia-bot operation #{})",
        op.0
    ))
}

/// One status of an operation's deployment.
pub fn status(status: DeploymentStatus, kind: OperationKind) -> String {
    let run = match kind {
        OperationKind::Rollback => "rollback",
        OperationKind::Deploy | OperationKind::Release => "deploy",
    };
    short(match status {
        DeploymentStatus::Queued => format!("The {run} was dispatched"),
        DeploymentStatus::InProgress => format!("The {run} is running"),
        DeploymentStatus::Success => "Running on ECS and healthy".to_owned(),
        DeploymentStatus::Failure => format!("The {run} failed or never came up healthy"),
        DeploymentStatus::Inactive => "Replaced by a later deploy or rollback".to_owned(),
    })
}

/// At most GitHub's length, cut on a character.
fn short(text: String) -> String {
    if text.chars().count() <= MOST {
        text
    } else {
        text.chars().take(MOST).collect()
    }
}

#[cfg(test)]
mod tests;
