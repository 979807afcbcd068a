//! The bot's configuration and command line in a [`World`]: `bot.toml`
//! pointing at the fakes, and the environment it runs with.

use std::path::PathBuf;
use std::process::{Output, Stdio};

use super::{USERS_TOML, World, github, moto, telegram};

impl World {
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("bot.toml")
    }

    pub fn database_url(&self) -> String {
        match &self.pg_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.dir.path().join("bot.db").display()),
        }
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
timeout = "{github_timeout}"
poll_interval = "{poll}"
find_run_within = "{find_run}"
{deployments}
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
ack_within = "{ack_within}"

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
            deployments = if self.github_deployments {
                "deployments = true\ndeployment_retry = \"100ms\""
            } else {
                ""
            },
            owner = github::OWNER,
            repo = github::REPO,
            region = moto::REGION,
            moto = self
                .ecs_endpoint
                .clone()
                .unwrap_or_else(|| moto::url().to_owned()),
            confirm_within = self.confirm_within,
            github_timeout = self.github_timeout,
            remind_every = self.remind_every,
            ack_within = self.ack_within,
            monitor_interval = self.monitor_interval,
            alert_attempts = self.alert_attempts,
        );
        for env in ["dev", "staging", "prod"] {
            text.push_str(&format!(
                "\n[environments.{env}]\n{}health_url = \"{}\"\n",
                self.services_toml(env),
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
        let prod_approval = self.prod_approval_toml.map_or_else(
            || {
                format!(
                    "approvers = [\"senior\"]\napprovals = {}\n",
                    self.prod_approvals
                )
            },
            str::to_owned,
        );
        text.push_str(&format!(
            "\n[environments.prod.approval]\n{prod_approval}\
             requires_verified_in = \"staging\"\nconfirm_tap = {}\nconfirm_window = \"30s\"\n\
             \n[environments.prod.rollback]\nrequesters = [\"senior\"]\nbreak_glass = {}\nlock_after = true\n{}",
            self.prod_confirm_tap, self.prod_break_glass, self.prod_rollback_toml
        ));
        text.push_str(self.release_toml);
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
        if self.users_toml.is_none() {
            // Bob, then Dave, are paged for a prod failure nobody took.
            text.push_str("\n[contacts]\ntechnical_lead = 100000002\ndevops = 100000004\n");
        }
        text.push_str(self.users_toml.as_deref().unwrap_or(USERS_TOML));
        text.push_str(self.security_toml);
        text.push_str(&self.freeze_toml);
        text.push_str(self.log_toml);
        match &self.config_overlay {
            Some(overlay) => overlaid(&text, overlay, port),
            None => text,
        }
    }

    pub(super) fn command(&self, args: &[&str]) -> tokio::process::Command {
        self.command_for(self.http_port, args)
    }

    pub(super) fn command_for(&self, port: u16, args: &[&str]) -> tokio::process::Command {
        let path = if port == self.http_port {
            self.config_path()
        } else {
            self.dir.path().join(format!("bot-{port}.toml"))
        };
        let text = match &self.config_toml {
            Some(given) if port == self.http_port => given.clone(),
            _ => self.config_text_for(port),
        };
        std::fs::write(&path, text).unwrap();
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
            .env("AWS_EC2_METADATA_DISABLED", "true");
        match &self.instance_env {
            Some(env) => {
                cmd.envs(env);
            }
            None => {
                cmd.env("TELEGRAM_BOT_TOKEN", telegram::TOKEN)
                    .env("GITHUB_TOKEN", github::TOKEN)
                    .env("GITHUB_WEBHOOK_SECRET", github::WEBHOOK_SECRET)
                    .env("TELEGRAM_WEBHOOK_SECRET", telegram::WEBHOOK_SECRET)
                    .env("AWS_ACCESS_KEY_ID", "testing")
                    .env("AWS_SECRET_ACCESS_KEY", "testing")
                    .env("DATABASE_URL", self.database_url());
            }
        }
        if port == self.http_port {
            // (The standby's is its own: two bots cannot hold one.)
            cmd.env("ALETHEIA_PIDFILE", self.pidfile());
        }
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

    /// Runs a one-shot CLI command with its config edited by `edit` and
    /// its environment changed: `(name, Some(value))` set, `(name, None)`
    /// taken away.
    pub async fn cli_with(
        &self,
        args: &[&str],
        edit: impl FnOnce(String) -> String,
        env: &[(&str, Option<&str>)],
    ) -> Output {
        let mut cmd = self.command(args);
        std::fs::write(self.config_path(), edit(self.config_text())).unwrap();
        for (name, value) in env {
            match value {
                Some(value) => cmd.env(name, value),
                None => cmd.env_remove(name),
            };
        }
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .output()
            .await
            .unwrap()
    }
}

/// `text` with the tables of `overlay` laid over its own, key by key, and
/// `server.listen` on 127.0.0.1 at `port` (an instance of a deployment
/// file run on this machine, beside the others).
fn overlaid(text: &str, overlay: &toml::Table, port: u16) -> String {
    let mut config: toml::Table = text.parse().expect("the world's config is TOML");
    for (section, keys) in overlay {
        let toml::Value::Table(keys) = keys else {
            panic!("overlay: {section} is not a table");
        };
        let into = config
            .entry(section.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .expect("a table");
        for (key, value) in keys {
            into.insert(key.clone(), value.clone());
        }
    }
    config
        .entry("server")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .unwrap()
        .insert("listen".into(), format!("127.0.0.1:{port}").into());
    toml::to_string(&config).unwrap()
}
