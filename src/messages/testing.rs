//! Data the messages' tests render.

use crate::domain::{Env, OperationKind, OperationState};
use crate::store::OperationRow;

/// 2026-11-25 10:41 UTC, in Unix milliseconds.
pub const AT: i64 = 1_795_603_260_000;

/// An operation as the store gives it, asked at [`AT`].
pub fn op(id: i64, kind: OperationKind, env: Option<&str>, version: &str) -> OperationRow {
    OperationRow {
        id,
        kind,
        env: env.map(|e| Env::parse(e).unwrap()),
        version: version.into(),
        release_type: None,
        state: OperationState::AwaitingApproval,
        requested_by: 100000001,
        chat_id: -1,
        request_id: "r".into(),
        run_id: None,
        run_url: None,
        detail: None,
        created_at: AT,
        updated_at: AT,
        expires_at: None,
        dispatched_at: None,
        direct_ecs: false,
    }
}
