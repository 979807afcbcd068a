//! A job's log. GitHub answers `GET /actions/jobs/{id}/logs` with a
//! redirect to a short-lived signed address of its log storage; that
//! address is fetched without the token (the storage refuses a second
//! credential, and has no business seeing ours).

use super::{GitHub, GithubError, one_line, readable};

/// How large a log is read at most: its tail is what is shown, and a long
/// job's log runs to megabytes.
const MAX_LOG_BYTES: usize = 4 * 1024 * 1024;

impl GitHub {
    /// The plain-text log of one job.
    pub async fn job_log(&self, job_id: u64) -> Result<String, GithubError> {
        let response = self
            .client
            ._get(self.route(&format!("/actions/jobs/{job_id}/logs")))
            .await?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        match (status, location) {
            (301 | 302 | 303 | 307 | 308, Some(location)) => self.stored_log(&location).await,
            (404 | 410, _) => Err(GithubError::NotFound),
            (200, _) => {
                let text = self.client.body_to_string(response).await?;
                Ok(text)
            }
            (status, _) => {
                let text = self.client.body_to_string(response).await?;
                Err(GithubError::Status {
                    status,
                    message: readable(
                        status,
                        &serde_json::from_str::<serde_json::Value>(&text)
                            .ok()
                            .and_then(|v| v["message"].as_str().map(str::to_owned))
                            .unwrap_or(text),
                    ),
                })
            }
        }
    }

    /// The log at the storage address GitHub redirected to.
    async fn stored_log(&self, location: &str) -> Result<String, GithubError> {
        let transport = |e: reqwest::Error| GithubError::Transport(one_line(&e));
        let response = self.plain.get(location).send().await.map_err(transport)?;
        let status = response.status().as_u16();
        if !response.status().is_success() {
            return Err(GithubError::Status {
                status,
                message: readable(status, ""),
            });
        }
        let bytes = response.bytes().await.map_err(transport)?;
        let from = bytes.len().saturating_sub(MAX_LOG_BYTES);
        Ok(String::from_utf8_lossy(&bytes[from..]).into_owned())
    }
}
