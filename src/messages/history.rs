//! `/history [env] [n]`: the last operations, newest first.

use crate::alerts::format::{escape, from_ms, span, utc};
use crate::domain::{OperationKind, OperationState, ReleaseType};
use crate::store::OperationRow;

/// One operation of the history, with the names of who asked and who
/// approved.
pub struct Entry<'a> {
    pub op: &'a OperationRow,
    pub asked_by: String,
    pub approved_by: Vec<String>,
}

/// The history of `scope` ("all environments" or one) is empty.
pub fn nothing_yet(scope: &str) -> String {
    format!("📜 Nothing yet in {}.", escape(scope))
}

/// The history of `scope`, one line per operation, newest first.
pub fn history(scope: &str, entries: &[Entry<'_>]) -> String {
    let mut text = format!(
        "📜 <b>History</b> · {} · last {}",
        escape(scope),
        entries.len()
    );
    for entry in entries {
        text.push('\n');
        text.push_str(&line(entry));
    }
    text
}

fn line(entry: &Entry<'_>) -> String {
    let op = entry.op;
    let what = match op.kind {
        OperationKind::Release => format!(
            "release {} ({})",
            escape(&op.version),
            escape(op.release_type.map_or("?", ReleaseType::as_str))
        ),
        OperationKind::Rollback => format!(
            "rollback {} → {}",
            escape(op.env_name().unwrap_or("?")),
            escape(&op.version)
        ),
        OperationKind::Deploy => format!(
            "deploy {} → {}",
            escape(&op.version),
            escape(op.env_name().unwrap_or("?"))
        ),
    };
    let approved = if entry.approved_by.is_empty() {
        String::new()
    } else {
        format!(" · approved by {}", escape(&entry.approved_by.join(", ")))
    };
    let took = match (op.state.is_final(), op.dispatched_at) {
        (true, Some(at)) => format!(" · took {}", span((op.updated_at - at) / 1000)),
        _ => String::new(),
    };
    let icon = match op.state {
        OperationState::Succeeded => "✅",
        OperationState::Failed | OperationState::Unhealthy => "❌",
        OperationState::Rejected | OperationState::Expired | OperationState::Cancelled => "🚫",
        _ => "⏳",
    };
    format!(
        "{icon} #{} {what} · {} · asked by {}{approved} · {}{took}",
        op.id,
        op.state,
        escape(&entry.asked_by),
        utc(from_ms(op.created_at))
    )
}

#[cfg(test)]
mod tests;
