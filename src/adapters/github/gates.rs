//! Environments' required reviewers: the deployments a run waits on
//! (`GET …/actions/runs/{id}/pending_deployments`) and the bot's review
//! of one (`POST` to the same path).

use serde::{Deserialize, Serialize};

use super::{GitHub, GithubError};

/// An environment a run waits on.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PendingDeployment {
    pub environment: PendingEnvironment,
    /// Whether the bot's own GitHub identity is one of its reviewers.
    #[serde(default)]
    pub current_user_can_approve: bool,
}

/// GitHub's environment: its numeric id and its name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PendingEnvironment {
    pub id: u64,
    pub name: String,
}

#[derive(Serialize)]
struct Review<'a> {
    environment_ids: [u64; 1],
    state: &'static str,
    comment: &'a str,
}

impl GitHub {
    /// The environments the run waits on for a review.
    pub async fn pending_deployments(
        &self,
        run_id: u64,
    ) -> Result<Vec<PendingDeployment>, GithubError> {
        Ok(self
            .client
            .get(
                self.route(&format!("/actions/runs/{run_id}/pending_deployments")),
                None::<&()>,
            )
            .await?)
    }

    /// Approves or rejects the run's deployment to one environment, with
    /// a comment (GitHub requires one).
    pub async fn review_pending_deployment(
        &self,
        run_id: u64,
        environment: u64,
        approve: bool,
        comment: &str,
    ) -> Result<(), GithubError> {
        let review = Review {
            environment_ids: [environment],
            state: if approve { "approved" } else { "rejected" },
            comment,
        };
        let _: serde_json::Value = self
            .client
            .post(
                self.route(&format!("/actions/runs/{run_id}/pending_deployments")),
                Some(&review),
            )
            .await?;
        Ok(())
    }
}
