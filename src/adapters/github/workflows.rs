//! The repository's workflows, every page of them (what `init` reads to
//! find the release, deploy and rollback workflows).

use serde::Deserialize;

use super::{GitHub, GithubError, Workflow};

/// GitHub's largest page.
const PER_PAGE: usize = 100;

/// Pages read at most (10 000 workflows).
const MAX_PAGES: u32 = 100;

#[derive(Deserialize)]
struct Page {
    total_count: u64,
    workflows: Vec<Workflow>,
}

impl GitHub {
    /// Every workflow of the repository (needs "Actions: read"), in
    /// GitHub's order, 100 a page.
    pub async fn workflows(&self) -> Result<Vec<Workflow>, GithubError> {
        let route = self.route("/actions/workflows");
        let mut all = Vec::new();
        for page in 1..=MAX_PAGES {
            let url = format!("{route}?per_page={PER_PAGE}&page={page}");
            let got: Page = self.client.get(url, None::<&()>).await?;
            let n = got.workflows.len();
            all.extend(got.workflows);
            if n < PER_PAGE || all.len() as u64 >= got.total_count {
                return Ok(all);
            }
        }
        tracing::warn!("workflows: stopped after {MAX_PAGES} pages");
        Ok(all)
    }
}
