//! `aletheia-bot check`: the config's summary and, with `--online`, a probe
//! of every outside service the config names, each saying exactly what is
//! wrong.

use crate::adapters::ecs::{Ecs, image_tag};
use crate::adapters::github::GitHub;
use crate::adapters::telegram;
use crate::config::{Config, Secrets};

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
    config.users.is_empty().then_some(
        "no [[users]] yet: the bot answers only /whoami and /help until bot.toml lists people",
    )
}

fn report(ok: bool, what: &str, detail: &str) -> bool {
    println!("{} {what}: {detail}", if ok { "✅" } else { "❌" });
    ok
}

/// Probes Telegram, GitHub and ECS; prints a line per probe; true when all pass.
pub async fn online(config: &Config, secrets: &Secrets) -> bool {
    let mut all_ok = true;

    match telegram::build(&config.telegram, &secrets.telegram_token) {
        Ok(bot) => match telegram::username(&bot).await {
            Ok(name) => report(true, "Telegram", &format!("getMe answered: @{name}")),
            Err(e) => {
                all_ok = false;
                report(false, "Telegram", &format!("getMe failed: {e}"))
            }
        },
        Err(e) => {
            all_ok = false;
            report(false, "Telegram", &e)
        }
    };

    match GitHub::connect(&config.github, &secrets.github).await {
        Err(e) => all_ok &= report(false, "GitHub", &e.to_string()),
        Ok(github) => {
            match github.repository().await {
                Ok(repo) => report(true, "GitHub repository", &repo.full_name),
                Err(e) => {
                    all_ok = false;
                    report(
                        false,
                        "GitHub repository",
                        &format!("{}: {e}", github.full_name()),
                    )
                }
            };
            let workflows = &config.github.workflows;
            for (name, wf) in [
                ("release", &workflows.release),
                ("deploy", &workflows.deploy),
                ("rollback", &workflows.rollback),
            ] {
                let what = format!("GitHub workflow {name} ({})", wf.file);
                all_ok &= match github.workflow(&wf.file).await {
                    Ok(w) if w.state == "active" => report(true, &what, &w.name),
                    Ok(w) => report(false, &what, &format!("state is {} (not active)", w.state)),
                    Err(e) => report(false, &what, &e.to_string()),
                };
            }
        }
    }

    let ecs = Ecs::connect(&config.aws).await;
    for (env, cfg) in &config.environments {
        for svc in cfg.services() {
            let what = format!("ECS {env} ({}/{})", svc.cluster, svc.service);
            all_ok &= match ecs.service_state(svc).await {
                Err(e) => report(false, &what, &e.to_string()),
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
                        &format!(
                            "no container named {:?} in the task definition",
                            svc.container
                        ),
                    ),
                },
            };
        }
    }
    all_ok
}
