//! Crash anywhere: the real binary is driven through a scripted sequence
//! of operations (requests, approvals, rejections, cancellations,
//! expiries, run updates, alerts) and SIGKILLed at seeded random points,
//! restarted each time. At the end: every approved operation dispatched
//! exactly once, no approval lost (its button still worked after the
//! restarts), every alert delivered, the audit log complete and in order.
//!
//! `CRASH_SEED=<n>` replays a run; `CRASH_OPS=<n>` changes its length.

use aletheia_bot::domain::OperationState;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use aletheia_bot::store::{OperationRow, Store};

use crate::support::github::{post_signed_webhook, workflow_run_event};
use crate::support::*;

const DEV_CHAT: i64 = 501;
const STAGING_CHAT: i64 = 502;

/// Private-chat ids (positive): Telegram's group limit (20 a minute)
/// would make the run wait, and it is not what is tested here.
const CHATS: &str = r#"
[[chats]]
id = 501
name = "dev"
alerts = ["release", "deployment", "rollback", "failure", "health", "approval"]
envs = ["dev"]

[[chats]]
id = 502
name = "staging"
alerts = ["release", "deployment", "rollback", "failure", "health", "approval"]
envs = ["staging"]
"#;

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// How an operation is meant to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    Succeed,
    Fail,
    Reject,
    Cancel,
    Expire,
}

impl Plan {
    fn end(self) -> &'static str {
        match self {
            Plan::Succeed => "succeeded",
            Plan::Fail => "failed",
            Plan::Reject => "rejected",
            Plan::Cancel => "cancelled",
            Plan::Expire => "expired",
        }
    }
}

const DISPATCHED: [&str; 6] = [
    "dispatched",
    "running",
    "confirming",
    "succeeded",
    "failed",
    "unhealthy",
];

struct Driver {
    world: World,
    store: Store,
    rng: Rng,
    kills: u32,
    actions: u32,
    /// When each kind of action was last taken for the current operation:
    /// one not followed by progress is taken again after a while (a kill
    /// may have swallowed it).
    taken: HashMap<&'static str, Instant>,
}

impl Driver {
    /// After an action: killed here with some chance, then restarted.
    async fn after_action(&mut self) {
        self.actions += 1;
        if self.rng.chance(25) {
            self.world.kill_bot().await;
            self.world.start_bot().await;
            self.kills += 1;
            self.taken.clear();
        }
    }

    fn due(&mut self, action: &'static str) -> bool {
        let due = self
            .taken
            .get(action)
            .is_none_or(|at| at.elapsed() > Duration::from_millis(2500));
        if due {
            self.taken.insert(action, Instant::now());
        }
        due
    }

    async fn find(&self, env: &str, version: &str) -> Option<OperationRow> {
        self.store
            .all_operations()
            .await
            .unwrap()
            .into_iter()
            .rev()
            .find(|o| o.env_name() == Some(env) && o.version == version)
    }

    /// Drives one operation to its end, whatever the kills do.
    async fn drive(&mut self, env: &'static str, version: &str, plan: Plan) -> OperationRow {
        self.taken.clear();
        let chat = if env == "dev" { DEV_CHAT } else { STAGING_CHAT };
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut rolled_out = false;
        loop {
            let op = self.find(env, version).await;
            assert!(
                Instant::now() < deadline,
                "{env} {version} ({plan:?}) stuck at {:?}",
                op.as_ref().map(|o| o.state)
            );
            let state = op.as_ref().map(|o| o.state.as_str());
            match (state, &op) {
                (None, _) => {
                    if self.due("ask") {
                        let text = format!("/deploy {env} {version}");
                        self.world.tg.user_says(chat, ALICE.id, ALICE.name, &text);
                        self.after_action().await;
                    }
                }
                (Some("awaiting_approval"), Some(op)) => {
                    let (who, data) = match plan {
                        Plan::Succeed | Plan::Fail => (&CAROL, format!("d:{}:a", op.id)),
                        Plan::Reject => (&QUINN, format!("d:{}:r", op.id)),
                        Plan::Cancel => (&ALICE, String::new()),
                        Plan::Expire => (&ALICE, "wait".into()),
                    };
                    if data.is_empty() {
                        if self.due("cancel") {
                            let text = format!("/cancel {}", op.id);
                            self.world.tg.user_says(chat, who.id, who.name, &text);
                            self.after_action().await;
                        }
                    } else if data != "wait" {
                        // The prompt, once delivered: its button is tapped.
                        let prompt = self
                            .world
                            .tg
                            .sent_to(chat)
                            .into_iter()
                            .find(|m| m.buttons.iter().flatten().any(|(_, d)| *d == data));
                        if let Some(prompt) = prompt
                            && self.due("tap")
                        {
                            let tap = self.world.tg.user_taps(&prompt, who.id, who.name, &data);
                            let _ = tap;
                            self.after_action().await;
                        }
                    }
                }
                (Some("dispatched" | "running"), Some(op)) => {
                    if let Some(run) = self.world.gh.run_of_request(&op.request_id) {
                        let success = plan == Plan::Succeed;
                        if success && !rolled_out {
                            // What the workflow does to ECS.
                            self.world.roll_out(env, version).await;
                            rolled_out = true;
                        }
                        if self.due("finish") {
                            let conclusion = if success { "success" } else { "failure" };
                            let run = self.world.gh.set_run(run, "completed", Some(conclusion));
                            // The same delivery each time: GitHub redelivering it.
                            let delivery = format!("done-{}", run["id"]);
                            let _ = post_signed_webhook(
                                &self.world.bot_url(),
                                "workflow_run",
                                &delivery,
                                &workflow_run_event("completed", &run),
                            )
                            .await;
                            self.after_action().await;
                        }
                    }
                }
                // The bot dispatches, confirms on ECS, expires: waited for.
                (Some("approved" | "confirming"), _) => {}
                (Some(_), Some(op)) => return op.clone(),
                (Some(_), None) => unreachable!(),
            }
            // Until something moves (or a while passes): read, not slept on.
            let before = state;
            let until = Instant::now() + Duration::from_millis(500);
            while Instant::now() < until {
                let now = self.find(env, version).await.map(|o| o.state.as_str());
                if now != before {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

#[tokio::test]
#[ignore = "long (about two minutes): .ci/test runs it"]
async fn killed_at_random_points_the_bot_loses_nothing_and_runs_nothing_twice() {
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0xA1E7_11EA);
    let count: usize = std::env::var("CRASH_OPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(56);
    eprintln!("crash test: seed {seed}, {count} operations");

    let mut world = World::new().await;
    world.chats_toml = Some(CHATS);
    // Long enough for a prompt to reach its chat behind the messages
    // before it there, at Telegram's one a second.
    world.staging_expiry = "8s";
    // A run whose webhook was lost is found by polling.
    world.poll_interval = "1s";
    world.seed().await;
    for i in 0..count {
        world.gh.add_release(&format!("v1.4.{i}"));
    }
    world.start_bot().await;
    let store = world.store().await;
    let mut driver = Driver {
        world,
        store,
        rng: Rng(seed.max(1)),
        kills: 0,
        actions: 0,
        taken: HashMap::new(),
    };

    let mut planned = Vec::new();
    for i in 0..count {
        let env = if i % 2 == 0 { "dev" } else { "staging" };
        let plan = if env == "dev" {
            // Dev deploys need no approval.
            [Plan::Succeed, Plan::Succeed, Plan::Fail][driver.rng.below(3) as usize]
        } else {
            [
                Plan::Succeed,
                Plan::Succeed,
                Plan::Succeed,
                Plan::Fail,
                Plan::Reject,
                Plan::Cancel,
                Plan::Expire,
            ][driver.rng.below(7) as usize]
        };
        let version = format!("1.4.{i}");
        let op = driver.drive(env, &version, plan).await;
        planned.push((op.id, plan));
    }
    let Driver {
        world,
        store,
        kills,
        actions,
        ..
    } = driver;
    eprintln!("crash test: {count} operations, {actions} actions, {kills} kills");
    assert!(kills >= 20, "only {kills} kills: too few to prove much");

    // Every alert goes out (the bot is up and Telegram is fine).
    world
        .until_outbox_sent("the outbox drained", Duration::from_secs(120))
        .await;

    let ops = store.all_operations().await.unwrap();
    assert_eq!(ops.len(), count, "one operation per request, none twice");

    // Each ended as planned. A tap (approval or rejection) may come too
    // late for a prompt that expired while the bot was down: that is the
    // one allowance.
    let mut late = 0;
    for (id, plan) in &planned {
        let op = ops.iter().find(|o| o.id == *id).unwrap();
        if op.state == OperationState::Expired
            && matches!(plan, Plan::Succeed | Plan::Fail | Plan::Reject)
        {
            late += 1;
            continue;
        }
        assert_eq!(op.state.as_str(), plan.end(), "#{id} ({plan:?})");
    }
    assert!(late * 5 <= count / 2, "{late} approvals came too late");

    // Every approved operation was dispatched exactly once; the others never.
    let dispatches = world.gh.dispatches();
    let mut expected = 0;
    for op in &ops {
        let n = dispatches
            .iter()
            .filter(|(_, body)| body["inputs"]["request_id"] == op.request_id.as_str())
            .count();
        let want = usize::from(DISPATCHED.contains(&op.state.as_str()));
        assert_eq!(n, want, "#{} ({}) dispatched {n} times", op.id, op.state);
        expected += want;
    }
    assert_eq!(dispatches.len(), expected);

    // Every alert reached its chat. A kill between Telegram taking a
    // message and the bot noting it sends that one again (at least once);
    // nothing else may be doubled.
    // (Read here, every chat's messages at once: what reached it.)
    let mut received = HashMap::new();
    let mut doubled = 0;
    for alert in store.all_alerts().await.unwrap() {
        if alert.edit_of.is_some() {
            continue;
        }
        let copies = received
            .entry(alert.chat_id)
            .or_insert_with(|| world.tg.read_all(alert.chat_id))
            .iter()
            .filter(|m| m.edits.first().unwrap_or(&m.text) == &alert.text)
            .count();
        assert!(copies >= 1, "{} never reached its chat", alert.dedup_key);
        doubled += copies - 1;
    }
    eprintln!("crash test: {doubled} alerts sent twice (killed mid-send)");
    assert!(
        doubled as u32 <= kills,
        "{doubled} doubled alerts for {kills} kills"
    );

    // The audit log: in order, and each operation's life in it once.
    let audit = store.recent_audit(1_000_000).await.unwrap();
    assert!(
        audit
            .windows(2)
            .all(|w| w[0].id < w[1].id && w[0].at <= w[1].at)
    );
    for op in &ops {
        let lines = |action: &str, outcome: &str| {
            audit
                .iter()
                .filter(|a| {
                    a.operation_id == Some(op.id) && a.action == action && a.outcome == outcome
                })
                .count()
        };
        let dispatched = usize::from(DISPATCHED.contains(&op.state.as_str()));
        assert_eq!(
            lines("dispatch:deploy", "dispatched"),
            dispatched,
            "#{}",
            op.id
        );
        let ended = match op.state.as_str() {
            "succeeded" => lines("confirm:deploy", "succeeded"),
            "failed" => lines("run:deploy", "failed"),
            "expired" => audit
                .iter()
                .filter(|a| a.operation_id == Some(op.id) && a.outcome == "expired")
                .count(),
            _ => 1,
        };
        assert_eq!(
            ended, 1,
            "#{} ({}): its end in the audit log once",
            op.id, op.state
        );
    }
    let created = audit
        .iter()
        .filter(|a| a.action == "operation:deploy" && a.outcome != "refused")
        .count();
    eprintln!(
        "crash test: {} audit lines, {created} deploy requests",
        audit.len()
    );
}
