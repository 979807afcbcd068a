//! The release notes GitHub would write for a new tag
//! (`POST /releases/generate-notes`): markdown, nothing created.

use serde::{Deserialize, Serialize};

use super::{GitHub, GithubError};

/// GitHub's generated release notes: a title and a markdown body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReleaseNotes {
    pub name: String,
    pub body: String,
}

#[derive(Serialize)]
struct Request<'a> {
    tag_name: &'a str,
    target_commitish: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_tag_name: Option<&'a str>,
}

impl GitHub {
    /// The notes of a release tagged `tag` from the configured branch,
    /// covering what changed since `previous` (GitHub picks the previous
    /// release itself when none is given).
    pub async fn generate_notes(
        &self,
        tag: &str,
        previous: Option<&str>,
    ) -> Result<ReleaseNotes, GithubError> {
        let request = Request {
            tag_name: tag,
            target_commitish: &self.git_ref,
            previous_tag_name: previous,
        };
        Ok(self
            .client
            .post(self.route("/releases/generate-notes"), Some(&request))
            .await?)
    }

    /// The web page comparing two tags.
    pub fn compare_url(&self, base: &str, head: &str) -> String {
        format!("{}/compare/{base}...{head}", self.html_url())
    }
}
