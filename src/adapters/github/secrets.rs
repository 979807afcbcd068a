//! The Actions secrets of the repository and of its environments: names
//! and dates only. GitHub's secrets endpoints never return a value, and
//! the bot asks for nothing else.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{GitHub, GithubError};

/// GitHub's largest page.
const PER_PAGE: usize = 100;

/// Pages read at most (10 000 secrets).
const MAX_PAGES: u32 = 100;

/// A secret as listed: its name and when it was last set.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SecretListed {
    pub name: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct Page {
    total_count: u64,
    secrets: Vec<SecretListed>,
}

impl GitHub {
    /// The repository's Actions secrets (needs "Secrets: read").
    pub async fn repository_secrets(&self) -> Result<Vec<SecretListed>, GithubError> {
        self.secrets_at(&self.route("/actions/secrets")).await
    }

    /// The Actions secrets of the GitHub environment `name` (needs
    /// "Environments: read"); `None` when the repository has no such
    /// environment.
    pub async fn environment_secrets(
        &self,
        name: &str,
    ) -> Result<Option<Vec<SecretListed>>, GithubError> {
        let route = self.route(&format!("/environments/{}/secrets", path_segment(name)));
        match self.secrets_at(&route).await {
            Ok(secrets) => Ok(Some(secrets)),
            Err(GithubError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every page of a secrets list, 100 a page.
    async fn secrets_at(&self, route: &str) -> Result<Vec<SecretListed>, GithubError> {
        let mut all = Vec::new();
        for page in 1..=MAX_PAGES {
            let url = format!("{route}?per_page={PER_PAGE}&page={page}");
            let got: Page = self.client.get(url, None::<&()>).await?;
            let n = got.secrets.len();
            all.extend(got.secrets);
            if n < PER_PAGE || all.len() as u64 >= got.total_count {
                return Ok(all);
            }
        }
        tracing::warn!(route, "secrets: stopped after {MAX_PAGES} pages");
        Ok(all)
    }
}

/// `name` as one segment of a URL's path (`/` and the rest escaped).
fn path_segment(name: &str) -> String {
    let mut url = url::Url::parse("http://x/").expect("static URL");
    url.path_segments_mut()
        .expect("a base URL")
        .pop_if_empty()
        .push(name);
    url.path().trim_start_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn environment_names_are_one_path_segment() {
        assert_eq!(super::path_segment("prod"), "prod");
        assert_eq!(
            super::path_segment("release/candidate"),
            "release%2Fcandidate"
        );
        assert_eq!(super::path_segment("eu west?#"), "eu%20west%3F%23");
    }
}
