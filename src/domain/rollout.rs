//! What ECS shows of a service, and whether a rollout of a version is
//! done: the judgement the bot makes after a deploy's or rollback's run,
//! instead of taking the workflow's word for it.

use chrono::{DateTime, Utc};

/// One deployment of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentState {
    /// `PRIMARY` (the newest) or `ACTIVE` (still draining).
    pub status: String,
    pub task_definition: String,
    /// The image of the configured container, when found.
    pub image: Option<String>,
    /// `COMPLETED`, `IN_PROGRESS` or `FAILED`.
    pub rollout_state: Option<String>,
    pub rollout_reason: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub running: i32,
    pub desired: i32,
    pub failed_tasks: i32,
}

/// A service, as `/status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceState {
    pub status: String,
    pub running: i32,
    pub desired: i32,
    pub pending: i32,
    /// Newest first: the primary deployment, then the ones it replaces.
    pub deployments: Vec<DeploymentState>,
}

impl ServiceState {
    /// The primary deployment: what runs, or is being rolled out.
    pub fn primary(&self) -> Option<&DeploymentState> {
        self.deployments
            .iter()
            .find(|d| d.status == "PRIMARY")
            .or(self.deployments.first())
    }
}

/// Whether an image tag names a version (`v1.3.0` and `1.3.0` alike).
pub fn tag_is_version(tag: &str, version: &str) -> bool {
    tag.trim_start_matches('v') == version.trim_start_matches('v')
}

/// The tag of a container image reference: `repo:1.2.3` → `1.2.3`. A
/// digest-only reference (`repo@sha256:…`) or an untagged one has none.
pub fn image_tag(image: &str) -> Option<&str> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last_segment = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last_segment
        .rsplit_once(':')
        .map(|(_, tag)| tag)
        .filter(|t| !t.is_empty())
}

/// What ECS says about a rollout of a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    /// The version runs: every task of the service on it.
    Done {
        /// The task definition (`family:revision`) now running.
        task_definition: String,
        running: i32,
    },
    /// Not (yet) there, and why.
    Pending(String),
    /// ECS gave up on it (rollout FAILED, circuit breaker), and why.
    Failed(String),
}

/// `family:revision` of a task definition ARN.
pub fn short_task_definition(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Judges a service against the version that should run there.
pub fn judge_rollout(state: &ServiceState, version: &str) -> Rollout {
    let tag_of = |d: &DeploymentState| {
        d.image
            .as_deref()
            .and_then(image_tag)
            .map(str::to_owned)
            .unwrap_or_else(|| "an untagged image".into())
    };
    // A failed rollout of this version, whether still primary or already
    // rolled back by the circuit breaker.
    if let Some(failed) = state.deployments.iter().find(|d| {
        d.rollout_state.as_deref() == Some("FAILED") && tag_is_version(&tag_of(d), version)
    }) {
        let reason = failed
            .rollout_reason
            .clone()
            .unwrap_or_else(|| "no reason given".into());
        return Rollout::Failed(format!(
            "ECS rollout of {} FAILED: {reason}",
            short_task_definition(&failed.task_definition)
        ));
    }
    let Some(primary) = state.primary() else {
        return Rollout::Pending("ECS shows no deployment of the service".into());
    };
    let tag = tag_of(primary);
    if !tag_is_version(&tag, version) {
        return Rollout::Pending(format!(
            "ECS runs {tag} ({}), not {version}",
            short_task_definition(&primary.task_definition)
        ));
    }
    let rollout = primary.rollout_state.as_deref().unwrap_or("COMPLETED");
    if rollout != "COMPLETED" {
        return Rollout::Pending(format!(
            "ECS rollout {rollout}: {}/{} tasks running",
            primary.running, primary.desired
        ));
    }
    if primary.running < primary.desired || primary.desired == 0 {
        return Rollout::Pending(format!(
            "{}/{} tasks running",
            primary.running, primary.desired
        ));
    }
    let draining = state
        .deployments
        .iter()
        .filter(|d| d.status != "PRIMARY" && d.running > 0)
        .count();
    if draining > 0 {
        return Rollout::Pending(format!("{draining} older deployment(s) still draining"));
    }
    Rollout::Done {
        task_definition: short_task_definition(&primary.task_definition).to_owned(),
        running: primary.running,
    }
}

/// Judges an environment's services (each by its name, as ECS answered
/// or why it could not be read) against the version: done when done on
/// every one. With several, what holds it up names the service.
pub fn judge_services(services: &[(&str, Result<ServiceState, String>)], version: &str) -> Rollout {
    let judged: Vec<(&str, Rollout)> = services
        .iter()
        .map(|(name, state)| {
            let rollout = match state {
                Ok(state) => judge_rollout(state, version),
                Err(e) => Rollout::Pending(format!("ECS unreadable: {e}")),
            };
            (*name, rollout)
        })
        .collect();
    if let [(_, only)] = judged.as_slice() {
        return only.clone();
    }
    let named = |failed: bool| {
        judged
            .iter()
            .filter_map(|(name, r)| match r {
                Rollout::Failed(why) if failed => Some(format!("{name}: {why}")),
                Rollout::Pending(why) if !failed => Some(format!("{name}: {why}")),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let failed = named(true);
    if !failed.is_empty() {
        return Rollout::Failed(failed.join("; "));
    }
    let pending = named(false);
    if !pending.is_empty() {
        return Rollout::Pending(pending.join("; "));
    }
    let done: Vec<(&str, i32)> = judged
        .iter()
        .filter_map(|(_, r)| match r {
            Rollout::Done {
                task_definition,
                running,
            } => Some((task_definition.as_str(), *running)),
            _ => None,
        })
        .collect();
    Rollout::Done {
        task_definition: done
            .iter()
            .map(|(td, _)| *td)
            .collect::<Vec<_>>()
            .join(", "),
        running: done.iter().map(|(_, n)| n).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::{DeploymentState, ServiceState, image_tag, tag_is_version};
    use super::{Rollout, judge_rollout, judge_services};

    #[test]
    fn several_services_are_done_when_each_is_and_name_the_one_that_is_not() {
        let new = || {
            Ok(service(vec![deployment(
                "PRIMARY",
                7,
                "1.3.0",
                "COMPLETED",
                2,
            )]))
        };
        let old = Ok(service(vec![deployment(
            "PRIMARY",
            6,
            "1.2.3",
            "COMPLETED",
            2,
        )]));
        assert_eq!(
            judge_services(&[("api", new()), ("worker", new())], "1.3.0"),
            Rollout::Done {
                task_definition: "aletheia-api:7, aletheia-api:7".into(),
                running: 4
            }
        );
        assert_eq!(
            judge_services(&[("api", new()), ("worker", old)], "1.3.0"),
            Rollout::Pending("worker: ECS runs 1.2.3 (aletheia-api:6), not 1.3.0".into())
        );
        assert_eq!(
            judge_services(
                &[("api", new()), ("worker", Err("timed out".into()))],
                "1.3.0"
            ),
            Rollout::Pending("worker: ECS unreadable: timed out".into())
        );
        let failed = Ok(service(vec![deployment(
            "PRIMARY", 7, "1.3.0", "FAILED", 0,
        )]));
        let pending = Ok(service(vec![deployment(
            "PRIMARY",
            6,
            "1.2.3",
            "COMPLETED",
            2,
        )]));
        assert_eq!(
            judge_services(&[("api", pending), ("worker", failed)], "1.3.0"),
            Rollout::Failed(
                "worker: ECS rollout of aletheia-api:7 FAILED: tasks failed to start".into()
            )
        );
        // One service: told as before, without its name.
        assert_eq!(
            judge_services(&[("api", Err("timed out".into()))], "1.3.0"),
            Rollout::Pending("ECS unreadable: timed out".into())
        );
    }

    fn deployment(
        status: &str,
        revision: u32,
        tag: &str,
        rollout: &str,
        running: i32,
    ) -> DeploymentState {
        DeploymentState {
            status: status.into(),
            task_definition: format!(
                "arn:aws:ecs:eu-west-1:123456789012:task-definition/aletheia-api:{revision}"
            ),
            image: Some(format!("repo/aletheia:{tag}")),
            rollout_state: Some(rollout.into()),
            rollout_reason: Some("tasks failed to start".into()),
            created_at: None,
            running,
            desired: 2,
            failed_tasks: 0,
        }
    }

    fn service(deployments: Vec<DeploymentState>) -> ServiceState {
        ServiceState {
            status: "ACTIVE".into(),
            running: 2,
            desired: 2,
            pending: 0,
            deployments,
        }
    }

    #[test]
    fn a_completed_rollout_of_the_version_is_done() {
        let s = service(vec![deployment("PRIMARY", 7, "1.3.0", "COMPLETED", 2)]);
        assert_eq!(
            judge_rollout(&s, "1.3.0"),
            Rollout::Done {
                task_definition: "aletheia-api:7".into(),
                running: 2
            }
        );
        let v = service(vec![deployment("PRIMARY", 7, "v1.3.0", "COMPLETED", 2)]);
        assert!(matches!(judge_rollout(&v, "1.3.0"), Rollout::Done { .. }));
    }

    #[test]
    fn anything_short_of_it_is_pending_with_the_reason() {
        let old = service(vec![deployment("PRIMARY", 6, "1.2.3", "COMPLETED", 2)]);
        assert_eq!(
            judge_rollout(&old, "1.3.0"),
            Rollout::Pending("ECS runs 1.2.3 (aletheia-api:6), not 1.3.0".into())
        );
        let rolling = service(vec![
            deployment("PRIMARY", 7, "1.3.0", "IN_PROGRESS", 1),
            deployment("ACTIVE", 6, "1.2.3", "COMPLETED", 2),
        ]);
        assert_eq!(
            judge_rollout(&rolling, "1.3.0"),
            Rollout::Pending("ECS rollout IN_PROGRESS: 1/2 tasks running".into())
        );
        let draining = service(vec![
            deployment("PRIMARY", 7, "1.3.0", "COMPLETED", 2),
            deployment("ACTIVE", 6, "1.2.3", "COMPLETED", 1),
        ]);
        assert_eq!(
            judge_rollout(&draining, "1.3.0"),
            Rollout::Pending("1 older deployment(s) still draining".into())
        );
        let short = service(vec![deployment("PRIMARY", 7, "1.3.0", "COMPLETED", 1)]);
        assert_eq!(
            judge_rollout(&short, "1.3.0"),
            Rollout::Pending("1/2 tasks running".into())
        );
    }

    #[test]
    fn a_failed_rollout_fails_even_after_the_circuit_breaker_rolled_back() {
        let failed = service(vec![deployment("PRIMARY", 7, "1.3.0", "FAILED", 0)]);
        assert_eq!(
            judge_rollout(&failed, "1.3.0"),
            Rollout::Failed("ECS rollout of aletheia-api:7 FAILED: tasks failed to start".into())
        );
        let rolled_back = service(vec![
            deployment("PRIMARY", 6, "1.2.3", "IN_PROGRESS", 2),
            deployment("ACTIVE", 7, "1.3.0", "FAILED", 0),
        ]);
        assert!(matches!(
            judge_rollout(&rolled_back, "1.3.0"),
            Rollout::Failed(_)
        ));
    }

    #[test]
    fn tags_of_image_references() {
        let cases = [
            (
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/aletheia:1.2.3",
                Some("1.2.3"),
            ),
            ("ghcr.io/mindburn/aletheia:v1.2.2", Some("v1.2.2")),
            ("registry.local:5000/aletheia:1.0.0", Some("1.0.0")),
            ("registry.local:5000/aletheia", None),
            ("aletheia", None),
            ("aletheia@sha256:abcdef", None),
            ("aletheia:1.2.3@sha256:abcdef", Some("1.2.3")),
        ];
        for (image, tag) in cases {
            assert_eq!(image_tag(image), tag, "{image}");
        }
    }

    #[test]
    fn a_tag_names_a_version_with_or_without_its_v() {
        assert!(tag_is_version("v1.3.0", "1.3.0"));
        assert!(tag_is_version("1.3.0", "v1.3.0"));
        assert!(!tag_is_version("1.3.0", "1.3.1"));
    }
}
