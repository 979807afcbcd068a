//! `[aws]` and `[environments.<env>]`: where each environment runs and
//! the approvals its deploys and rollbacks need.

use std::time::Duration;

use serde::Deserialize;

use crate::domain::{
    ApprovalGroup, Env, EnvPolicy, OperationKind, Role, RollbackRules, policy_for,
};

/// `[aws]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    /// Region of the ECS clusters, e.g. `eu-west-1`.
    pub region: String,
    /// Endpoint override (an emulator, a VPC endpoint). Default: AWS's own.
    #[serde(default)]
    pub endpoint_url: Option<url::Url>,
    /// After a deploy's or rollback's run succeeds: how long ECS (rollout
    /// COMPLETED, running = desired, image tag = version) and the health
    /// URL have to confirm it before the bot says "deployed but
    /// unhealthy". Default 10 min.
    #[serde(default = "default_confirm_within", with = "humantime_serde")]
    pub confirm_within: Duration,
    /// How often ECS and the health URL are asked meanwhile. Default 10 s.
    #[serde(default = "default_confirm_interval", with = "humantime_serde")]
    pub confirm_interval: Duration,
}

fn default_confirm_within() -> Duration {
    Duration::from_secs(600)
}

fn default_confirm_interval() -> Duration {
    Duration::from_secs(10)
}

/// `[environments.<name>]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    /// ECS cluster name or ARN of an environment of one service (else
    /// `services`).
    #[serde(default)]
    cluster: Option<String>,
    /// ECS service name or ARN of an environment of one service.
    #[serde(default)]
    service: Option<String>,
    /// The container whose image tag is the running version (one service).
    #[serde(default)]
    container: Option<String>,
    /// The environment's ECS services, each `{ cluster, service, container }`
    /// (instead of `cluster`, `service` and `container`, which are a list of
    /// one). The version runs when it runs on every one of them.
    #[serde(default)]
    services: Option<Vec<ServiceConfig>>,
    /// Optional URL probed for health (HTTP 2xx = healthy).
    #[serde(default)]
    pub health_url: Option<url::Url>,
    /// Who may give QA's verdict on a version running here. Default `["qa"]`.
    #[serde(default = "default_verifiers")]
    pub verifiers: Vec<Role>,
    /// Who may ask for a deploy here, by role. Default `["developer", "senior"]`.
    #[serde(default = "default_requesters")]
    pub requesters: Vec<Role>,
    /// The approval policy for deploys to this environment.
    #[serde(default)]
    pub approval: ApprovalPolicy,
    /// Rollbacks here: who, who approves, break-glass, the lock after.
    #[serde(default)]
    pub rollback: RollbackPolicy,
    /// The environment deploys itself (dev from `main`): its image tags may
    /// be anything (a commit SHA, `main-1a2b3c4`), a new task definition is
    /// announced as a deploy, not as one made around the bot, and Deploy
    /// runs naming such a tag are followed. Default false.
    #[serde(default)]
    pub auto_deploy: bool,
    /// The GitHub environment whose Actions secrets `/secrets` reads for
    /// this environment. Default: the environment's own name.
    #[serde(default)]
    pub github_environment: Option<String>,
}

/// One entry of `environments.<name>.services`: an ECS service whose
/// image tag is the running version.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// ECS cluster name or ARN.
    pub cluster: String,
    /// ECS service name or ARN.
    pub service: String,
    /// The container whose image tag is the running version.
    pub container: String,
}

impl ServiceConfig {
    /// How the bot names the service to people: its name, not its ARN.
    pub fn name(&self) -> &str {
        self.service.rsplit('/').next().unwrap_or(&self.service)
    }
}

/// `[environments.<name>.rollback]`: unset keys follow the deploy policy.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackPolicy {
    /// Who may ask for a rollback. Default: the deploy `requesters`.
    #[serde(default)]
    pub requesters: Option<Vec<Role>>,
    /// Who may approve one. Default: the deploy `approval.approvers`.
    #[serde(default)]
    pub approvers: Option<Vec<Role>>,
    /// How many approvals one needs. Default: the deploy `approval.approvals`.
    #[serde(default)]
    pub approvals: Option<u32>,
    /// Approval from several groups, as `approval.groups` (not with
    /// `approvers`/`approvals` here). Default: the deploy's groups, unless
    /// `approvers` or `approvals` is set here.
    #[serde(default)]
    pub groups: Option<Vec<ApprovalGroup>>,
    /// Break-glass: one of `approvers` may roll back at once, alone, with
    /// `--break-glass <reason>`; the team is told loudly. Default false.
    #[serde(default)]
    pub break_glass: bool,
    /// After a successful rollback the environment locks itself ("rolled
    /// back from X to Y") so nobody redeploys the bad version by reflex.
    /// Default false (set it for prod).
    #[serde(default)]
    pub lock_after: bool,
    /// When a deploy here ends failed after ECS changed, or unhealthy, the
    /// bot itself asks for the rollback to the last version confirmed
    /// healthy here before it, and says so loudly. The request needs the
    /// rollback's approvals as any other. Never for a rollback; at most
    /// one per deploy. Default false.
    #[serde(default)]
    pub auto: bool,
    /// An automatic rollback (`auto`) is dispatched at once, without
    /// approvals. Default false.
    #[serde(default)]
    pub auto_approve: bool,
}

impl EnvironmentConfig {
    /// The environment's ECS services (never empty once loaded).
    pub fn services(&self) -> &[ServiceConfig] {
        self.services.as_deref().unwrap_or_default()
    }

    /// The first of the environment's services: the one whose task
    /// definitions the features that name one family (the artifact a
    /// deploy or rollback will run, the versions a bare `/rollback`
    /// offers, the rollback target in a diagnosis) read, and whose image
    /// is "what runs" where one version is said. The ECS rollback, the
    /// monitor, the diagnosis's events and the confirmation read each.
    pub fn first_service(&self) -> &ServiceConfig {
        self.services()
            .first()
            .expect("a loaded environment has a service")
    }

    /// What is wrong with how the services are given, as `(key, reason)`
    /// under `at` (`environments.<name>`).
    pub(super) fn service_issues(&self, at: &str) -> Vec<(String, String)> {
        let single = [
            ("cluster", &self.cluster),
            ("service", &self.service),
            ("container", &self.container),
        ];
        let given = single.iter().filter(|(_, v)| v.is_some()).count();
        let mut issues = Vec::new();
        let listed = self.services();
        if given > 0 && self.services.is_some() {
            issues.push((
                format!("{at}.services"),
                "give either services or cluster, service and container, not both".to_owned(),
            ));
        } else if given > 0 && given < single.len() {
            for (key, _) in single.iter().filter(|(_, v)| v.is_none()) {
                issues.push((
                    format!("{at}.{key}"),
                    "missing: cluster, service and container go together (or list services)"
                        .to_owned(),
                ));
            }
        } else if given == 0 && listed.is_empty() {
            issues.push((
                format!("{at}.services"),
                "at least one service is needed (or cluster, service and container)".to_owned(),
            ));
        }
        for (i, s) in listed.iter().enumerate() {
            let earlier = &listed[..i];
            if earlier
                .iter()
                .any(|e| e.cluster == s.cluster && e.service == s.service)
            {
                issues.push((
                    format!("{at}.services[{i}]"),
                    format!(
                        "service {} of cluster {} is listed twice",
                        s.service, s.cluster
                    ),
                ));
            } else if earlier.iter().any(|e| e.name() == s.name()) {
                issues.push((
                    format!("{at}.services[{i}]"),
                    format!(
                        "another service is named {} too: the bot could not tell them apart",
                        s.name()
                    ),
                ));
            }
        }
        issues
    }

    /// The one-service keys become a list of one (after validation).
    pub(super) fn normalise(&mut self) {
        if let (Some(cluster), Some(service), Some(container)) = (
            self.cluster.take(),
            self.service.take(),
            self.container.take(),
        ) {
            self.services = Some(vec![ServiceConfig {
                cluster,
                service,
                container,
            }]);
        }
    }

    /// The GitHub environment of `env` (named `env` unless configured).
    pub fn github_environment_of<'a>(&'a self, env: &'a crate::domain::Env) -> &'a str {
        self.github_environment.as_deref().unwrap_or(env.as_str())
    }

    /// The rules a deploy follows here, as this section states them.
    pub fn deploy_policy(&self) -> EnvPolicy {
        let approval = &self.approval;
        match approval.groups.as_deref() {
            Some(groups) if !groups.is_empty() => EnvPolicy {
                requesters: self.requesters.clone(),
                four_eyes: approval.four_eyes,
                requires_verified_in: approval.requires_verified_in.clone(),
                ..EnvPolicy::of_groups(groups.to_vec())
            },
            _ => EnvPolicy {
                requesters: self.requesters.clone(),
                approvers: approval.approvers.clone(),
                approvals: approval.approvals,
                four_eyes: approval.four_eyes,
                requires_verified_in: approval.requires_verified_in.clone(),
                groups: Vec::new(),
            },
        }
    }

    /// The rules an operation of `kind` is decided under here (the
    /// rollback section's fallbacks are `domain::policy_for`'s).
    pub fn policy(&self, kind: OperationKind) -> EnvPolicy {
        let rollback = RollbackRules {
            requesters: self.rollback.requesters.as_deref(),
            approvers: self.rollback.approvers.as_deref(),
            approvals: self.rollback.approvals,
            groups: self.rollback.groups.as_deref(),
        };
        policy_for(kind, &self.deploy_policy(), &rollback)
    }

    /// The rules a rollback follows here.
    pub fn rollback_policy(&self) -> EnvPolicy {
        self.policy(OperationKind::Rollback)
    }
}

fn default_verifiers() -> Vec<Role> {
    vec![Role::new("qa")]
}

pub(super) fn default_requesters() -> Vec<Role> {
    vec![Role::new("developer"), Role::new("senior")]
}

/// `[environments.<name>.approval]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalPolicy {
    /// Roles whose holders may approve. Default none.
    #[serde(default)]
    pub approvers: Vec<Role>,
    /// How many distinct approvals a request needs. Default 0 (none).
    #[serde(default)]
    pub approvals: u32,
    /// Approval from several groups instead of `approvers`/`approvals`:
    /// e.g. `[{ role = "qa", count = 1 }, { role = "senior", count = 1 }]`
    /// needs every group filled; one person's approval fills one group
    /// only. Default: unset.
    #[serde(default)]
    pub groups: Option<Vec<ApprovalGroup>>,
    /// The requester may not approve their own request. Default true.
    #[serde(default = "yes")]
    pub four_eyes: bool,
    /// A version must have deployed successfully and been QA-verified in
    /// this environment before it may come here (e.g. `"staging"` for prod).
    #[serde(default)]
    pub requires_verified_in: Option<Env>,
    /// How long an approval prompt stays open, e.g. `"30m"`. Default 30 min.
    #[serde(default = "default_expiry", with = "humantime_serde")]
    pub expiry: Duration,
    /// Fat-finger guard: Approve asks for a second tap on "Confirm deploy
    /// X → env" within `confirm_window`. Default false (set it for prod).
    #[serde(default)]
    pub confirm_tap: bool,
    /// How long the second tap may take, e.g. `"20s"`. Default 20 s.
    #[serde(default = "default_confirm_window", with = "humantime_serde")]
    pub confirm_window: Duration,
}

fn default_confirm_window() -> Duration {
    Duration::from_secs(20)
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        Self {
            approvers: Vec::new(),
            approvals: 0,
            groups: None,
            four_eyes: true,
            requires_verified_in: None,
            expiry: default_expiry(),
            confirm_tap: false,
            confirm_window: default_confirm_window(),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_expiry() -> Duration {
    Duration::from_secs(30 * 60)
}
