//! moto's `moto_server`, the AWS emulator, started once per test process
//! on a free port, and seeding helpers that talk to it with the real
//! aws-sdk-ecs client.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_sdk_ecs::types::{ContainerDefinition, DeploymentConfiguration};

pub const REGION: &str = "eu-west-1";
/// moto reports this many running tasks for every service it creates
/// (`MOTO_ECS_SERVICE_RUNNING`): a service that wants 2 is complete.
pub const RUNNING: i32 = 2;

struct Moto {
    url: String,
    // Held open for the life of the test process: when it closes (the
    // process ends, however it ends), the wrapper shell kills moto.
    _guard: Mutex<Child>,
}

static MOTO: OnceLock<Moto> = OnceLock::new();

fn moto_binary() -> PathBuf {
    if let Ok(path) = std::env::var("MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    if venv.exists() {
        return venv;
    }
    PathBuf::from("moto_server")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The emulator's URL, starting it on first use.
pub fn url() -> &'static str {
    &MOTO
        .get_or_init(|| {
            let port = free_port();
            let binary = moto_binary();
            let mut child = Command::new("sh")
                .arg("-c")
                .arg(r#""$0" -H 127.0.0.1 -p "$1" >/dev/null 2>&1 & moto=$!; cat >/dev/null; kill $moto"#)
                .arg(&binary)
                .arg(port.to_string())
                .env("MOTO_ECS_SERVICE_RUNNING", RUNNING.to_string())
                .stdin(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e} (run the README's test command)", binary.display()));
            let _ = child.stdin.as_mut().map(|s| s.flush());
            let url = format!("http://127.0.0.1:{port}");
            let deadline = Instant::now() + Duration::from_secs(60);
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "moto_server ({}) did not listen on {port} within 60s",
                    binary.display()
                );
                std::thread::sleep(Duration::from_millis(100));
            }
            Moto {
                url,
                _guard: Mutex::new(child),
            }
        })
        .url
}

/// An ECS client on the emulator, with static test credentials.
pub async fn client() -> aws_sdk_ecs::Client {
    client_in(REGION).await
}

/// An ECS client on the emulator in `region` (moto keeps each region's
/// clusters apart).
pub async fn client_in(region: &str) -> aws_sdk_ecs::Client {
    let config = aws_sdk_ecs::Config::builder()
        .behavior_version(aws_sdk_ecs::config::BehaviorVersion::latest())
        .http_client(aletheia_bot::adapters::ecs::https_client())
        .region(aws_sdk_ecs::config::Region::new(region.to_owned()))
        .endpoint_url(url())
        .credentials_provider(aws_sdk_ecs::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .build();
    aws_sdk_ecs::Client::from_conf(config)
}

/// A cluster with one service running `running_image`, after `others`
/// were registered in the same family (so older and newer revisions exist).
pub async fn seed_service(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
    family: &str,
    images: &[&str],
    running_image: &str,
    desired: i32,
) {
    ecs.create_cluster()
        .cluster_name(cluster)
        .send()
        .await
        .unwrap();
    let mut running_arn = None;
    for image in images {
        let arn = register(ecs, family, image).await;
        if *image == running_image {
            running_arn = Some(arn);
        }
    }
    create_service(
        ecs,
        cluster,
        service,
        &running_arn.expect("running image is among the registered ones"),
        desired,
    )
    .await;
}

/// Registers a revision of `family` whose `api` container runs `image`
/// (beside a sidecar); returns its ARN.
pub async fn register(ecs: &aws_sdk_ecs::Client, family: &str, image: &str) -> String {
    register_container(ecs, family, "api", image).await
}

/// Registers a revision of `family` whose container `name` runs `image`
/// (beside a sidecar); returns its ARN.
pub async fn register_container(
    ecs: &aws_sdk_ecs::Client,
    family: &str,
    name: &str,
    image: &str,
) -> String {
    let td = ecs
        .register_task_definition()
        .family(family)
        .container_definitions(
            ContainerDefinition::builder()
                .name(name)
                .image(image)
                .memory(512)
                .build(),
        )
        .container_definitions(
            ContainerDefinition::builder()
                .name("sidecar")
                .image("public.ecr.aws/datadog/agent:7")
                .memory(128)
                .build(),
        )
        .send()
        .await
        .unwrap();
    td.task_definition()
        .and_then(|t| t.task_definition_arn())
        .expect("a registered task definition has an ARN")
        .to_owned()
}

/// What a Deploy workflow does to ECS, as far as moto can show it: the
/// service ends up running `task_definition` in one completed PRIMARY
/// deployment. moto's UpdateService keeps the old deployment (a known gap,
/// DESIGN.md), so the service is deleted and created again instead.
pub async fn roll_out(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
    task_definition: &str,
) {
    let desired = ecs
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .unwrap()
        .services()
        .first()
        .map(|s| s.desired_count())
        .expect("the service exists");
    ecs.delete_service()
        .cluster(cluster)
        .service(service)
        .force(true)
        .send()
        .await
        .unwrap();
    create_service(ecs, cluster, service, task_definition, desired).await;
}

/// The service, recreated on its task definition wanting `desired` tasks:
/// moto reports `RUNNING` of them running, so more than that is a service
/// short of tasks, as when tasks crash.
pub async fn want_tasks(ecs: &aws_sdk_ecs::Client, cluster: &str, service: &str, desired: i32) {
    let task_definition = ecs
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .unwrap()
        .services()
        .first()
        .and_then(|s| s.task_definition())
        .expect("the service exists")
        .to_owned();
    ecs.delete_service()
        .cluster(cluster)
        .service(service)
        .force(true)
        .send()
        .await
        .unwrap();
    create_service(ecs, cluster, service, &task_definition, desired).await;
}

/// A task of `task_definition` started in `cluster` and stopped with
/// `reason`, as ECS keeps it for a while after (what a diagnosis reads).
pub async fn stopped_task(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    task_definition: &str,
    reason: &str,
) {
    let task = ecs
        .run_task()
        .cluster(cluster)
        .task_definition(task_definition)
        .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
        .send()
        .await
        .unwrap();
    let arn = task.tasks()[0].task_arn().unwrap().to_owned();
    ecs.stop_task()
        .cluster(cluster)
        .task(&arn)
        .reason(reason)
        .send()
        .await
        .unwrap();
}

pub async fn create_service(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
    task_definition: &str,
    desired: i32,
) {
    ecs.create_service()
        .cluster(cluster)
        .service_name(service)
        .task_definition(task_definition)
        .desired_count(desired)
        .deployment_configuration(
            DeploymentConfiguration::builder()
                .maximum_percent(200)
                .minimum_healthy_percent(100)
                .build(),
        )
        .send()
        .await
        .unwrap();
}
