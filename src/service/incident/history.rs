//! `/history [env] [n]`: the last operations, newest first.

use crate::domain::{Env, OperationId};
use crate::messages::history::{self as text, Entry};
use crate::service::{App, Reply};

impl App {
    /// `/history [env] [n]`: the last operations, newest first.
    pub(in crate::service) async fn history(
        &self,
        env: Option<&Env>,
        n: u32,
    ) -> (String, Option<Reply>) {
        let ops = match self.store.history(env, i64::from(n)).await {
            Ok(ops) => ops,
            Err(e) => return self.internal_error("history: store", &e),
        };
        let scope = env.map_or("all environments", Env::as_str);
        if ops.is_empty() {
            return (
                "answered".into(),
                Some(Reply::new(text::nothing_yet(scope))),
            );
        }
        let mut entries = Vec::with_capacity(ops.len());
        for op in &ops {
            let approvers = self
                .store
                .approvers_of(OperationId(op.id))
                .await
                .unwrap_or_default();
            entries.push(Entry {
                op,
                asked_by: self.name_of(op.requested_by),
                approved_by: approvers.iter().map(|u| self.name_of(*u)).collect(),
            });
        }
        (
            "answered".into(),
            Some(Reply::new(text::history(scope, &entries))),
        )
    }
}
