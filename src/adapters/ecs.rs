//! AWS ECS: the one way in, for the truth of what runs where. The real
//! aws-sdk-ecs client, credentials from the standard provider chain, the
//! endpoint overridable (an emulator in tests, a VPC endpoint in prod).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_ecs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls;
use chrono::DateTime;

use crate::config::{AwsConfig, EnvironmentConfig, ServiceConfig};
use crate::domain::fault::{self, Unreachable};

mod evidence;

pub use evidence::{StoppedContainer, StoppedTask};

/// How many services one `DescribeServices` call takes (ECS's limit).
const DESCRIBE_AT_ONCE: usize = 10;

/// (task definition ARN, container name) → that container's image.
type ImageCache = HashMap<(String, String), Option<String>>;

/// The ECS client, with a cache of task definitions (immutable by ARN).
#[derive(Clone)]
pub struct Ecs {
    client: aws_sdk_ecs::Client,
    /// The provider chain the client's calls ask (`None`: none at all).
    credentials: Option<SharedCredentialsProvider>,
    images: Arc<Mutex<ImageCache>>,
}

/// An ECS call that failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EcsError {
    #[error("service {service} not found in cluster {cluster}")]
    ServiceNotFound { cluster: String, service: String },
    #[error("service {service} in cluster {cluster} is inactive (deleted)")]
    ServiceInactive { cluster: String, service: String },
    /// `shown`: what may be told of it; `cause`: what it was.
    #[error("{shown}")]
    Api { cause: EcsCause, shown: String },
}

/// What an ECS call that got no good answer ran into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EcsCause {
    /// The credential provider chain found no credentials anywhere.
    NoCredentials,
    /// Credentials are configured but could not be loaded.
    CredentialsFailed,
    /// No answer from the endpoint.
    Unreachable(Unreachable),
    /// AWS answered with an error `code`; `action`: the call's IAM action.
    Code {
        code: String,
        action: &'static str,
    },
    Other,
}

/// The error of an ECS call whose IAM action is `action`.
fn api_error<E, R>(action: &'static str) -> impl Fn(SdkError<E, R>) -> EcsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    move |e| {
        let chain = DisplayErrorContext(&e).to_string();
        tracing::debug!(action, error = %chain, "ECS call failed");
        let cause = match (e.code(), credentials_error(&e)) {
            (Some(code), _) => EcsCause::Code {
                code: code.to_owned(),
                action,
            },
            (None, Some(CredentialsError::CredentialsNotLoaded(_))) => EcsCause::NoCredentials,
            (None, Some(_)) => EcsCause::CredentialsFailed,
            (None, None) => {
                fault::unreachable(&chain).map_or(EcsCause::Other, EcsCause::Unreachable)
            }
        };
        let text = match (e.code(), e.message(), &cause) {
            (Some(code), Some(message), _) => format!("{code}: {message}"),
            (Some(code), None, _) => code.to_owned(),
            (None, _, EcsCause::NoCredentials) => "no AWS credentials found".to_owned(),
            (None, _, EcsCause::CredentialsFailed) => {
                "AWS credentials could not be loaded".to_owned()
            }
            _ => chain,
        };
        EcsError::Api {
            cause,
            shown: shown(e.code(), &text),
        }
    }
}

/// The credential provider's error among an error's causes: the SDK
/// hands it on, boxed, as the cause of a dispatch failure.
fn credentials_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a CredentialsError> {
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(found) = err.downcast_ref::<CredentialsError>() {
            return Some(found);
        }
        next = err.source();
    }
    None
}

/// What may be shown of an ECS error: the error is shown to the team,
/// so an answer naming the account or an ARN (AccessDenied names the
/// caller's role and the resource) is told by its code and a reference
/// only; the log carries it in full under that reference.
fn shown(code: Option<&str>, text: &str) -> String {
    if !names_internals(text) {
        return text.chars().take(300).collect();
    }
    let reference = &uuid::Uuid::new_v4().simple().to_string()[..8];
    tracing::warn!(reference, error = %text, "ECS error (withheld from chats)");
    format!(
        "{} (details in the bot's log, ref {reference})",
        code.unwrap_or("ECS error")
    )
}

/// Whether a text names an ARN or an AWS account id (12 digits alone).
fn names_internals(text: &str) -> bool {
    if text.to_ascii_lowercase().contains("arn:") {
        return true;
    }
    text.split(|c: char| !c.is_ascii_digit())
        .any(|run| run.len() == 12)
}

// The judged shapes and the pure readings of tags live in the domain;
// named here too, as the client returns them.
pub use crate::domain::rollout::{DeploymentState, ServiceState, image_tag, tag_is_version};

/// One revision of a task definition family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// `family:revision`.
    pub name: String,
    pub arn: String,
    /// The image of the configured container.
    pub image: Option<String>,
}

/// The `DescribeServices` calls that read `services`: per cluster, at
/// most [`DESCRIBE_AT_ONCE`] each, as indexes into `services`.
fn batches(services: &[ServiceConfig]) -> Vec<(&str, Vec<usize>)> {
    let mut batches: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, s) in services.iter().enumerate() {
        match batches
            .iter_mut()
            .find(|(cluster, b)| *cluster == s.cluster && b.len() < DESCRIBE_AT_ONCE)
        {
            Some((_, batch)) => batch.push(i),
            None => batches.push((&s.cluster, vec![i])),
        }
    }
    batches
}

/// `(family, revision)` of a task definition ARN or `family:revision`.
pub fn family_revision(task_definition: &str) -> Option<(&str, u32)> {
    let name = task_definition.rsplit('/').next()?;
    let (family, revision) = name.rsplit_once(':')?;
    Some((family, revision.parse().ok()?))
}

/// The AWS SDK's HTTP client: rustls on ring, like the bot's other
/// clients (Cargo.toml says why the SDK's default stacks are left out).
/// Built as the SDK builds its own default (aws-smithy-runtime's
/// `default_https_client`): each connector takes the SDK's timeouts and
/// sleep, and `HTTPS_PROXY`/`NO_PROXY` from the environment.
pub fn https_client() -> aws_sdk_ecs::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector = aws_smithy_http_client::ConnectorBuilder::default().tls_provider(
            tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring),
        );
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(aws_smithy_http_client::proxy::ProxyConfig::from_env()));
        connector.build()
    })
}

/// The SDK's settings for `region` (and `endpoint`, when given),
/// credentials from the standard provider chain.
async fn sdk_config(region: &str, endpoint: Option<&url::Url>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .region(Region::new(region.to_owned()));
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint.as_str().trim_end_matches('/'));
    }
    loader.load().await
}

/// An ECS client for `region` (and `endpoint`, when given), credentials
/// from the standard provider chain.
pub async fn sdk_client(region: &str, endpoint: Option<&url::Url>) -> aws_sdk_ecs::Client {
    aws_sdk_ecs::Client::new(&sdk_config(region, endpoint).await)
}

impl Ecs {
    /// Builds the client for the configured region and endpoint.
    pub async fn connect(config: &AwsConfig) -> Self {
        let shared = sdk_config(&config.region, config.endpoint_url.as_ref()).await;
        Self {
            client: aws_sdk_ecs::Client::new(&shared),
            credentials: shared.credentials_provider(),
            images: Arc::default(),
        }
    }

    /// Whether credentials are to be had: the provider chain asked once,
    /// as a call would ask it.
    pub async fn credentials(&self) -> Result<(), EcsCause> {
        let Some(provider) = &self.credentials else {
            return Err(EcsCause::NoCredentials);
        };
        match provider.provide_credentials().await {
            Ok(_) => Ok(()),
            Err(CredentialsError::CredentialsNotLoaded(_)) => Err(EcsCause::NoCredentials),
            Err(e) => {
                tracing::debug!(error = %DisplayErrorContext(&e), "AWS credentials not loaded");
                Err(EcsCause::CredentialsFailed)
            }
        }
    }

    /// The service as ECS describes it (one `DescribeServices` call).
    pub(super) async fn describe_service(
        &self,
        env: &ServiceConfig,
    ) -> Result<aws_sdk_ecs::types::Service, EcsError> {
        let out = self
            .client
            .describe_services()
            .cluster(&env.cluster)
            .services(&env.service)
            .send()
            .await
            .map_err(api_error("ecs:DescribeServices"))?;
        out.services()
            .first()
            .cloned()
            .ok_or_else(|| EcsError::ServiceNotFound {
                cluster: env.cluster.clone(),
                service: env.service.clone(),
            })
    }

    /// One service, with the image of each deployment.
    pub async fn service_state(&self, env: &ServiceConfig) -> Result<ServiceState, EcsError> {
        let service = self.describe_service(env).await?;
        self.state_of(&service, env).await
    }

    /// Every service of an environment, in its order: ECS is asked once
    /// per cluster (`DescribeServices` takes up to 10 services, so once
    /// per 10 of them), the clusters at once.
    pub async fn services_state(
        &self,
        env: &EnvironmentConfig,
    ) -> Vec<Result<ServiceState, EcsError>> {
        let services = env.services();
        let batches = batches(services);
        let answers = futures::future::join_all(
            batches
                .iter()
                .map(|(cluster, batch)| self.describe_batch(cluster, batch, services)),
        )
        .await;
        let mut states: Vec<Option<Result<ServiceState, EcsError>>> =
            services.iter().map(|_| None).collect();
        for ((_, batch), answer) in batches.iter().zip(answers) {
            for (i, state) in batch.iter().zip(answer) {
                states[*i] = Some(state);
            }
        }
        states
            .into_iter()
            .map(|s| s.expect("every service is in a batch"))
            .collect()
    }

    /// The services `batch` (indexes into `services`, all of `cluster`)
    /// in one `DescribeServices` call, each judged on its own.
    async fn describe_batch(
        &self,
        cluster: &str,
        batch: &[usize],
        services: &[ServiceConfig],
    ) -> Vec<Result<ServiceState, EcsError>> {
        let asked: Vec<&ServiceConfig> = batch.iter().map(|i| &services[*i]).collect();
        let out = self
            .client
            .describe_services()
            .cluster(cluster)
            .set_services(Some(asked.iter().map(|s| s.service.clone()).collect()))
            .send()
            .await
            .map_err(api_error("ecs:DescribeServices"));
        let out = match out {
            Ok(out) => out,
            Err(e) => return asked.iter().map(|_| Err(e.clone())).collect(),
        };
        let found = |s: &ServiceConfig| {
            out.services().iter().find(|d| {
                d.service_arn() == Some(s.service.as_str()) || d.service_name() == Some(s.name())
            })
        };
        futures::future::join_all(asked.iter().map(|s| async move {
            match found(s) {
                Some(service) => self.state_of(service, s).await,
                None => Err(EcsError::ServiceNotFound {
                    cluster: s.cluster.clone(),
                    service: s.service.clone(),
                }),
            }
        }))
        .await
    }

    /// What `/status` and the confirmation read of a described service.
    async fn state_of(
        &self,
        service: &aws_sdk_ecs::types::Service,
        env: &ServiceConfig,
    ) -> Result<ServiceState, EcsError> {
        if service.status() == Some("INACTIVE") {
            return Err(EcsError::ServiceInactive {
                cluster: env.cluster.clone(),
                service: env.service.clone(),
            });
        }
        let mut deployments: Vec<DeploymentState> = service
            .deployments()
            .iter()
            .map(|d| DeploymentState {
                status: d.status().unwrap_or_default().to_owned(),
                task_definition: d.task_definition().unwrap_or_default().to_owned(),
                image: None,
                rollout_state: d.rollout_state().map(|s| s.as_str().to_owned()),
                rollout_reason: d.rollout_state_reason().map(str::to_owned),
                created_at: d
                    .created_at()
                    .and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos())),
                running: d.running_count(),
                desired: d.desired_count(),
                failed_tasks: d.failed_tasks(),
            })
            .collect();
        if deployments.is_empty()
            && let Some(td) = service.task_definition()
        {
            deployments.push(DeploymentState {
                status: "PRIMARY".into(),
                task_definition: td.to_owned(),
                image: None,
                rollout_state: None,
                rollout_reason: None,
                created_at: None,
                running: service.running_count(),
                desired: service.desired_count(),
                failed_tasks: 0,
            });
        }
        deployments.sort_by_key(|d| std::cmp::Reverse(d.created_at));
        deployments.sort_by_key(|d| d.status != "PRIMARY");
        let images = futures::future::join_all(
            deployments
                .iter()
                .map(|d| self.image(&d.task_definition, &env.container)),
        )
        .await;
        for (d, image) in deployments.iter_mut().zip(images) {
            d.image = image?;
        }
        Ok(ServiceState {
            status: service.status().unwrap_or_default().to_owned(),
            running: service.running_count(),
            desired: service.desired_count(),
            pending: service.pending_count(),
            deployments,
        })
    }

    /// The task definitions of the family the service runs, newest
    /// revision first (sorted here: not every server honours `sort`), at
    /// most `limit`, each with the image of the configured container.
    pub async fn revisions(
        &self,
        env: &ServiceConfig,
        limit: usize,
    ) -> Result<Vec<Revision>, EcsError> {
        let state = self.service_state(env).await?;
        let Some(family) = state
            .primary()
            .and_then(|d| family_revision(&d.task_definition))
            .map(|(family, _)| family.to_owned())
        else {
            return Ok(Vec::new());
        };
        let mut pages = self
            .client
            .list_task_definitions()
            .family_prefix(&family)
            .sort(aws_sdk_ecs::types::SortOrder::Desc)
            .into_paginator()
            .send();
        let mut arns = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(api_error("ecs:ListTaskDefinitions"))?;
            arns.extend(page.task_definition_arns().iter().cloned());
        }
        let mut revisions: Vec<(u32, String)> = arns
            .into_iter()
            .filter_map(|arn| {
                let (f, revision) = family_revision(&arn)?;
                (f == family).then_some((revision, arn))
            })
            .collect();
        revisions.sort_by_key(|r| std::cmp::Reverse(r.0));
        let mut out = Vec::new();
        for (revision, arn) in revisions.into_iter().take(limit) {
            let image = self.image(&arn, &env.container).await?;
            out.push(Revision {
                name: format!("{family}:{revision}"),
                arn,
                image,
            });
        }
        Ok(out)
    }

    /// Points the service at a task definition (`UpdateService`): ECS
    /// then rolls it out as it would any deployment.
    pub async fn update_service(
        &self,
        env: &ServiceConfig,
        task_definition: &str,
    ) -> Result<(), EcsError> {
        self.client
            .update_service()
            .cluster(&env.cluster)
            .service(&env.service)
            .task_definition(task_definition)
            .send()
            .await
            .map_err(api_error("ecs:UpdateService"))?;
        Ok(())
    }

    /// The image of `container` in a task definition (cached: a task
    /// definition revision never changes).
    pub async fn image(
        &self,
        task_definition: &str,
        container: &str,
    ) -> Result<Option<String>, EcsError> {
        let key = (task_definition.to_owned(), container.to_owned());
        if let Some(image) = self.images.lock().expect("cache lock").get(&key) {
            return Ok(image.clone());
        }
        let out = self
            .client
            .describe_task_definition()
            .task_definition(task_definition)
            .send()
            .await
            .map_err(api_error("ecs:DescribeTaskDefinition"))?;
        let image = out
            .task_definition()
            .map(|td| td.container_definitions())
            .unwrap_or_default()
            .iter()
            .find(|c| c.name() == Some(container))
            .and_then(|c| c.image())
            .map(str::to_owned);
        self.images
            .lock()
            .expect("cache lock")
            .insert(key, image.clone());
        Ok(image)
    }
}

#[cfg(test)]
mod tests {
    use super::{batches, names_internals, shown};
    use crate::config::ServiceConfig;

    #[test]
    fn services_are_asked_once_per_cluster_ten_at_a_time() {
        let service = |cluster: &str, i: usize| ServiceConfig {
            cluster: cluster.into(),
            service: format!("s{i}"),
            container: "app".into(),
        };
        let mut services: Vec<ServiceConfig> = (0..12).map(|i| service("a", i)).collect();
        services.insert(3, service("b", 99));
        let got = batches(&services);
        let a_first: Vec<usize> = (0..3).chain(4..11).collect();
        assert_eq!(
            got,
            [("a", a_first), ("b", vec![3]), ("a", vec![11, 12])],
            "{got:?}"
        );
        assert_eq!(batches(&services[..1]), [("a", vec![0])]);
    }

    #[test]
    fn errors_naming_the_account_or_an_arn_are_withheld() {
        let denied = "AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/x/bot \
                      is not authorized to perform: ecs:DescribeServices";
        for internal in [
            denied,
            "ClientException: account 123456789012 has no such cluster",
            "see ARN:AWS:IAM::1:role/x",
        ] {
            assert!(names_internals(internal), "{internal}");
        }
        for fine in [
            "ThrottlingException: Rate exceeded",
            "ServerException: Service unavailable",
            "timed out after 1234567890123 ms",
            "port 12345",
        ] {
            assert!(!names_internals(fine), "{fine}");
        }
        let told = shown(Some("AccessDeniedException"), denied);
        assert!(
            told.starts_with("AccessDeniedException (details in the bot's log, ref ")
                && !names_internals(&told),
            "{told}"
        );
        assert_eq!(
            shown(
                Some("ThrottlingException"),
                "ThrottlingException: Rate exceeded"
            ),
            "ThrottlingException: Rate exceeded"
        );
    }
}
