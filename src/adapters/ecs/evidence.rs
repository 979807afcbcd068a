//! What ECS can say about a failure: the service's latest events and the
//! tasks of its last deployment that stopped, with why. Their texts go
//! to the team's chats: the ARNs in them (an unhealthy target's target
//! group, a task's role) are cut to their resource, without the account.

use aws_sdk_ecs::types::DesiredStatus;

use super::{Ecs, EcsError, api_error};
use crate::config::ServiceConfig;

/// How many stopped tasks are described at most: one page of
/// `ListTasks`, as many as one `DescribeTasks` takes (ECS keeps stopped
/// tasks about an hour; they are sorted newest first once described).
const STOPPED_SCAN: usize = 100;

/// A task that stopped, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoppedTask {
    /// `TaskFailedToStart`, `EssentialContainerExited`, …
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub containers: Vec<StoppedContainer>,
    /// When it stopped (seconds since the epoch), newest first.
    pub stopped_at: Option<i64>,
}

/// One container of a stopped task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoppedContainer {
    pub name: String,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
    /// The container's hard memory limit (MiB), where the task sets one.
    pub memory_mib: Option<i32>,
}

impl Ecs {
    /// The service's newest events (ECS keeps the last 100), newest first,
    /// at most `n`.
    pub async fn service_events(
        &self,
        env: &ServiceConfig,
        n: usize,
    ) -> Result<Vec<String>, EcsError> {
        let service = self.describe_service(env).await?;
        let mut events: Vec<_> = service.events().to_vec();
        events.sort_by_key(|e| std::cmp::Reverse(e.created_at().map(|t| t.secs())));
        Ok(events
            .iter()
            .filter_map(|e| e.message().map(without_arns))
            .take(n)
            .collect())
    }

    /// The stopped tasks of any of `task_definitions` (the service's
    /// deployments', of one family) in the environment's cluster, newest
    /// first.
    pub async fn stopped_tasks(
        &self,
        env: &ServiceConfig,
        task_definitions: &[String],
    ) -> Result<Vec<StoppedTask>, EcsError> {
        let Some(first) = task_definitions.first() else {
            return Ok(Vec::new());
        };
        let family = super::family_revision(first).map_or(first.as_str(), |(family, _)| family);
        let listed = self
            .client
            .list_tasks()
            .cluster(&env.cluster)
            .family(family)
            .desired_status(DesiredStatus::Stopped)
            .send()
            .await
            .map_err(api_error("ecs:ListTasks"))?;
        let arns: Vec<String> = listed
            .task_arns()
            .iter()
            .take(STOPPED_SCAN)
            .cloned()
            .collect();
        if arns.is_empty() {
            return Ok(Vec::new());
        }
        let described = self
            .client
            .describe_tasks()
            .cluster(&env.cluster)
            .set_tasks(Some(arns))
            .send()
            .await
            .map_err(api_error("ecs:DescribeTasks"))?;
        let mut tasks: Vec<StoppedTask> = described
            .tasks()
            .iter()
            .filter(|t| {
                t.task_definition_arn()
                    .is_some_and(|arn| task_definitions.iter().any(|td| same_revision(arn, td)))
            })
            .map(|t| StoppedTask {
                stop_code: t.stop_code().map(|c| c.as_str().to_owned()),
                stopped_reason: t.stopped_reason().map(without_arns),
                stopped_at: t.stopped_at().map(|at| at.secs()),
                containers: t
                    .containers()
                    .iter()
                    .map(|c| StoppedContainer {
                        name: c.name().unwrap_or_default().to_owned(),
                        exit_code: c.exit_code(),
                        reason: c.reason().map(without_arns),
                        memory_mib: c.memory().and_then(|m| m.parse().ok()),
                    })
                    .collect(),
            })
            .collect();
        tasks.sort_by_key(|t| std::cmp::Reverse(t.stopped_at));
        Ok(tasks)
    }
}

/// Whether two names of a task definition (ARN or `family:revision`) are
/// the same revision.
fn same_revision(a: &str, b: &str) -> bool {
    super::family_revision(a).is_some() && super::family_revision(a) == super::family_revision(b)
}

/// `text` with each ARN cut to its resource (`targetgroup/api/73e2…`):
/// an ARN names the account, which the chats do not need to read.
fn without_arns(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("arn:") {
        out.push_str(&rest[..at]);
        let arn = &rest[at..];
        let end = arn
            .find(|c: char| c.is_whitespace() || "()[]{},;'\"".contains(c))
            .unwrap_or(arn.len());
        // arn:partition:service:region:account:resource
        match arn[..end].splitn(6, ':').nth(5) {
            Some(resource) if !resource.is_empty() => out.push_str(resource),
            _ => out.push('…'),
        }
        rest = &arn[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::without_arns;

    #[test]
    fn arns_are_cut_to_their_resource() {
        assert_eq!(
            without_arns(
                "(service api) (port 8080) is unhealthy in (target-group \
                 arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/api/73e2d6bc24d8a067) \
                 due to (reason Health checks failed)."
            ),
            "(service api) (port 8080) is unhealthy in (target-group targetgroup/api/73e2d6bc24d8a067) \
             due to (reason Health checks failed)."
        );
        assert_eq!(
            without_arns("role arn:aws:iam::123456789012:role/ecs-task, then arn:bad"),
            "role role/ecs-task, then …"
        );
        assert_eq!(
            without_arns("Essential container in task exited"),
            "Essential container in task exited"
        );
    }
}
