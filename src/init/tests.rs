use super::ecs::{Container, FoundService};
use super::plan::{self, FoundWorkflow, Plan};
use super::{environment_of, recognise, render};
use crate::adapters::github::Workflow;
use crate::config::Config;

fn workflow(id: u64, path: &str, name: &str, state: &str) -> Workflow {
    Workflow {
        id,
        name: name.to_owned(),
        path: path.to_owned(),
        state: state.to_owned(),
    }
}

fn found(file: &str, name: &str) -> Option<FoundWorkflow> {
    Some(FoundWorkflow {
        file: file.to_owned(),
        name: name.to_owned(),
        state: "active".to_owned(),
    })
}

fn service(cluster: &str, name: &str, containers: &[(&str, &str)]) -> FoundService {
    FoundService {
        cluster: cluster.to_owned(),
        service: name.to_owned(),
        containers: containers
            .iter()
            .map(|(n, image)| Container {
                name: (*n).to_owned(),
                image: Some((*image).to_owned()),
            })
            .collect(),
    }
}

#[test]
fn the_three_workflows_are_recognised_by_file_name_then_by_name() {
    let listed = [
        workflow(1, ".github/workflows/ci.yml", "CI", "active"),
        workflow(2, "dynamic/pages/pages-build-deployment", "pages", "active"),
        workflow(3, ".github/workflows/ship.yaml", "Release", "active"),
        workflow(
            4,
            ".github/workflows/deploy-old.yml",
            "Deploy",
            "disabled_manually",
        ),
        workflow(
            5,
            ".github/workflows/deploy-ecs.yml",
            "Deploy to ECS",
            "active",
        ),
        workflow(6, ".github/workflows/rollback.yml", "Undo", "active"),
        workflow(7, ".github/workflows/rollback-deploy.yml", "x", "active"),
    ];
    assert_eq!(
        recognise(&listed),
        [
            found("ship.yaml", "Release"),
            found("deploy-ecs.yml", "Deploy to ECS"),
            found("rollback.yml", "Undo"),
        ]
    );
    // Only a disabled one: still named, with its state.
    let disabled = [workflow(
        4,
        ".github/workflows/deploy.yml",
        "Deploy",
        "disabled_manually",
    )];
    let [release, deploy, rollback] = recognise(&disabled);
    assert_eq!((release, rollback), (None, None));
    assert_eq!(deploy.unwrap().state, "disabled_manually");
}

#[test]
fn environments_come_from_the_service_name_then_the_cluster_name() {
    assert_eq!(environment_of("api-staging", "shop"), Some("staging"));
    assert_eq!(environment_of("api", "shop-prod"), Some("prod"));
    assert_eq!(environment_of("worker", "shop_production"), Some("prod"));
    assert_eq!(environment_of("api-dev", "shop-prod"), Some("dev"));
    assert_eq!(environment_of("api", "shop"), None);
    // Words, not substrings: "product" and "devops" name no environment.
    assert_eq!(environment_of("product-api", "devops"), None);
}

#[test]
fn services_group_into_environments_with_the_versioned_container() {
    let found = [
        service(
            "shop-prod",
            "api",
            &[("sidecar", "datadog/agent:7"), ("api", "repo/api:1.4.0")],
        ),
        service("shop-staging", "api", &[("api", "repo/api:v1.5.0-rc.1")]),
        service("shop-prod", "worker", &[("worker", "repo/worker:1.4.0")]),
        service("tools", "grafana", &[("grafana", "grafana/grafana:10")]),
        service("shop-dev", "api", &[("api", "repo/api:main-1a2b3c")]),
    ];
    let (envs, left_out) = plan::environments(&found);
    let names: Vec<(&str, Vec<(&str, &str)>)> = envs
        .iter()
        .map(|(env, services)| {
            (
                *env,
                services
                    .iter()
                    .map(|s| (s.service.as_str(), s.container.as_str()))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("dev", vec![("api", "api")]),
            ("staging", vec![("api", "api")]),
            ("prod", vec![("api", "api"), ("worker", "worker")]),
        ]
    );
    // dev's one container is not version-tagged (dev deploys from main):
    // named, with a note saying so.
    assert!(
        envs[0].1[0]
            .note
            .as_deref()
            .unwrap()
            .contains("not tagged with a version")
    );
    assert!(envs[2].1.iter().all(|s| s.note.is_none()));
    assert_eq!(left_out.len(), 1);
    assert_eq!(left_out[0].service, "grafana");
}

fn plan(workflows: [Option<FoundWorkflow>; 3]) -> Plan {
    let found = [
        service("shop-staging", "api", &[("api", "repo/api:1.5.0")]),
        service("shop-prod", "api", &[("api", "repo/api:1.4.0")]),
        service("shop-prod", "worker", &[("worker", "repo/worker:1.4.0")]),
        service("tools", "grafana", &[("grafana", "grafana/grafana:10")]),
    ];
    let (environments, left_out) = plan::environments(&found);
    Plan {
        owner: "acme".into(),
        repo: "shop".into(),
        api_url: None,
        git_ref: "main".into(),
        region: "eu-west-1".into(),
        endpoint_url: None,
        workflows,
        environments,
        left_out,
    }
}

/// The file as written, and with the chat and the user filled in as it
/// says, both pass `check`.
fn assert_valid(text: &str) {
    let config = Config::parse(text, "bot.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(config.users.is_empty() && config.chats.is_empty());
    let filled = text
        .replace("# [[chats]]\n", "[[chats]]\n")
        .replace("# id = -1001234567890\n", "id = -1001987654321\n")
        .replace("# name = \"team\"\n", "name = \"team\"\n")
        .replace("# alerts = [", "alerts = [")
        .replace("# [[users]]\n", "[[users]]\n")
        .replace("# id = 123456789\n", "id = 42\n")
        .replace("# name = \"Your name\"\n", "name = \"Ann\"\n")
        .replace("# roles = [", "roles = [");
    let config = Config::parse(&filled, "bot.toml").unwrap_or_else(|e| panic!("{e}\n{filled}"));
    assert_eq!((config.users.len(), config.chats.len()), (1, 1));
}

#[test]
fn the_written_file_is_valid_and_says_what_it_found() {
    let text = render(&plan([
        found("release.yml", "Release"),
        found("deploy.yml", "Deploy"),
        found("rollback.yml", "Rollback"),
    ]));
    assert_valid(&text);
    insta::assert_snapshot!(text);
}

#[test]
fn a_missing_workflow_is_named_with_the_example_to_copy() {
    let text = render(&plan([
        found("release.yml", "Release"),
        found("deploy-ecs.yml", "Deploy to ECS"),
        None,
    ]));
    assert_valid(&text);
    assert!(
        text.contains(
            "# MISSING: acme/shop has no rollback workflow. Copy examples/workflows/rollback.yml\n\
             # into its .github/workflows/, or name yours here\n\
             # (`check --online` fails until it exists).\n\
             [github.workflows.rollback]\nfile = \"rollback.yml\"\n"
        ),
        "{text}"
    );
    assert!(text.contains("[github.workflows.deploy]\nfile = \"deploy-ecs.yml\"\n"));
}

#[test]
fn the_operator_is_told_a_line_per_finding() {
    let text = crate::messages::init::summary(
        &plan([
            found("release.yml", "Release"),
            found("deploy.yml", "Deploy"),
            None,
        ]),
        std::path::Path::new("bot.toml"),
    );
    insta::assert_snapshot!(text);
}
