//! The bot's processes in a [`World`]: its database, starting, stopping
//! and restarting it, a standby instance beside it, and its log.

use std::path::PathBuf;
use std::time::Duration;

use super::{World, eventually, tcp_cut};

impl World {
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

    /// Starts the standby straight on the database, while the first
    /// instance goes through the proxy of [`Self::use_postgres_through`].
    pub async fn start_standby_straight(&mut self) {
        let through = self.pg_url.clone();
        self.pg_url = self.pg_direct.clone();
        self.start_standby().await;
        self.pg_url = through;
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
        self.stop_bot_gracefully().await;
        self.start_bot().await;
    }

    /// Stops the first instance as an operator (or `docker compose stop`)
    /// would: SIGTERM, and it exits cleanly within 30 s.
    pub async fn stop_bot_gracefully(&mut self) {
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
    }

    /// Writes bot.toml as the world now says it; the running bot reads it
    /// again only when told to ([`Self::hang_up_bot`]).
    pub fn write_config(&self) {
        std::fs::write(self.config_path(), self.config_text()).unwrap();
    }

    /// Sends the running bot SIGHUP, as an operator reloading bot.toml.
    pub fn hang_up_bot(&self) {
        let pid = self.bot_pid().expect("the bot runs").to_string();
        let status = std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// The running bot's pidfile (`ALETHEIA_PIDFILE`).
    pub fn pidfile(&self) -> PathBuf {
        self.dir.path().join("bot.pid")
    }

    /// The running bot's process id.
    pub fn bot_pid(&self) -> Option<u32> {
        self.bot.as_ref().and_then(|b| b.child.id())
    }

    /// Everything the bot has logged so far.
    pub fn bot_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("bot.log")).unwrap_or_default()
    }
}

pub(super) struct BotProcess {
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
