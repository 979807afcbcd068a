//! What the bot is trusted with, read before and after a hostile input:
//! nothing of it may change (refusals may add audit lines only).

use serde_json::Value;

use crate::support::*;

/// An operation: (id, kind, env, version, state, run).
type OperationFacts = (i64, String, Option<String>, String, String, Option<i64>);

/// What the bot is trusted with, as the store and the fake GitHub hold it.
#[derive(Debug, PartialEq)]
pub(crate) struct Snapshot {
    pub(crate) operations: Vec<OperationFacts>,
    pub(crate) approvals: Vec<(i64, Vec<i64>)>,
    pub(crate) locks: Vec<(String, i64, String, Option<i64>)>,
    pub(crate) mutes: Vec<(i64, String, i64)>,
    pub(crate) verdicts: Vec<(String, String, String, i64)>,
    pub(crate) dispatches: Vec<(String, Value)>,
    /// Outbox rows (alerts, prompts and their edits): (id, key, chat).
    pub(crate) alerts: Vec<(i64, String, i64)>,
    pub(crate) deliveries: i64,
}

impl Snapshot {
    /// The parts that differ, before and after.
    pub(crate) fn diff(&self, after: &Snapshot) -> String {
        let mut out = String::new();
        let mut part = |name: &str, a: String, b: String| {
            if a != b {
                out.push_str(&format!("  {name}: {a}\n  -> {b}\n"));
            }
        };
        part(
            "operations",
            format!("{:?}", self.operations),
            format!("{:?}", after.operations),
        );
        part(
            "approvals",
            format!("{:?}", self.approvals),
            format!("{:?}", after.approvals),
        );
        part(
            "locks",
            format!("{:?}", self.locks),
            format!("{:?}", after.locks),
        );
        part(
            "mutes",
            format!("{:?}", self.mutes),
            format!("{:?}", after.mutes),
        );
        part(
            "verdicts",
            format!("{:?}", self.verdicts),
            format!("{:?}", after.verdicts),
        );
        part(
            "dispatches",
            format!("{:?}", self.dispatches),
            format!("{:?}", after.dispatches),
        );
        part(
            "alerts",
            format!("{:?}", self.alerts),
            format!("{:?}", after.alerts),
        );
        part(
            "deliveries",
            format!("{:?}", self.deliveries),
            format!("{:?}", after.deliveries),
        );
        out
    }
}

pub(crate) async fn snapshot(world: &World) -> Snapshot {
    let store = world.store().await;
    let ops = store.all_operations().await.unwrap();
    let mut approvals = Vec::new();
    for op in &ops {
        approvals.push((
            op.id,
            store
                .approvers_of(aletheia_bot::domain::OperationId(op.id))
                .await
                .unwrap(),
        ));
    }
    let mut mutes = Vec::new();
    for chat in [
        TEAM_CHAT,
        ONCALL_CHAT,
        STRANGER_CHAT,
        ALICE.id,
        BOB.id,
        DAVE.id,
    ] {
        for m in store.mutes_of(chat).await.unwrap() {
            mutes.push((m.chat_id, m.target, m.until));
        }
    }
    let snapshot = Snapshot {
        operations: ops
            .iter()
            .map(|o| {
                (
                    o.id,
                    o.kind.as_str().to_owned(),
                    o.env_name().map(str::to_owned),
                    o.version.clone(),
                    o.state.as_str().to_owned(),
                    o.run_id,
                )
            })
            .collect(),
        approvals,
        locks: store
            .all_locks()
            .await
            .unwrap()
            .into_iter()
            .map(|l| (l.env, l.locked_by, l.reason, l.expires_at))
            .collect(),
        mutes,
        verdicts: store
            .latest_verdicts()
            .await
            .unwrap()
            .into_iter()
            .map(|v| (v.env, v.version, v.verdict, v.user_id))
            .collect(),
        dispatches: world.gh.dispatches(),
        alerts: store
            .all_alerts()
            .await
            .unwrap()
            .into_iter()
            .map(|a| (a.id, a.dedup_key, a.chat_id))
            .collect(),
        deliveries: store.delivery_count().await.unwrap(),
    };
    store.close().await;
    snapshot
}
