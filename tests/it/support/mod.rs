//! The test world: fake Telegram and GitHub servers, moto for ECS, and the
//! real `aletheia-bot` binary started against them with its own database.

pub mod ecs_proxy;
pub mod github;
pub mod health;
pub mod moto;
pub mod tcp_cut;
pub mod telegram;
pub mod telegram_html;

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;

use aletheia_bot::store::Store;
use tokio::sync::Notify;

use github::FakeGithub;
use health::FakeHealth;
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
    /// `environments.prod.rollback.break_glass`.
    pub prod_break_glass: bool,
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
    /// The `[[users]]` of bot.toml, instead of Alice, Bob, Carol, Dave
    /// and Quinn.
    pub users_toml: Option<String>,
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
            prod_break_glass: false,
            remind_every: "1day",
            monitor_interval: "1h",
            alert_attempts: 4,
            dev_auto_deploy: false,
            server_toml: "",
            metrics_token: None,
            log_filter: None,
            prod_approvals: 1,
            users_toml: None,
            bot: None,
            standby: None,
            standby_port: free_port(),
            leader_lease: "15s",
            pg_url: None,
            pg_direct: None,
            chats_toml: None,
            webhook_mode: false,
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

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("bot.toml")
    }

    pub fn database_url(&self) -> String {
        match &self.pg_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.dir.path().join("bot.db").display()),
        }
    }

    /// The bot keeps its state in a fresh PostgreSQL schema (127.0.0.1:5432,
    /// database `test`) instead of a SQLite file.
    pub async fn use_postgres(&mut self) {
        use sqlx::Connection;
        let base = std::env::var("TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&base)
            .await
            .expect("PostgreSQL on 127.0.0.1:5432 (the test command starts it)");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut conn)
            .await
            .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        self.pg_url = Some(format!("{base}{sep}options=-csearch_path%3D{schema}"));
        self.pg_direct = self.pg_url.clone();
    }

    /// Like [`Self::use_postgres`], with the bot's connections going
    /// through `cut` (a proxy the test can cut); the test's own go straight.
    pub async fn use_postgres_through(&mut self, cut: &tcp_cut::TcpCut) {
        self.use_postgres().await;
        let direct = self.pg_url.clone().unwrap();
        let url = url::Url::parse(&direct).unwrap();
        let through = direct.replacen(
            &format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432)),
            &format!("127.0.0.1:{}", cut.port),
            1,
        );
        self.pg_url = Some(through);
        self.pg_direct = Some(direct);
    }

    pub fn standby_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.standby_port)
    }

    /// Starts a second instance on the same database (another port); it
    /// serves HTTP at once and leads only once the first is gone.
    pub async fn start_standby(&mut self) {
        let child = self.spawn_instance(self.standby_port, "standby.log");
        self.standby = Some(BotProcess {
            child,
            log_path: self.dir.path().join("standby.log"),
        });
        let health = format!("{}/healthz", self.standby_url());
        eventually(
            Duration::from_secs(30),
            "the standby's /healthz",
            || async {
                reqwest::get(&health)
                    .await
                    .is_ok_and(|r| r.status().is_success())
            },
        )
        .await;
    }

    /// SIGKILLs the first instance at once, whatever it is doing.
    pub async fn kill_bot(&mut self) {
        if let Some(mut bot) = self.bot.take() {
            let _ = bot.child.kill().await;
        }
    }

    /// Whether the instance at `url` says it leads (`aletheia_leader`).
    pub async fn leads(url: &str) -> bool {
        match reqwest::get(format!("{url}/metrics")).await {
            Ok(r) => r
                .text()
                .await
                .unwrap_or_default()
                .lines()
                .any(|l| l == "aletheia_leader 1"),
            Err(_) => false,
        }
    }

    pub fn bot_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// The config the bot runs with, pointing at this world.
    pub fn config_text(&self) -> String {
        self.config_text_for(self.http_port)
    }

    /// The config of an instance listening on `port`.
    pub fn config_text_for(&self, port: u16) -> String {
        let mut text = format!(
            r#"
[server]
listen = "127.0.0.1:{port}"
{server}

[leader]
lease = "{lease}"

[telegram]
api_url = "{tg}"
poll_timeout_secs = 1
{webhook}

[github]
owner = "{owner}"
repo = "{repo}"
api_url = "{gh}"
timeout = "5s"
poll_interval = "{poll}"
find_run_within = "{find_run}"
[github.workflows.release]
file = "release.yml"
[github.workflows.deploy]
file = "deploy.yml"
[github.workflows.rollback]
file = "rollback.yml"

[aws]
region = "{region}"
endpoint_url = "{moto}"
confirm_within = "{confirm_within}"
confirm_interval = "100ms"

[incident]
remind_every = "{remind_every}"

[monitor]
interval = "{monitor_interval}"
grace = "1s"
health_failures = 2

[alerts]
backoff = "50ms"
max_backoff = "200ms"
max_attempts = {alert_attempts}
"#,
            port = port,
            server = self.server_toml,
            lease = self.leader_lease,
            webhook = if self.webhook_mode {
                "mode = \"webhook\"\nwebhook_url = \"https://bot.example.com/telegram/webhook\""
            } else {
                ""
            },
            tg = self.tg.url(),
            gh = self.gh.url(),
            poll = self.poll_interval,
            find_run = self.find_run_within,
            owner = github::OWNER,
            repo = github::REPO,
            region = moto::REGION,
            moto = self
                .ecs_endpoint
                .clone()
                .unwrap_or_else(|| moto::url().to_owned()),
            confirm_within = self.confirm_within,
            remind_every = self.remind_every,
            monitor_interval = self.monitor_interval,
            alert_attempts = self.alert_attempts,
        );
        for env in ["dev", "staging", "prod"] {
            text.push_str(&format!(
                "\n[environments.{env}]\ncluster = \"{}\"\nservice = \"aletheia-api\"\ncontainer = \"api\"\nhealth_url = \"{}\"\n",
                self.cluster(env),
                self.health.url_of(env)
            ));
        }
        if self.dev_auto_deploy {
            // (After dev's keys: the tables below start new sections.)
            text = text.replacen(
                "\n[environments.staging]",
                "auto_deploy = true\n\n[environments.staging]",
                1,
            );
        }
        text.push_str(&format!(
            "\n[environments.staging.approval]\napprovers = [\"qa\"]\napprovals = 1\nexpiry = \"{}\"\n",
            self.staging_expiry
        ));
        text.push_str(&format!(
            "\n[environments.prod.approval]\napprovers = [\"senior\"]\napprovals = {}\n\
             requires_verified_in = \"staging\"\nconfirm_tap = {}\nconfirm_window = \"30s\"\n\
             \n[environments.prod.rollback]\nrequesters = [\"senior\"]\nbreak_glass = {}\nlock_after = true\n",
            self.prod_approvals, self.prod_confirm_tap, self.prod_break_glass
        ));
        text.push_str(self.chats_toml.unwrap_or(
            r#"
[[chats]]
id = -1001000000001
name = "team"
alerts = ["release", "deployment", "rollback", "failure", "health", "approval"]

[[chats]]
id = -1001000000002
name = "oncall"
alerts = ["failure", "health"]
envs = ["prod"]
"#,
        ));
        text.push_str(self.users_toml.as_deref().unwrap_or(USERS_TOML));
        text
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        self.command_for(self.http_port, args)
    }

    fn command_for(&self, port: u16, args: &[&str]) -> tokio::process::Command {
        let path = if port == self.http_port {
            self.config_path()
        } else {
            self.dir.path().join(format!("bot-{port}.toml"))
        };
        std::fs::write(&path, self.config_text_for(port)).unwrap();
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_aletheia-bot"));
        cmd.arg("--config")
            .arg(&path)
            .args(args)
            .env_clear()
            .env("HOME", self.dir.path())
            .env(
                "RUST_LOG",
                self.log_filter.map(str::to_owned).unwrap_or_else(|| {
                    std::env::var("BOT_RUST_LOG")
                        .unwrap_or_else(|_| "info,aletheia_bot=debug".into())
                }),
            )
            .env("TELEGRAM_BOT_TOKEN", telegram::TOKEN)
            .env("GITHUB_TOKEN", github::TOKEN)
            .env("GITHUB_WEBHOOK_SECRET", github::WEBHOOK_SECRET)
            .env("TELEGRAM_WEBHOOK_SECRET", telegram::WEBHOOK_SECRET)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("DATABASE_URL", self.database_url());
        if let Some(token) = self.metrics_token {
            cmd.env("METRICS_TOKEN", token);
        }
        cmd
    }

    /// Runs a one-shot CLI command (`check`, `migrate`) to completion.
    pub async fn cli(&self, args: &[&str]) -> Output {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .await
            .unwrap()
    }

    /// Starts the bot and waits until it serves HTTP and polls Telegram.
    pub async fn start_bot(&mut self) {
        let child = self.spawn_instance(self.http_port, "bot.log");
        let log_path = self.dir.path().join("bot.log");
        self.bot = Some(BotProcess { child, log_path });
        let health = format!("{}/healthz", self.bot_url());
        eventually(Duration::from_secs(30), "the bot's /healthz", || async {
            reqwest::get(&health)
                .await
                .is_ok_and(|r| r.status().is_success())
        })
        .await;
        if self.webhook_mode {
            self.tg.wait_for_call("setWebhook").await;
        } else {
            self.tg.wait_for_call("getUpdates").await;
        }
    }

    fn spawn_instance(&self, port: u16, log_name: &str) -> tokio::process::Child {
        let log_path = self.dir.path().join(log_name);
        // Appended to: a restarted bot's log follows its predecessor's.
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .unwrap();
        self.command_for(port, &["run"])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    }

    /// Stops the bot (once it has taken every update so far) and starts
    /// it again on the same database.
    pub async fn restart_bot(&mut self) {
        self.tg.wait_until_confirmed().await;
        if let Some(mut bot) = self.bot.take() {
            let _ = bot.child.kill().await;
        }
        self.start_bot().await;
    }

    /// Stops the bot as an operator would (SIGTERM: it finishes what it is
    /// doing and exits), then starts it again on the same database.
    pub async fn restart_bot_gracefully(&mut self) {
        self.tg.wait_until_confirmed().await;
        if let Some(mut bot) = self.bot.take() {
            let pid = bot.child.id().expect("the bot runs").to_string();
            let status = std::process::Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap();
            assert!(status.success());
            let exit = tokio::time::timeout(Duration::from_secs(30), bot.child.wait())
                .await
                .expect("the bot stops within 30 s of SIGTERM")
                .unwrap();
            assert!(exit.success(), "the bot exits cleanly: {exit}");
        }
        self.start_bot().await;
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

    /// The running bot's process id.
    #[allow(dead_code)] // benches/e2e
    pub fn bot_pid(&self) -> Option<u32> {
        self.bot.as_ref().and_then(|b| b.child.id())
    }

    /// Everything the bot has logged so far.
    pub fn bot_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("bot.log")).unwrap_or_default()
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

struct BotProcess {
    child: tokio::process::Child,
    log_path: PathBuf,
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        if std::thread::panicking() || std::env::var_os("SHOW_BOT_LOG").is_some() {
            let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
            eprintln!("----- bot log -----\n{log}\n-------------------");
        }
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
pub async fn world_with_release() -> World {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.start_bot().await;
    world
}
