//! The test world: fake Telegram and GitHub servers, moto for ECS, and the
//! real `aletheia-bot` binary started against them with its own database.

mod background;
pub mod caddy;
pub mod compose;
mod config;
pub mod ecs_proxy;
mod finish;
pub mod github;
pub mod health;
pub mod moto;
mod process;
mod services;
pub mod tcp_cut;
pub mod telegram;
pub mod telegram_html;

use std::time::Duration;

use aletheia_bot::store::Store;
use tokio::sync::Notify;

use github::FakeGithub;
use health::FakeHealth;
use process::BotProcess;
use telegram::FakeTelegram;

pub const TEAM_CHAT: i64 = -1001000000001;
pub const ONCALL_CHAT: i64 = -1001000000002;
pub const STRANGER_CHAT: i64 = -1009999999999;

pub struct Person {
    pub id: i64,
    pub name: &'static str,
}

pub const ALICE: Person = Person {
    id: 100000001,
    name: "Alice",
}; // developer
pub const BOB: Person = Person {
    id: 100000002,
    name: "Bob",
}; // senior, developer
pub const CAROL: Person = Person {
    id: 100000003,
    name: "Carol",
}; // qa
pub const DAVE: Person = Person {
    id: 100000004,
    name: "Dave",
}; // senior
pub const QUINN: Person = Person {
    id: 100000005,
    name: "Quinn",
}; // qa
pub const MALLORY: Person = Person {
    id: 666000666,
    name: "Mallory",
}; // nobody

/// Waits until `check` returns something, re-checking whenever `changed`
/// is notified (and every 50 ms, for changes nobody announces).
pub async fn wait_until<T>(
    changed: &Notify,
    timeout: Duration,
    what: &str,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let notified = changed.notified();
        if let Some(value) = check() {
            return value;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        let _ = tokio::time::timeout(Duration::from_millis(50), notified).await;
    }
}

/// Polls an async condition until it holds, or panics after `timeout`.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    while !check().await {
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `[[users]]` of bot.toml unless a world says otherwise.
pub const USERS_TOML: &str = r#"

[[users]]
id = 100000001
name = "Alice"
roles = ["developer"]

[[users]]
id = 100000002
name = "Bob"
roles = ["senior", "developer"]

[[users]]
id = 100000003
name = "Carol"
roles = ["qa"]

[[users]]
id = 100000004
name = "Dave"
roles = ["senior"]

[[users]]
id = 100000005
name = "Quinn"
roles = ["qa"]
"#;

/// Everything a scenario runs in.
pub struct World {
    // Dropped first: the bot stops (and shows its log) before the
    // directory holding that log and its database goes.
    bot: Option<BotProcess>,
    /// A second instance on the same database (`start_standby`).
    standby: Option<BotProcess>,
    pub standby_port: u16,
    /// `leader.lease`.
    pub leader_lease: &'static str,
    /// A PostgreSQL schema of its own instead of the SQLite file
    /// (`use_postgres`).
    pg_url: Option<String>,
    /// The same database, not through any proxy (for the test's reads).
    pg_direct: Option<String>,
    /// The `[[chats]]` of bot.toml, instead of the team and on-call chats.
    pub chats_toml: Option<&'static str>,
    /// ECS for the bot goes through this (a proxy that can fail) instead
    /// of straight to moto.
    pub ecs_endpoint: Option<String>,
    /// Telegram's updates come by webhook (`TELEGRAM_WEBHOOK_SECRET` set).
    pub webhook_mode: bool,
    /// Tables of a shipped bot.toml laid over this world's, key by key
    /// (`server.listen` then moved to the instance's own port on
    /// 127.0.0.1).
    pub config_overlay: Option<toml::Table>,
    /// The instances' environment as a deployment file gives it, instead
    /// of this world's secrets and `DATABASE_URL`.
    pub instance_env: Option<std::collections::BTreeMap<String, String>>,
    pub tg: FakeTelegram,
    pub gh: FakeGithub,
    pub health: FakeHealth,
    pub ecs: aws_sdk_ecs::Client,
    /// Unique per world: the ECS cluster names start with it.
    pub prefix: String,
    pub dir: tempfile::TempDir,
    pub http_port: u16,
    /// `github.poll_interval` of the bot: long unless a test wants polling.
    pub poll_interval: &'static str,
    /// How long staging's approval prompts stay open.
    pub staging_expiry: &'static str,
    /// `github.find_run_within` of the bot.
    pub find_run_within: &'static str,
    /// Prod's fat-finger guard (`confirm_tap`).
    pub prod_confirm_tap: bool,
    /// `aws.confirm_within`: how long ECS and health have to confirm a deploy.
    pub confirm_within: &'static str,
    /// `github.timeout`: how long the bot waits on one GitHub request.
    pub github_timeout: &'static str,
    /// `environments.prod.rollback.break_glass`.
    pub prod_break_glass: bool,
    /// More lines of `[environments.prod.rollback]` (automatic rollback).
    pub prod_rollback_toml: &'static str,
    /// `incident.remind_every`: how often a held lock is recalled.
    pub remind_every: &'static str,
    /// `monitor.interval`: long unless a test watches the monitor.
    pub monitor_interval: &'static str,
    /// `alerts.max_attempts`: the retry budget of an alert.
    pub alert_attempts: u32,
    /// `environments.dev.auto_deploy`: dev deploys itself from main.
    pub dev_auto_deploy: bool,
    /// More lines of `[server]` (its timeouts and limits).
    pub server_toml: &'static str,
    /// `METRICS_TOKEN` of the bot.
    pub metrics_token: Option<&'static str>,
    /// The bot's `RUST_LOG` (else `BOT_RUST_LOG`, else info and debug).
    pub log_filter: Option<&'static str>,
    /// `environments.prod.approval.approvals`.
    pub prod_approvals: u32,
    /// The keys of `environments.prod.approval` saying who approves,
    /// instead of `approvers = ["senior"]` and `prod_approvals`.
    pub prod_approval_toml: Option<&'static str>,
    /// The `[[users]]` of bot.toml, instead of Alice, Bob, Carol, Dave
    /// and Quinn.
    pub users_toml: Option<String>,
    /// `incident.ack_within`.
    pub ack_within: &'static str,
    /// The `[release]` table: no checklist unless a scenario is about it
    /// (`""`: the shipped default, the release process's items).
    pub release_toml: &'static str,
    /// A `[security]` section of bot.toml (none unless a test sets it).
    pub security_toml: &'static str,
    /// `github.deployments` (with a short `github.deployment_retry`).
    pub github_deployments: bool,
    /// `[[freeze]]` entries of bot.toml (freeze windows).
    pub freeze_toml: String,
    /// A `[log]` section of bot.toml (none unless a test sets it).
    pub log_toml: &'static str,
    /// Services an environment runs beside `aletheia-api`, as
    /// `(env, service)`: that environment lists its `services`.
    pub extra_services: Vec<(&'static str, &'static str)>,
    /// Why this scenario may leave messages unread (`skip_unread`).
    unread_skipped: Option<&'static str>,
    /// bot.toml as given (one `init` wrote, filled in), instead of the
    /// one written for this world.
    pub config_toml: Option<String>,
}

impl World {
    pub async fn new() -> Self {
        let tg = FakeTelegram::start().await;
        let gh = FakeGithub::start().await;
        let health = FakeHealth::start().await;
        let ecs = moto::client().await;
        let prefix = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let http_port = free_port();
        Self {
            tg,
            gh,
            health,
            ecs,
            prefix,
            dir: tempfile::tempdir().unwrap(),
            http_port,
            poll_interval: "1h",
            staging_expiry: "30m",
            find_run_within: "10m",
            prod_confirm_tap: false,
            confirm_within: "30s",
            github_timeout: "5s",
            prod_break_glass: false,
            prod_rollback_toml: "",
            remind_every: "1day",
            ack_within: "10m",
            release_toml: "\n[release]\nchecklist = []\n",
            security_toml: "",
            github_deployments: false,
            freeze_toml: String::new(),
            log_toml: "",
            monitor_interval: "1h",
            alert_attempts: 4,
            dev_auto_deploy: false,
            server_toml: "",
            metrics_token: None,
            log_filter: None,
            prod_approvals: 1,
            prod_approval_toml: None,
            users_toml: None,
            unread_skipped: None,
            extra_services: Vec::new(),
            config_toml: None,
            bot: None,
            standby: None,
            standby_port: free_port(),
            leader_lease: "15s",
            pg_url: None,
            pg_direct: None,
            chats_toml: None,
            webhook_mode: false,
            config_overlay: None,
            instance_env: None,
            ecs_endpoint: None,
        }
    }

    pub fn cluster(&self, env: &str) -> String {
        format!("{}-{env}", self.prefix)
    }

    /// The Aletheia world of the README: dev and staging run 1.2.3, prod
    /// runs 1.2.2 with 1.2.3 registered but not deployed; both releases are
    /// published and main's CI is green.
    pub async fn seed(&self) {
        let images = ["repo/aletheia:1.2.2", "repo/aletheia:1.2.3"];
        for (env, running) in [
            ("dev", "repo/aletheia:1.2.3"),
            ("staging", "repo/aletheia:1.2.3"),
            ("prod", "repo/aletheia:1.2.2"),
        ] {
            moto::seed_service(
                &self.ecs,
                &self.cluster(env),
                "aletheia-api",
                &format!("{}-{env}-api", self.prefix),
                &images,
                running,
                moto::RUNNING,
            )
            .await;
        }
        self.gh.add_release("v1.2.2");
        self.gh.add_release("v1.2.3");
        self.gh.add_check_run("test", "completed", Some("success"));
        self.gh.add_check_run("lint", "completed", Some("success"));
    }

    /// `version` ran on staging (deployed by Alice) and Carol (QA)
    /// verified it there, as the store records both.
    pub async fn verified_on_staging(&self, version: &str) {
        use aletheia_bot::domain::UserId;
        let store = self.store().await;
        store
            .record_succeeded_deploy(
                &aletheia_bot::domain::Env::parse("staging").unwrap(),
                version,
                UserId(ALICE.id),
            )
            .await
            .unwrap();
        let qa = aletheia_bot::store::AuditEntry {
            actor: Some(UserId(CAROL.id)),
            chat: None,
            action: "qa:verify".into(),
            outcome: "verified".into(),
            operation: None,
            detail: String::new(),
        };
        store
            .record_verification(
                &aletheia_bot::domain::Env::parse("staging").unwrap(),
                version,
                true,
                UserId(CAROL.id),
                &qa,
                &[],
            )
            .await
            .unwrap();
    }

    /// A workflow run starts outside the bot (GitHub's UI, a schedule):
    /// GitHub has it in progress and says so by a signed `workflow_run`
    /// webhook (delivery `w-1`). Returns the run as GitHub shows it.
    pub async fn start_run_outside(&self, workflow: &str, run_name: &str) -> serde_json::Value {
        let run = self.gh.start_run(workflow, run_name);
        let response = github::post_signed_webhook(
            &self.bot_url(),
            "workflow_run",
            "w-1",
            &github::workflow_run_event("in_progress", &run),
        )
        .await;
        assert!(response.status().is_success(), "{}", response.status());
        run
    }

    /// A workflow run ends with `conclusion`, and GitHub says so by a
    /// signed `workflow_run` webhook (delivery `delivery`).
    pub async fn finish_run(
        &self,
        run_id: u64,
        conclusion: &str,
        delivery: &str,
    ) -> serde_json::Value {
        let run = self.gh.set_run(run_id, "completed", Some(conclusion));
        let response = github::post_signed_webhook(
            &self.bot_url(),
            "workflow_run",
            delivery,
            &github::workflow_run_event("completed", &run),
        )
        .await;
        assert!(response.status().is_success(), "{}", response.status());
        run
    }

    /// What the Deploy workflow does to ECS: `repo/aletheia:{version}` is
    /// registered in the environment's family and rolled out, completed.
    pub async fn roll_out(&self, env: &str, version: &str) {
        let family = format!("{}-{env}-api", self.prefix);
        let arn = moto::register(&self.ecs, &family, &format!("repo/aletheia:{version}")).await;
        moto::roll_out(&self.ecs, &self.cluster(env), "aletheia-api", &arn).await;
    }

    /// Waits until every alert in the outbox has gone out (`what` names
    /// the moment in the failure message).
    pub async fn until_outbox_sent(&self, what: &str, within: Duration) {
        let store = self.store().await;
        eventually(within, what, || async {
            store
                .all_alerts()
                .await
                .unwrap()
                .iter()
                .all(|a| a.state == "sent")
        })
        .await;
    }

    /// Every alert for `chat` in the outbox reached it exactly once (its
    /// first text, before any edit).
    pub async fn assert_each_alert_sent_once(&self, chat: i64) {
        let sent = self.tg.sent_to(chat);
        for alert in self.store().await.all_alerts().await.unwrap() {
            if alert.edit_of.is_some() || alert.chat_id != chat {
                continue;
            }
            let copies = sent
                .iter()
                .filter(|m| m.edits.first().unwrap_or(&m.text) == &alert.text)
                .count();
            assert_eq!(copies, 1, "{} sent {copies} times", alert.dedup_key);
        }
    }

    /// The bot's database, opened beside the running bot (WAL allows it).
    pub async fn store(&self) -> Store {
        let url = self
            .pg_direct
            .clone()
            .unwrap_or_else(|| self.database_url());
        Store::connect(&url).await.unwrap()
    }

    /// A person types in a chat; returns the next `n` messages there,
    /// sorted: an answer and an alert it caused may arrive in either order.
    pub async fn say_and_read(&self, chat: i64, who: &Person, text: &str, n: usize) -> Vec<String> {
        self.tg.user_says(chat, who.id, who.name, text);
        let mut texts = Vec::new();
        for _ in 0..n {
            texts.push(self.tg.next_message(chat).await.text);
        }
        texts.sort();
        texts
    }

    /// A person types in a chat; returns the bot's answer there.
    pub async fn say(&self, chat: i64, who: &Person, text: &str) -> telegram::Sent {
        self.tg.user_says(chat, who.id, who.name, text);
        self.tg.next_message(chat).await
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A seeded world with release v1.3.0 published and the bot started.
/// A failure alert's text as it was sent: without the diagnosis its
/// edit adds within seconds (which may have landed by the time the test
/// reads it).
pub fn undiagnosed(text: &str) -> &str {
    text.split("\n\n🔎 <b>Diagnosis</b>").next().unwrap_or(text)
}

pub async fn world_with_release() -> World {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.start_bot().await;
    world
}
