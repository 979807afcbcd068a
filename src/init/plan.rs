//! What `init` makes of what it read: which workflow is which, which ECS
//! service belongs to which environment, and which container's image tag
//! is the version. Pure: GitHub's and ECS's answers in, the plan out.

use crate::adapters::github::Workflow;
use crate::domain::Version;

use super::ecs::FoundService;

/// The bot's three workflows, in the order `bot.toml` lists them.
pub const KINDS: [&str; 3] = ["release", "deploy", "rollback"];

/// The environments `init` recognises, in promotion order, each with the
/// words that name it in a service's or a cluster's name.
const ENVIRONMENTS: [(&str, &[&str]); 3] = [
    ("dev", &["dev", "develop", "development"]),
    ("staging", &["staging", "stage", "stg"]),
    ("prod", &["prod", "production", "prd", "live"]),
];

/// A workflow found for one of the bot's three.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundWorkflow {
    /// File name under `.github/workflows/`.
    pub file: String,
    pub name: String,
    /// GitHub's `state`: `active` unless someone disabled it.
    pub state: String,
}

/// One service of an environment, as `bot.toml` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedService {
    pub cluster: String,
    pub service: String,
    pub container: String,
    /// What the operator should look at (the container was a guess).
    pub note: Option<String>,
}

/// A service left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    pub cluster: String,
    pub service: String,
    pub why: String,
}

/// Everything `bot.toml` is written from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub owner: String,
    pub repo: String,
    /// The GitHub API base, when not GitHub's own.
    pub api_url: Option<String>,
    /// The repository's default branch.
    pub git_ref: String,
    pub region: String,
    pub endpoint_url: Option<String>,
    /// Per kind of [`KINDS`], the workflow found, if any.
    pub workflows: [Option<FoundWorkflow>; 3],
    /// The environments found, in promotion order, each with its services.
    pub environments: Vec<(&'static str, Vec<PlannedService>)>,
    pub left_out: Vec<LeftOut>,
}

/// The lowercase words of a name (`Deploy to ECS` → deploy, to, ecs).
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// The file name of a workflow under `.github/workflows/` (others, such
/// as GitHub's dynamic workflows, cannot be dispatched).
fn workflow_file(w: &Workflow) -> Option<&str> {
    let file = w.path.strip_prefix(".github/workflows/")?;
    (!file.contains('/') && (file.ends_with(".yml") || file.ends_with(".yaml"))).then_some(file)
}

/// The release, deploy and rollback workflows among `workflows`: a file
/// named after the kind (`deploy.yml`) first; else one whose file name or
/// name says the kind and no other (`deploy-ecs.yml`, "Deploy to ECS"),
/// an active one before a disabled one. Each workflow serves one kind.
pub fn recognise(workflows: &[Workflow]) -> [Option<FoundWorkflow>; 3] {
    let mut candidates: Vec<(&str, &Workflow)> = workflows
        .iter()
        .filter_map(|w| workflow_file(w).map(|f| (f, w)))
        .collect();
    // Stable: GitHub's order within each state.
    candidates.sort_by_key(|(_, w)| w.state != "active");
    let stem = |file: &str| {
        file.trim_end_matches(".yml")
            .trim_end_matches(".yaml")
            .to_ascii_lowercase()
    };
    let mut taken: Vec<&str> = Vec::new();
    let mut found: [Option<FoundWorkflow>; 3] = Default::default();
    let pick = |file: &str, w: &Workflow| FoundWorkflow {
        file: file.to_owned(),
        name: w.name.clone(),
        state: w.state.clone(),
    };
    for (i, kind) in KINDS.iter().enumerate() {
        if let Some((file, w)) = candidates.iter().find(|(f, _)| stem(f) == *kind) {
            taken.push(file);
            found[i] = Some(pick(file, w));
        }
    }
    for (i, kind) in KINDS.iter().enumerate() {
        if found[i].is_some() {
            continue;
        }
        let says_only = |text: &str| {
            let words = words(text);
            words.iter().any(|w| w == kind)
                && !KINDS
                    .iter()
                    .any(|other| other != kind && words.iter().any(|w| w == other))
        };
        if let Some((file, w)) = candidates
            .iter()
            .find(|(f, w)| !taken.contains(f) && (says_only(f) || says_only(&w.name)))
        {
            taken.push(file);
            found[i] = Some(pick(file, w));
        }
    }
    found
}

/// The environment a service belongs to: a word of its own name (`api-staging`)
/// first, else of its cluster's (`shop-prod`).
pub fn environment_of(service: &str, cluster: &str) -> Option<&'static str> {
    let of = |name: &str| {
        let words = words(name);
        ENVIRONMENTS
            .iter()
            .find(|(_, names)| words.iter().any(|w| names.contains(&w.as_str())))
            .map(|(env, _)| *env)
    };
    of(service).or_else(|| of(cluster))
}

/// The container whose image tag is the running version, and a note
/// when that was a guess.
fn container_of(found: &FoundService) -> Result<(String, Option<String>), String> {
    let versioned = |image: &Option<String>| {
        image
            .as_deref()
            .and_then(crate::domain::rollout::image_tag)
            .and_then(Version::from_tag)
            .is_some()
    };
    if let Some(c) = found.containers.iter().find(|c| versioned(&c.image)) {
        return Ok((c.name.clone(), None));
    }
    match found.containers.as_slice() {
        [] => Err("its task definition has no container".to_owned()),
        [only] => Ok((
            only.name.clone(),
            Some(format!(
                "the image of {} is not tagged with a version (like 1.2.3), which is how the bot tells what runs",
                only.name
            )),
        )),
        [first, ..] => Ok((
            first.name.clone(),
            Some(format!(
                "no container's image is tagged with a version (like 1.2.3): {} is a guess among {}",
                first.name,
                found
                    .containers
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        )),
    }
}

/// Groups the services into environments, in promotion order; the rest
/// are left out with the reason.
pub fn environments(
    services: &[FoundService],
) -> (Vec<(&'static str, Vec<PlannedService>)>, Vec<LeftOut>) {
    let mut envs: Vec<(&'static str, Vec<PlannedService>)> = ENVIRONMENTS
        .iter()
        .map(|(env, _)| (*env, Vec::new()))
        .collect();
    let mut left_out = Vec::new();
    for found in services {
        let leave = |why: String| LeftOut {
            cluster: found.cluster.clone(),
            service: found.service.clone(),
            why,
        };
        let Some(env) = environment_of(&found.service, &found.cluster) else {
            left_out.push(leave(
                "neither its name nor its cluster's says dev, staging or prod".to_owned(),
            ));
            continue;
        };
        match container_of(found) {
            Ok((container, note)) => {
                let slot = envs.iter_mut().find(|(e, _)| *e == env).expect("known");
                slot.1.push(PlannedService {
                    cluster: found.cluster.clone(),
                    service: found.service.clone(),
                    container,
                    note,
                });
            }
            Err(why) => left_out.push(leave(why)),
        }
    }
    envs.retain(|(_, services)| !services.is_empty());
    (envs, left_out)
}
