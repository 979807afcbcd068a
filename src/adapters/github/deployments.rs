//! GitHub Deployments: the deployment that records an operation in its
//! environment, its statuses, and finding what an attempt cut short (a
//! timeout, a restart) already made, so that nothing is made twice.

use octocrab::models::repos::DeploymentStatusState;

use super::{GitHub, GithubError};
use crate::domain::DeploymentStatus;

/// The payload key naming the operation a deployment records.
const OPERATION_KEY: &str = "aletheia_operation";

/// A deployment to create.
#[derive(Debug, Clone)]
pub struct NewDeployment<'a> {
    /// The refs to deploy, in order of preference (the release's tag as
    /// `v1.2.3`, then `1.2.3`): the first GitHub knows is taken.
    pub refs: &'a [String],
    pub environment: &'a str,
    pub description: &'a str,
    pub operation: i64,
}

/// A status to post.
#[derive(Debug, Clone)]
pub struct NewStatus<'a> {
    pub status: DeploymentStatus,
    pub description: &'a str,
    pub log_url: Option<&'a str>,
    pub environment_url: Option<&'a str>,
}

fn state_of(status: DeploymentStatus) -> DeploymentStatusState {
    match status {
        DeploymentStatus::Queued => DeploymentStatusState::Queued,
        DeploymentStatus::InProgress => DeploymentStatusState::InProgress,
        DeploymentStatus::Success => DeploymentStatusState::Success,
        DeploymentStatus::Failure => DeploymentStatusState::Failure,
        DeploymentStatus::Inactive => DeploymentStatusState::Inactive,
    }
}

impl GitHub {
    /// Creates the deployment; returns its id. A ref GitHub does not know
    /// (422) gives way to the next; the last one's refusal is returned.
    pub async fn create_deployment(&self, new: &NewDeployment<'_>) -> Result<u64, GithubError> {
        let mut refused = GithubError::NotFound;
        for git_ref in new.refs {
            let created = self
                .client
                .repos(&self.owner, &self.repo)
                .deployments()
                .create(git_ref.clone())
                .environment(new.environment)
                .description(new.description)
                .auto_merge(false)
                .required_contexts(Vec::<String>::new())
                .payload(serde_json::json!({ OPERATION_KEY: new.operation }))
                .transient_environment(false)
                .send()
                .await;
            match created.map_err(GithubError::from) {
                Ok(deployment) => return Ok(deployment.id.into_inner()),
                Err(e @ GithubError::Status { status: 422, .. }) => refused = e,
                Err(e) => return Err(e),
            }
        }
        Err(refused)
    }

    /// The deployment made for `operation` in `environment`, if one was
    /// (among the newest 100 there).
    pub async fn find_deployment(
        &self,
        environment: &str,
        operation: i64,
    ) -> Result<Option<u64>, GithubError> {
        let page = self
            .client
            .repos(&self.owner, &self.repo)
            .deployments()
            .list()
            .environment(environment)
            .per_page(100u8)
            .send()
            .await?;
        Ok(page
            .items
            .into_iter()
            .find(|d| d.payload[OPERATION_KEY] == operation)
            .map(|d| d.id.into_inner()))
    }

    /// Posts a status. GitHub's own marking of earlier deployments
    /// inactive (`auto_inactive`) is off: it spares production
    /// environments, and the bot marks the one a success replaces itself.
    pub async fn post_deployment_status(
        &self,
        deployment: u64,
        new: &NewStatus<'_>,
    ) -> Result<(), GithubError> {
        let repo = self.client.repos(&self.owner, &self.repo);
        let deployments = repo.deployments();
        let mut request = deployments
            .statuses(deployment)
            .create(state_of(new.status))
            .description(new.description)
            .auto_inactive(false);
        if let Some(url) = new.log_url {
            request = request.log_url(url);
        }
        if let Some(url) = new.environment_url {
            request = request.environment_url(url);
        }
        request.send().await?;
        Ok(())
    }

    /// Whether the deployment has a status of this kind already (among
    /// its newest 100).
    pub async fn has_deployment_status(
        &self,
        deployment: u64,
        status: DeploymentStatus,
    ) -> Result<bool, GithubError> {
        let page = self
            .client
            .repos(&self.owner, &self.repo)
            .deployments()
            .statuses(deployment)
            .list()
            .per_page(100u8)
            .send()
            .await?;
        Ok(page.items.iter().any(|s| s.state == state_of(status)))
    }
}
