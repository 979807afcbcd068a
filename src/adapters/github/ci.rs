//! The CI verdict on the configured branch: check runs and commit statuses
//! read together and judged as one.

use serde::Deserialize;

use super::{GitHub, GithubError};

#[derive(Debug, Deserialize)]
struct CheckRuns {
    check_runs: Vec<CheckRun>,
}

#[derive(Debug, Deserialize)]
struct CheckRun {
    name: String,
    status: String,
    conclusion: Option<String>,
    head_sha: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CombinedStatus {
    sha: Option<String>,
    statuses: Vec<CommitStatus>,
}

#[derive(Debug, Deserialize)]
struct CommitStatus {
    context: String,
    state: String,
}

/// The CI verdict on the head of the configured branch: check runs and
/// commit statuses together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiState {
    pub sha: Option<String>,
    pub verdict: CiVerdict,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CiVerdict {
    /// Every check and status passed (`total` of them).
    Green { total: usize },
    /// Some are still running; none failed yet.
    Pending { names: Vec<String> },
    /// These failed.
    Failing { names: Vec<String> },
    /// No check run and no status at all on the head commit.
    NoChecks,
}

impl CiState {
    fn judge(runs: CheckRuns, combined: CombinedStatus) -> Self {
        let sha = runs
            .check_runs
            .iter()
            .find_map(|r| r.head_sha.clone())
            .or(combined.sha);
        let mut failing = Vec::new();
        let mut pending = Vec::new();
        let mut total = 0;
        for run in &runs.check_runs {
            total += 1;
            if run.status != "completed" {
                pending.push(run.name.clone());
                continue;
            }
            match run.conclusion.as_deref() {
                Some("success" | "neutral" | "skipped") => {}
                _ => failing.push(run.name.clone()),
            }
        }
        for status in &combined.statuses {
            total += 1;
            match status.state.as_str() {
                "success" => {}
                "pending" => pending.push(status.context.clone()),
                _ => failing.push(status.context.clone()),
            }
        }
        let verdict = if !failing.is_empty() {
            CiVerdict::Failing { names: failing }
        } else if !pending.is_empty() {
            CiVerdict::Pending { names: pending }
        } else if total == 0 {
            CiVerdict::NoChecks
        } else {
            CiVerdict::Green { total }
        };
        CiState { sha, verdict }
    }
}

impl GitHub {
    /// CI on the head of the configured branch: check runs and the
    /// combined commit status together.
    pub async fn ci_state(&self) -> Result<CiState, GithubError> {
        let git_ref = &self.git_ref;
        let runs_route = self.route(&format!("/commits/{git_ref}/check-runs?per_page=100"));
        let status_route = self.route(&format!("/commits/{git_ref}/status?per_page=100"));
        let (runs, combined) = tokio::try_join!(
            async { self.client.get::<CheckRuns, _, ()>(runs_route, None).await },
            async {
                self.client
                    .get::<CombinedStatus, _, ()>(status_route, None)
                    .await
            },
        )?;
        Ok(CiState::judge(runs, combined))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, status: &str, conclusion: Option<&str>) -> CheckRun {
        CheckRun {
            name: name.into(),
            status: status.into(),
            conclusion: conclusion.map(Into::into),
            head_sha: Some("abc".into()),
        }
    }

    fn judge(runs: Vec<CheckRun>, statuses: &[(&str, &str)]) -> CiVerdict {
        CiState::judge(
            CheckRuns { check_runs: runs },
            CombinedStatus {
                sha: None,
                statuses: statuses
                    .iter()
                    .map(|(c, s)| CommitStatus {
                        context: c.to_string(),
                        state: s.to_string(),
                    })
                    .collect(),
            },
        )
        .verdict
    }

    #[test]
    fn green_needs_every_check_passed() {
        let v = judge(
            vec![
                run("test", "completed", Some("success")),
                run("lint", "completed", Some("skipped")),
            ],
            &[("ci/deploy-preview", "success")],
        );
        assert_eq!(v, CiVerdict::Green { total: 3 });
    }

    #[test]
    fn a_failure_anywhere_is_failing_even_while_others_run() {
        let v = judge(
            vec![
                run("test", "in_progress", None),
                run("lint", "completed", Some("failure")),
            ],
            &[("legacy", "error")],
        );
        assert_eq!(
            v,
            CiVerdict::Failing {
                names: vec!["lint".into(), "legacy".into()]
            }
        );
        let v = judge(vec![run("test", "completed", Some("timed_out"))], &[]);
        assert_eq!(
            v,
            CiVerdict::Failing {
                names: vec!["test".into()]
            }
        );
    }

    #[test]
    fn running_checks_are_pending() {
        let v = judge(vec![run("test", "queued", None)], &[("legacy", "success")]);
        assert_eq!(
            v,
            CiVerdict::Pending {
                names: vec!["test".into()]
            }
        );
    }

    #[test]
    fn no_checks_is_not_green() {
        assert_eq!(judge(vec![], &[]), CiVerdict::NoChecks);
    }
}
