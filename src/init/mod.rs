//! `aletheia-bot init`: reads the repository's workflows and the region's
//! ECS clusters and services, and writes a commented `bot.toml` that
//! `check` accepts as written. Never overwrites a file.

mod ecs;
mod plan;
mod render;
#[cfg(test)]
mod tests;

use std::io::Write;
use std::path::PathBuf;

use crate::adapters::github::{GitHub, GithubError};
use crate::config::{GithubAuth, GithubConfig};

pub use plan::{KINDS, Plan, environment_of, recognise};
pub use render::render;

/// GitHub's own API, which `bot.toml` need not name.
pub const GITHUB_API: &str = "https://api.github.com";

/// What `init` is asked.
#[derive(Debug, Clone)]
pub struct InitArgs {
    /// `owner/name`.
    pub repo: String,
    pub region: String,
    /// The file to write; never overwritten.
    pub output: PathBuf,
    /// The GitHub API base (GitHub Enterprise Server: `https://HOST/api/v3`).
    pub api_url: url::Url,
    /// An ECS endpoint instead of AWS's own (a VPC endpoint, an emulator).
    pub endpoint_url: Option<url::Url>,
}

/// Why `init` wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("--repo {0:?} is not owner/name (like mindburn-labs/aletheia)")]
    NotARepository(String),
    #[error(
        "{} exists: init never overwrites a file (move it away, or write elsewhere with --output)",
        .0.display()
    )]
    Exists(PathBuf),
    #[error("GitHub: repository {0} not found, or the token cannot see it")]
    RepositoryNotFound(String),
    #[error("GitHub {what}: {source}")]
    Github {
        what: String,
        #[source]
        source: GithubError,
    },
    #[error("ECS {operation}: {message}")]
    Ecs {
        operation: &'static str,
        message: String,
    },
    #[error("{}: {source}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// `owner/name` → `(owner, name)`, as GitHub spells them.
fn owner_and_name(repo: &str) -> Result<(&str, &str), InitError> {
    let valid = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match repo.split_once('/') {
        Some((owner, name)) if valid(owner) && valid(name) => Ok((owner, name)),
        _ => Err(InitError::NotARepository(repo.to_owned())),
    }
}

/// Reads GitHub and ECS, writes the file, and prints what it found.
pub async fn init(args: &InitArgs, auth: &GithubAuth) -> Result<(), InitError> {
    let (owner, name) = owner_and_name(&args.repo)?;
    // Said before anything is asked of GitHub or AWS; the file is created
    // only if still absent at the end.
    if args.output.exists() {
        return Err(InitError::Exists(args.output.clone()));
    }
    let config = GithubConfig::repository(owner, name, args.api_url.clone());
    let full_name = format!("{owner}/{name}");
    let github_failed = |what: String| move |source| InitError::Github { what, source };
    let github = GitHub::connect(&config, auth)
        .await
        .map_err(github_failed("client".to_owned()))?;
    let repository = github.repository().await.map_err(|e| match e {
        GithubError::NotFound => InitError::RepositoryNotFound(full_name.clone()),
        other => github_failed(format!("repository {full_name}"))(other),
    })?;
    let workflows = github
        .workflows()
        .await
        .map_err(github_failed(format!("workflows of {full_name}")))?;
    let services = ecs::discover(&args.region, args.endpoint_url.as_ref()).await?;
    let (environments, left_out) = plan::environments(&services);
    let plan = Plan {
        owner: owner.to_owned(),
        repo: name.to_owned(),
        api_url: (args.api_url.as_str().trim_end_matches('/') != GITHUB_API)
            .then(|| args.api_url.as_str().trim_end_matches('/').to_owned()),
        git_ref: repository
            .default_branch
            .unwrap_or_else(|| "main".to_owned()),
        region: args.region.clone(),
        endpoint_url: args
            .endpoint_url
            .as_ref()
            .map(|u| u.as_str().trim_end_matches('/').to_owned()),
        workflows: recognise(&workflows),
        environments,
        left_out,
    };
    let text = render(&plan);
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&args.output)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(InitError::Exists(args.output.clone()));
        }
        Err(source) => {
            return Err(InitError::Write {
                path: args.output.clone(),
                source,
            });
        }
    };
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|source| InitError::Write {
            path: args.output.clone(),
            source,
        })?;
    print!("{}", crate::messages::init::summary(&plan, &args.output));
    Ok(())
}
