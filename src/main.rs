//! The `aletheia-bot` command: `run`, `check`, `init`, `migrate`,
//! `healthcheck`, `reload`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use aletheia_bot::config::{Config, GithubAuth, LogFormat, Secrets};
use aletheia_bot::{check, init, run};
use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "aletheia-bot",
    version,
    about = "Telegram ChatOps bot for the release process"
)]
struct Cli {
    /// The configuration file.
    #[arg(
        long,
        global = true,
        default_value = "bot.toml",
        env = "ALETHEIA_CONFIG"
    )]
    config: PathBuf,
    /// The running bot's pidfile: `run` writes and locks it, `reload`
    /// signals the bot it names. None unless given.
    #[arg(long, global = true, env = "ALETHEIA_PIDFILE")]
    pidfile: Option<PathBuf>,
    #[command(subcommand)]
    command: Action,
}

#[derive(Subcommand)]
enum Action {
    /// Run the bot: Telegram long polling, the HTTP server, alert delivery.
    Run,
    /// Validate the configuration; with --online, probe Telegram, GitHub and ECS.
    Check {
        /// Also call getMe, read the repository and its workflows, and describe the ECS services.
        #[arg(long)]
        online: bool,
    },
    /// Write a commented bot.toml from the repository's workflows and the
    /// region's ECS services (never over an existing file).
    Init(Box<InitCli>),
    /// Apply the database migrations and exit.
    Migrate,
    /// Ask the running bot's `/livez` on `server.listen` (exit 0 when it
    /// answers 2xx): the container image's HEALTHCHECK, which needs no curl.
    Healthcheck,
    /// Make the running bot read the configuration again (SIGHUP to the
    /// process in --pidfile). The file is checked here first: an invalid
    /// one is told at once and not sent.
    Reload,
}

/// `init`'s arguments.
#[derive(clap::Args)]
struct InitCli {
    /// The repository whose workflows the bot dispatches: owner/name.
    #[arg(long)]
    repo: String,
    /// The AWS region of the ECS clusters, e.g. eu-west-1.
    #[arg(long)]
    region: String,
    /// The file to write.
    #[arg(long, default_value = "bot.toml")]
    output: PathBuf,
    /// GitHub's REST API (GitHub Enterprise Server: https://HOST/api/v3).
    #[arg(long, default_value = init::GITHUB_API)]
    api_url: url::Url,
    /// An ECS endpoint instead of AWS's own (a VPC endpoint, an emulator).
    #[arg(long)]
    endpoint_url: Option<url::Url>,
}

/// The log's filter when `RUST_LOG` sets none. `check` says everything in
/// its own lines on stdout: the clients' own warnings and errors (the AWS
/// SDK's, octocrab's) would only say each failure again, once per probe.
fn default_filter(action: &Action) -> &'static str {
    match action {
        Action::Check { .. } => "error,octocrab=off",
        _ => "warn,aletheia_bot=info",
    }
}

/// The log on stderr: as `log.format` says, filtered by `RUST_LOG` (else
/// by `default`). In JSON each line carries the fields of the spans it
/// was written in (the operation, the request).
fn init_tracing(default: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => log
            .with_target(false)
            .with_ansi(std::io::stderr().is_terminal())
            .init(),
        LogFormat::Json => log
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            .init(),
    }
}

/// One GET of `/livez` on the bot's own listening address (an unspecified
/// address such as `0.0.0.0` is asked on loopback), 3 s at most.
async fn healthcheck(listen: std::net::SocketAddr) -> anyhow::Result<()> {
    let host = match listen.ip() {
        ip if ip.is_unspecified() && ip.is_ipv6() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        ip => ip,
    };
    let url = format!(
        "http://{}/livez",
        std::net::SocketAddr::new(host, listen.port())
    );
    let response = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .build()?
        .get(&url)
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "{url} answered {}",
        response.status().as_u16()
    );
    println!("{url}: {}", response.status().as_u16());
    Ok(())
}

/// Runs `work` to completion on a new runtime; its error, if any, on stderr.
fn block_on(work: impl std::future::Future<Output = anyhow::Result<()>>) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(work) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = default_filter(&cli.command);
    if let Action::Init(given) = cli.command {
        init_tracing(filter, LogFormat::Text);
        // Before any bot.toml exists: GitHub's credentials only.
        let InitCli {
            repo,
            region,
            output,
            api_url,
            endpoint_url,
        } = *given;
        let args = init::InitArgs {
            repo,
            region,
            output,
            api_url,
            endpoint_url,
        };
        return block_on(async move {
            let auth = GithubAuth::from_env()?;
            Ok(init::init(&args, &auth).await?)
        });
    }
    let config = match Config::load(&cli.config) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("invalid configuration:\n  {e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(filter, config.log.format);
    block_on(async {
        match cli.command {
            Action::Run => {
                let secrets = Secrets::from_env()?;
                if let Some(note) = check::nobody_yet(&config) {
                    tracing::warn!("{note}");
                }
                run::run(config, secrets, cli.config.clone(), cli.pidfile.clone()).await
            }
            Action::Check { online } => {
                println!("{}: configuration is valid", cli.config.display());
                println!("{}", check::summary(&config));
                if let Some(note) = check::nobody_yet(&config) {
                    println!("{note}");
                }
                if online {
                    let secrets = Secrets::from_env()?;
                    if !check::online(&config, &secrets).await {
                        anyhow::bail!("some probes failed");
                    }
                }
                Ok(())
            }
            Action::Init(_) => unreachable!("init runs before the config is read"),
            Action::Healthcheck => healthcheck(config.server.listen).await,
            Action::Reload => {
                let pidfile = cli.pidfile.as_deref().context(
                    "no pidfile: give --pidfile (ALETHEIA_PIDFILE) as the bot runs with, \
                     or send SIGHUP to the bot's process",
                )?;
                let pid = aletheia_bot::reload::signal_running(pidfile)?;
                println!(
                    "{}",
                    aletheia_bot::messages::doctor::reload_sent(&cli.config, pid)
                );
                Ok(())
            }
            Action::Migrate => {
                let url = config.database_url();
                let store = aletheia_bot::store::Store::open(&url).await?;
                println!(
                    "{}: migrations applied",
                    aletheia_bot::store::redact_url(&url)
                );
                store.close().await;
                Ok(())
            }
        }
    })
}
