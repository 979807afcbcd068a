//! A job's log. GitHub answers `GET /actions/jobs/{id}/logs` with a
//! redirect to a short-lived signed address of its log storage, another
//! host: the client follows it (octocrab's `follow-redirect`), leaving
//! the token behind as for any redirect to another origin (the storage
//! refuses a second credential, and has no business seeing ours).

use super::{GitHub, GithubError, readable};

impl GitHub {
    /// The plain-text log of one job.
    pub async fn job_log(&self, job_id: u64) -> Result<String, GithubError> {
        let response = self
            .client
            ._get(self.route(&format!("/actions/jobs/{job_id}/logs")))
            .await?;
        let status = response.status().as_u16();
        let text = self.client.body_to_string(response).await?;
        match status {
            200 => Ok(text),
            404 | 410 => Err(GithubError::NotFound),
            _ => Err(GithubError::Status {
                status,
                message: readable(
                    status,
                    &serde_json::from_str::<serde_json::Value>(&text)
                        .ok()
                        .and_then(|v| v["message"].as_str().map(str::to_owned))
                        .unwrap_or(text),
                ),
            }),
        }
    }
}
