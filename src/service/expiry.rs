//! Requests nobody decided in time: their prompts are edited to say so
//! (and, at two thirds of the time, their approvers reminded).

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::App;
use crate::domain::EditStep;
use crate::domain::{OperationId, OperationKind, OperationState};
use crate::messages::story as say;
use crate::store::Transition;

impl App {
    /// Ends the requests nobody decided in time: each prompt is edited to
    /// say so and loses its buttons.
    pub async fn expire_requests(&self) {
        let ops = match self.store.expired_requests().await {
            Ok(ops) => ops,
            Err(e) => {
                tracing::warn!(error = %e, "expiry: store unreadable");
                return;
            }
        };
        for op in ops {
            let id = OperationId(op.id);
            let waited = op.expires_at.unwrap_or(op.created_at) - op.created_at;
            let text = if op.kind == OperationKind::Release {
                say::release_expired(&op, waited / 1000)
            } else {
                say::request_expired(&op, &self.name_of(op.requested_by), waited / 1000)
            };
            let edits = self.edit_prompts(&op, EditStep::Expired, text).await;
            let audit = self.audit(
                None,
                Some(op.chat_id),
                "expiry",
                "expired",
                Some(id),
                String::new(),
            );
            if let Err(e) = self
                .transition(
                    id,
                    Transition::new(&[OperationState::AwaitingApproval], OperationState::Expired),
                    &audit,
                    &edits,
                )
                .await
            {
                tracing::warn!(error = %e, operation = op.id, "expiry failed");
            }
        }
    }
}

/// How often undecided requests are checked for expiry.
const EXPIRY_TICK: Duration = Duration::from_secs(1);

/// Expires undecided requests on time until stopped.
pub async fn expiry_loop(app: Arc<App>, stop: CancellationToken) {
    let mut pruned = std::time::Instant::now();
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(EXPIRY_TICK) => {}
        }
        let app = app.current();
        app.expire_requests().await;
        app.remind_requests().await;
        app.keep_locks().await;
        // Telegram redelivers an update for at most 24 hours; pruned hourly.
        if pruned.elapsed() >= Duration::from_secs(3600) {
            pruned = std::time::Instant::now();
            let before = crate::store::now_ms() - 2 * 24 * 3600 * 1000;
            if let Err(e) = app.store.forget_updates(before).await {
                tracing::warn!(error = %e, "pruning the update ledger failed");
            }
        }
    }
}
