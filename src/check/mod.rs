//! `aletheia-bot check`: the config's summary and, with `--online`, a probe
//! of every outside service the config names, each saying exactly what is
//! wrong.

pub mod fault;

use teloxide::prelude::Requester;
use teloxide::{ApiError, RequestError};

use crate::adapters::ecs::{Ecs, EcsCause, image_tag};
use crate::adapters::github::{GitHub, GithubError};
use crate::adapters::telegram;
use crate::config::{Config, Secrets};
use crate::domain::fault::{Fault, GithubProbe};
use crate::messages::doctor;

/// One line about what the config holds.
pub fn summary(config: &Config) -> String {
    let envs: Vec<&str> = config.environments.keys().map(|e| e.as_str()).collect();
    format!(
        "environments: {}; chats: {}; users: {}; repository: {}/{}",
        envs.join(", "),
        config.chats.len(),
        config.users.len(),
        config.github.owner,
        config.github.repo
    )
}

/// What to say when `[[users]]` is empty (the config `init` writes, as
/// written): the bot then serves `/whoami` and `/help` only.
pub fn nobody_yet(config: &Config) -> Option<&'static str> {
    config
        .users
        .is_empty()
        .then_some(crate::messages::doctor::NOBODY_YET)
}

fn report(ok: bool, what: &str, detail: &str) -> bool {
    println!("{}", crate::messages::doctor::probe(ok, what, detail));
    ok
}

/// A failed probe: its one line on stdout, the error in full in the
/// log at debug.
fn failed(what: &str, fault: &Fault, error: &dyn std::fmt::Debug) -> bool {
    tracing::debug!(probe = what, error = ?error, "probe failed");
    report(false, what, &doctor::fault(fault))
}

/// Why the GitHub client could not be set up (a GitHub App finds its
/// installation on the repository as it is).
fn connect_fault(config: &Config, secrets: &Secrets, e: &GithubError) -> Fault {
    let gh = &config.github;
    let full_name = format!("{}/{}", gh.owner, gh.repo);
    fault::github(
        e,
        GithubProbe::Repository,
        &full_name,
        &gh.api_url,
        &secrets.github,
    )
}

/// The GitHub client `run` works with, or why there is none, in one line.
pub async fn github_at_start(config: &Config, secrets: &Secrets) -> anyhow::Result<GitHub> {
    GitHub::connect(&config.github, &secrets.github)
        .await
        .map_err(|e| {
            tracing::debug!(error = ?e, "setting up the GitHub client");
            anyhow::anyhow!(
                "GitHub: {}",
                doctor::fault(&connect_fault(config, secrets, &e))
            )
        })
}

/// What `run` makes sure of before it starts: that Telegram knows the
/// token and that AWS credentials are to be had at all. Anything else
/// (a service down for now) the bot waits out, as it would later.
pub async fn at_start(config: &Config, bot: &telegram::TgBot, ecs: &Ecs) -> anyhow::Result<()> {
    let telegram = async {
        // Bounded: a Telegram that does not answer is waited out later.
        match tokio::time::timeout(std::time::Duration::from_secs(10), bot.get_me()).await {
            Ok(Err(e @ RequestError::Api(ApiError::InvalidToken))) => {
                tracing::debug!(error = ?e, "getMe at start");
                Err(fault::telegram(&e, &config.telegram.api_url))
            }
            _ => Ok(()),
        }
    };
    let (telegram, aws) = tokio::join!(telegram, ecs.credentials());
    if let Err(fault) = telegram {
        anyhow::bail!("Telegram: {}", doctor::fault(&fault));
    }
    match aws {
        Err(EcsCause::NoCredentials) => {
            anyhow::bail!("ECS: {}", doctor::fault(&Fault::NoAwsCredentials))
        }
        Err(_) => tracing::warn!(
            "ECS: {}; every ECS call tries again",
            doctor::fault(&Fault::AwsCredentialsFailed)
        ),
        Ok(()) => {}
    }
    Ok(())
}

/// Probes Telegram, GitHub and ECS; prints a line per probe; true when all pass.
pub async fn online(config: &Config, secrets: &Secrets) -> bool {
    let mut all_ok = true;

    all_ok &= match telegram::build(&config.telegram, &secrets.telegram_token) {
        Ok(bot) => match telegram::username(&bot).await {
            Ok(name) => report(true, "Telegram", &format!("getMe answered: @{name}")),
            Err(e) => failed(
                "Telegram",
                &fault::telegram(&e, &config.telegram.api_url),
                &e,
            ),
        },
        Err(e) => report(false, "Telegram", &e),
    };

    all_ok &= github(config, secrets).await;

    let ecs = Ecs::connect(&config.aws).await;
    for (env, cfg) in &config.environments {
        for svc in cfg.services() {
            let what = format!("ECS {env} ({}/{})", svc.cluster, svc.service);
            all_ok &= match ecs.service_state(svc).await {
                Err(e) => failed(&what, &fault::ecs(&e, &svc.cluster, &config.aws), &e),
                Ok(state) => match state.primary().and_then(|d| d.image.clone()) {
                    Some(image) => report(
                        true,
                        &what,
                        &format!(
                            "container {} runs {}",
                            svc.container,
                            image_tag(&image).unwrap_or("an untagged image")
                        ),
                    ),
                    None => report(
                        false,
                        &what,
                        &doctor::fault(&Fault::NoContainer {
                            container: svc.container.clone(),
                        }),
                    ),
                },
            };
        }
    }
    all_ok
}

/// The repository, then (when it answers) each workflow: a repository
/// out of reach would only fail each workflow again the same way.
async fn github(config: &Config, secrets: &Secrets) -> bool {
    let gh = &config.github;
    let github = match GitHub::connect(gh, &secrets.github).await {
        Ok(github) => github,
        Err(e) => return failed("GitHub", &connect_fault(config, secrets, &e), &e),
    };
    let full_name = github.full_name();
    let probe =
        |e: &GithubError, probe| fault::github(e, probe, &full_name, &gh.api_url, &secrets.github);
    match github.repository().await {
        Ok(repo) => report(true, "GitHub repository", &repo.full_name),
        Err(e) => {
            return failed("GitHub repository", &probe(&e, GithubProbe::Repository), &e);
        }
    };
    let mut all_ok = true;
    for (name, wf) in [
        ("release", &gh.workflows.release),
        ("deploy", &gh.workflows.deploy),
        ("rollback", &gh.workflows.rollback),
    ] {
        let what = format!("GitHub workflow {name} ({})", wf.file);
        all_ok &= match github.workflow(&wf.file).await {
            Ok(w) if w.state == "active" => report(true, &what, &w.name),
            Ok(w) => report(
                false,
                &what,
                &doctor::fault(&Fault::WorkflowInactive { state: w.state }),
            ),
            Err(e) => failed(
                &what,
                &probe(&e, GithubProbe::Workflow { file: &wf.file }),
                &e,
            ),
        };
    }
    all_ok
}
