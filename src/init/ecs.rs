//! What `init` reads of ECS: every cluster, its services, and the
//! containers of each service's task definition.
//!
//! `init` runs with the operator's credentials, not the bot's: it lists
//! clusters and services, which the bot never does, so these calls are
//! kept here, apart from the bot's least-privilege policy
//! (`examples/iam-policy.json`). The README names what they need.

use aws_sdk_ecs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use super::InitError;
use crate::adapters::ecs::sdk_client;

/// How many services one `DescribeServices` call takes (ECS's limit).
const DESCRIBE_AT_ONCE: usize = 10;

/// Pages of one listing read at most (100 each: ECS's largest page).
const MAX_PAGES: usize = 100;

/// A container of a service's task definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub name: String,
    pub image: Option<String>,
}

/// An active ECS service, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundService {
    pub cluster: String,
    pub service: String,
    pub containers: Vec<Container>,
}

/// An ECS call that failed: the operation and what AWS said (on the
/// operator's own terminal: nothing is withheld).
fn failed<E, R>(operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> InitError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    move |e| InitError::Ecs {
        operation,
        message: match (e.code(), e.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_owned(),
            _ => DisplayErrorContext(&e).to_string(),
        },
    }
}

/// The last segment of an ARN (`…:cluster/shop-prod` → `shop-prod`), or
/// the name itself.
fn name_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Every active service of every cluster in the region, in the order ECS
/// lists them, with its containers.
pub async fn discover(
    region: &str,
    endpoint: Option<&url::Url>,
) -> Result<Vec<FoundService>, InitError> {
    let client = sdk_client(region, endpoint).await;
    let mut found = Vec::new();
    for cluster_arn in list_clusters(&client).await? {
        let cluster = name_of(&cluster_arn).to_owned();
        let services = list_services(&client, &cluster_arn).await?;
        for batch in services.chunks(DESCRIBE_AT_ONCE) {
            let described = client
                .describe_services()
                .cluster(&cluster_arn)
                .set_services(Some(batch.to_vec()))
                .send()
                .await
                .map_err(failed("DescribeServices"))?;
            for service in described.services() {
                if service.status() != Some("ACTIVE") {
                    continue;
                }
                let containers = match service.task_definition() {
                    Some(td) => containers(&client, td).await?,
                    None => Vec::new(),
                };
                found.push(FoundService {
                    cluster: cluster.clone(),
                    service: service
                        .service_name()
                        .map(str::to_owned)
                        .unwrap_or_else(|| name_of(service.service_arn().unwrap_or("")).into()),
                    containers,
                });
            }
        }
    }
    Ok(found)
}

async fn list_clusters(client: &aws_sdk_ecs::Client) -> Result<Vec<String>, InitError> {
    let mut arns = Vec::new();
    let mut next = None;
    for _ in 0..MAX_PAGES {
        let page = client
            .list_clusters()
            .max_results(100)
            .set_next_token(next)
            .send()
            .await
            .map_err(failed("ListClusters"))?;
        arns.extend(page.cluster_arns().iter().cloned());
        next = page.next_token().map(str::to_owned);
        if next.is_none() {
            break;
        }
    }
    Ok(arns)
}

async fn list_services(
    client: &aws_sdk_ecs::Client,
    cluster: &str,
) -> Result<Vec<String>, InitError> {
    let mut arns = Vec::new();
    let mut next = None;
    for _ in 0..MAX_PAGES {
        let page = client
            .list_services()
            .cluster(cluster)
            .max_results(100)
            .set_next_token(next)
            .send()
            .await
            .map_err(failed("ListServices"))?;
        arns.extend(page.service_arns().iter().cloned());
        next = page.next_token().map(str::to_owned);
        if next.is_none() {
            break;
        }
    }
    Ok(arns)
}

async fn containers(
    client: &aws_sdk_ecs::Client,
    task_definition: &str,
) -> Result<Vec<Container>, InitError> {
    let described = client
        .describe_task_definition()
        .task_definition(task_definition)
        .send()
        .await
        .map_err(failed("DescribeTaskDefinition"))?;
    Ok(described
        .task_definition()
        .map(|td| {
            td.container_definitions()
                .iter()
                .map(|c| Container {
                    name: c.name().unwrap_or_default().to_owned(),
                    image: c.image().map(str::to_owned),
                })
                .collect()
        })
        .unwrap_or_default())
}
