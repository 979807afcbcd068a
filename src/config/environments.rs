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
    /// ECS cluster name or ARN.
    pub cluster: String,
    /// ECS service name or ARN.
    pub service: String,
    /// The container whose image tag is the running version.
    pub container: String,
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
