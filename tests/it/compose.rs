//! `examples/compose.yaml`, the highly available arrangement in one file,
//! checked without Docker: its services and what they share, its secrets,
//! its proxy's routes, its bot.toml (through the real `aletheia-bot
//! check`), and then the arrangement itself run here: two instances with
//! the file's environment and configuration behind a proxy doing what its
//! Caddyfile says, one of them stopped midway.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use aletheia_bot::config::{Config, Secrets, TELEGRAM_WEBHOOK_PATH, UpdateMode};

use crate::support::caddy::{self, Proxy, Site};
use crate::support::compose::{Compose, examples_dir, interpolate, variables_in};
use crate::support::github::{post_signed_webhook, workflow_run_event};
use crate::support::*;

/// Where the image reads its configuration (the Dockerfile's
/// `ALETHEIA_CONFIG`), and the proxy its Caddyfile.
const CONFIG_IN_CONTAINER: &str = "/etc/aletheia/bot.toml";
const CADDYFILE_IN_CONTAINER: &str = "/etc/caddy/Caddyfile";
const GITHUB_WEBHOOK_PATH: &str = "/github/webhook";

/// The services that run the bot: those built from the repository.
fn bot_services(compose: &Compose) -> Vec<String> {
    compose
        .services()
        .into_iter()
        .filter(|s| compose.service(s)["build"].as_str() == Some(".."))
        .collect()
}

/// What `examples/.env` would hold, every value distinct, as the test's
/// fakes know the secrets.
fn dot_env() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        ("POSTGRES_PASSWORD", "pg0password0from0env"),
        ("TELEGRAM_BOT_TOKEN", telegram::TOKEN),
        ("TELEGRAM_WEBHOOK_SECRET", telegram::WEBHOOK_SECRET),
        ("GITHUB_TOKEN", github::TOKEN),
        ("GITHUB_WEBHOOK_SECRET", github::WEBHOOK_SECRET),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing-secret"),
    ])
}

/// The bot.toml the bots mount, and its path here.
fn mounted_config(compose: &Compose, bot: &str) -> PathBuf {
    let mounts = compose.mounts(bot);
    mounts
        .get(CONFIG_IN_CONTAINER)
        .unwrap_or_else(|| panic!("{bot} mounts no file at {CONFIG_IN_CONTAINER}: {mounts:?}"))
        .clone()
}

/// The proxy's site for the bot's public address.
fn proxy_site(compose: &Compose, public: &url::Url) -> Site {
    let caddyfile = compose
        .mounts("proxy")
        .get(CADDYFILE_IN_CONTAINER)
        .cloned()
        .expect("the proxy mounts its Caddyfile");
    let sites = caddy::sites(&caddyfile);
    let host = public.host_str().unwrap();
    sites
        .into_iter()
        .find(|s| s.addresses.iter().any(|a| a == host))
        .unwrap_or_else(|| panic!("no site of the Caddyfile serves {host}"))
}

#[test]
fn compose_runs_two_bots_on_one_postgres_with_the_secrets_from_the_environment_only() {
    let compose = Compose::example();
    let services: BTreeSet<String> = compose.services().into_iter().collect();
    for service in ["postgres", "bot-a", "bot-b", "proxy"] {
        assert!(services.contains(service), "{service} in {services:?}");
    }
    let bots = bot_services(&compose);
    assert_eq!(bots, ["bot-a", "bot-b"]);

    // PostgreSQL, ready before the bots start.
    let postgres = compose.service("postgres");
    assert!(
        postgres["image"]
            .as_str()
            .is_some_and(|i| i.starts_with("postgres:16")),
        "{:?}",
        postgres["image"]
    );
    assert!(!postgres["healthcheck"]["test"].is_badvalue());

    // Both bots: one image, run as `run`, one configuration, one database,
    // one set of secrets, healthy by the bot's own check.
    let vars = dot_env();
    let first = &bots[0];
    for bot in &bots {
        let service = compose.service(bot);
        assert_eq!(service["command"][0].as_str(), Some("run"), "{bot}");
        assert_eq!(service["command"].as_vec().map(Vec::len), Some(1), "{bot}");
        assert_eq!(
            service["depends_on"]["postgres"]["condition"].as_str(),
            Some("service_healthy"),
            "{bot}"
        );
        let check: Vec<&str> = service["healthcheck"]["test"]
            .as_vec()
            .expect("a healthcheck")
            .iter()
            .filter_map(|t| t.as_str())
            .collect();
        assert_eq!(check, ["CMD", "aletheia-bot", "healthcheck"], "{bot}");
        assert_eq!(service["image"], compose.service(first)["image"], "{bot}");
        assert_eq!(
            compose.raw_environment(bot),
            compose.raw_environment(first),
            "{bot}"
        );
        assert_eq!(compose.mounts(bot), compose.mounts(first), "{bot}");
        let env = compose.environment(bot, &vars);
        assert_eq!(
            env.get("ALETHEIA_CONFIG").map(String::as_str),
            Some(CONFIG_IN_CONTAINER),
            "{bot}: the configuration read is the one mounted"
        );
        assert!(mounted_config(&compose, bot).is_file(), "{bot}");
    }

    // The database: the postgres service, as its own environment sets it.
    let env = compose.environment(first, &vars);
    let pg = compose.environment("postgres", &vars);
    let url = url::Url::parse(&env["DATABASE_URL"]).expect("DATABASE_URL is a URL");
    assert_eq!(url.scheme(), "postgres");
    assert_eq!(url.host_str(), Some("postgres"));
    assert_eq!(url.port().unwrap_or(5432), 5432);
    assert_eq!(url.username(), pg["POSTGRES_USER"]);
    assert_eq!(url.password(), Some(pg["POSTGRES_PASSWORD"].as_str()));
    assert_eq!(url.path(), format!("/{}", pg["POSTGRES_DB"]));

    // Every secret the bot needs is there, as the bot reads them; webhook
    // mode needs Telegram's secret token too.
    let secrets = Secrets::from_lookup(|name| env.get(name).cloned())
        .unwrap_or_else(|e| panic!("the bots' environment: {e}"));
    assert!(secrets.telegram_webhook_secret.is_some());

    // No secret is written in the file: each comes whole from the
    // environment (`${NAME:?…}`), and Compose refuses to start without it.
    for service in compose.services() {
        for (name, value) in compose.raw_environment(&service) {
            let secret = ["TOKEN", "SECRET", "PASSWORD", "KEY"]
                .iter()
                .any(|word| name.contains(word));
            if secret {
                assert_eq!(
                    variables_in(&value),
                    [name.as_str()],
                    "{service}: {name} must come from the environment"
                );
                assert!(
                    value.starts_with(&format!("${{{name}:?")) && value.ends_with('}'),
                    "{service}: {name} = {value:?}: all of it, required"
                );
            }
            if name == "DATABASE_URL" {
                let mut without = vars.clone();
                without.remove("POSTGRES_PASSWORD");
                assert!(
                    interpolate(&value, &without).is_err(),
                    "{service}: DATABASE_URL's password comes from the environment"
                );
            }
        }
    }

    // What Compose requires, examples/env.example lists (the README's
    // first step copies it).
    let text = std::fs::read_to_string(examples_dir().join("compose.yaml")).unwrap();
    let example = std::fs::read_to_string(examples_dir().join("env.example")).unwrap();
    let listed: BTreeSet<&str> = example
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.trim(), v.trim())))
        .map(|(k, v)| {
            assert!(v.is_empty(), "env.example holds no value: {k}");
            k
        })
        .collect();
    for required in text.split("${").skip(1) {
        if let Some((name, _)) = required.split_once(":?") {
            assert!(listed.contains(name), "{name} missing from env.example");
        }
    }

    // Only the proxy is reachable from outside, on HTTPS's port.
    for service in compose.services() {
        let ports = compose.published_ports(&service);
        if service == "proxy" {
            assert!(
                ports.iter().any(|p| p.ends_with(":443")),
                "proxy publishes 443: {ports:?}"
            );
        } else {
            assert!(ports.is_empty(), "{service} publishes {ports:?}");
        }
    }
}

#[tokio::test]
async fn the_mounted_bot_toml_passes_check_in_webhook_mode() {
    let compose = Compose::example();
    let path = mounted_config(&compose, "bot-a");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_aletheia-bot"))
        .arg("--config")
        .arg(&path)
        .arg("check")
        .env_clear()
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("configuration is valid"));
    let config = Config::load(&path).unwrap();
    assert_eq!(config.telegram.mode, UpdateMode::Webhook);
    let public = config.telegram.webhook_url.expect("a public address");
    assert_eq!(public.scheme(), "https");
    assert_eq!(public.path(), TELEGRAM_WEBHOOK_PATH);
    assert_eq!(public.port(), None, "the proxy's 443");
}

#[test]
fn the_proxy_routes_both_webhooks_to_both_instances_on_the_port_they_listen_on() {
    let compose = Compose::example();
    let bots = bot_services(&compose);
    let config = Config::load(&mounted_config(&compose, &bots[0])).unwrap();
    let public = config.telegram.webhook_url.clone().unwrap();
    let site = proxy_site(&compose, &public);
    let port = config.server.listen.port();
    let instances: BTreeSet<String> = bots.iter().map(|b| format!("{b}:{port}")).collect();
    for path in [TELEGRAM_WEBHOOK_PATH, GITHUB_WEBHOOK_PATH] {
        let route = site
            .route(path)
            .unwrap_or_else(|| panic!("the proxy does not route {path}"));
        let upstreams: BTreeSet<String> = route.upstreams.iter().cloned().collect();
        assert_eq!(upstreams, instances, "{path}");
        assert_eq!(route.lb_policy, "round_robin", "{path}");
        assert!(
            route.try_duration > Duration::ZERO,
            "{path}: a request to a stopped instance goes to the other"
        );
        assert_eq!(route.health_uri.as_deref(), Some("/readyz"), "{path}");
    }
    // The rest stays inside: no /metrics, no health from outside.
    for path in ["/metrics", "/livez", "/readyz", "/"] {
        assert!(site.route(path).is_none(), "{path} is published");
    }
    assert_eq!(site.otherwise, Some(404));
}

#[tokio::test]
async fn two_instances_as_compose_runs_them_behind_its_proxy_handle_each_update_once_and_survive_one_stopping()
 {
    let compose = Compose::example();
    let bots = bot_services(&compose);
    let example_path = mounted_config(&compose, &bots[0]);
    let example: toml::Table = std::fs::read_to_string(&example_path)
        .unwrap()
        .parse()
        .unwrap();
    let config = Config::load(&example_path).unwrap();
    let public = config.telegram.webhook_url.clone().unwrap();

    let mut world = World::new().await;
    world.use_postgres().await;
    // (Started, each instance sets the webhook instead of polling.)
    world.webhook_mode = config.telegram.mode == UpdateMode::Webhook;
    world.seed().await;
    world.gh.add_release("v1.3.0");

    // The instances' environment is the file's, from the secrets this
    // world's fakes know; its database, the postgres service, is this
    // test's schema. (The configuration comes by --config, from the file
    // the bots mount; the log level as the test runs.)
    let vars = dot_env();
    let mut env = compose.environment(&bots[0], &vars);
    assert_eq!(env, compose.environment(&bots[1], &vars));
    let database = url::Url::parse(&env["DATABASE_URL"]).unwrap();
    assert_eq!(database.host_str(), Some("postgres"));
    env.insert("DATABASE_URL".into(), world.database_url());
    env.remove("ALETHEIA_CONFIG");
    env.remove("RUST_LOG");
    world.instance_env = Some(env);
    // How they serve, take updates and share the lead is the file's; the
    // rest points at the fakes.
    world.config_overlay = Some(
        ["server", "telegram", "leader"]
            .into_iter()
            .map(|t| (t.to_owned(), example[t].clone()))
            .collect(),
    );

    // The proxy, reaching `bot-a:8080` and `bot-b:8080` where the two
    // instances listen here.
    let listen = config.server.listen.port();
    let ports = BTreeMap::from([
        (format!("{}:{listen}", bots[0]), world.http_port),
        (format!("{}:{listen}", bots[1]), world.standby_port),
    ]);
    let proxy = Proxy::start(proxy_site(&compose, &public), |upstream| {
        let port = ports
            .get(upstream)
            .unwrap_or_else(|| panic!("the proxy routes to {upstream}, which no instance is"));
        format!("127.0.0.1:{port}")
    });
    world.start_bot().await;
    world.start_standby().await;
    let (a, b) = (world.bot_url(), world.standby_url());
    eventually(Duration::from_secs(10), "the first instance leads", || {
        World::leads(&a)
    })
    .await;
    assert!(!World::leads(&b).await);

    // Telegram is told the public address, and posts there: the proxy.
    assert_eq!(world.tg.webhook().unwrap().0, public.as_str());
    world.tg.post_updates_to(vec![proxy.url.clone()]);

    // A deploy asked for and started, each message once.
    let texts = world
        .say_and_read(TEAM_CHAT, &BOB, "/deploy dev 1.3.0", 2)
        .await;
    assert!(
        texts[0].starts_with("🚀 #1 Deploy 1.3.0 → dev: no approval needed."),
        "{texts:?}"
    );
    assert!(
        texts[1].starts_with("🚀 <b>dev</b> · deploy of <b>1.3.0</b> started (#1)"),
        "{texts:?}"
    );
    assert_eq!(world.gh.dispatches().len(), 1);

    // GitHub tells the run's end through the proxy, twice (a
    // redelivery): one outcome.
    world.roll_out("dev", "1.3.0").await;
    let run = world.gh.set_run(9001, "completed", Some("success"));
    let event = workflow_run_event("completed", &run);
    for _ in 0..2 {
        let response = post_signed_webhook(&proxy.url, "workflow_run", "w-1", &event).await;
        assert!(response.status().is_success(), "{}", response.status());
    }
    world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("✅ <b>dev</b>"))
        .await;
    {
        let answered = proxy.answered.lock().unwrap();
        assert!(
            ports
                .keys()
                .all(|u| answered.get(u).copied().unwrap_or(0) > 0),
            "both instances answered through the proxy: {answered:?}"
        );
    }

    // The leader is stopped (`docker compose stop bot-a`). GitHub
    // redelivers at once, twice: each delivery reaches the other instance
    // and changes nothing.
    world
        .until_outbox_sent("the outbox drained", Duration::from_secs(10))
        .await;
    world.stop_bot_gracefully().await;
    for _ in 0..2 {
        let response = post_signed_webhook(&proxy.url, "workflow_run", "w-1", &event).await;
        assert!(response.status().is_success(), "{}", response.status());
    }

    // The next update is handled by the one left, which leads now: the
    // approval works and the deploy is dispatched once.
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    let tap = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:2:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await.0,
        "Approved. Dispatching the Deploy workflow."
    );
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("🚀 <b>staging</b> · deploy of")
        })
        .await;
    assert_eq!(world.gh.dispatches().len(), 2);
    assert!(World::leads(&b).await);
    world
        .until_outbox_sent("the outbox drained", Duration::from_secs(30))
        .await;
    world.assert_each_alert_sent_once(TEAM_CHAT).await;
}
