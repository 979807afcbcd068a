//! An environment's ECS services: listed, or named by the single-service keys.

use super::*;

#[test]
fn an_environment_lists_its_services_or_names_one() {
    let config = parse(SHIPPED).unwrap();
    let names = |env: &str| -> Vec<String> {
        config.environments[&Env::parse(env).unwrap()]
            .services()
            .iter()
            .map(|s| format!("{}/{}/{}", s.cluster, s.service, s.container))
            .collect()
    };
    assert_eq!(names("dev"), ["aletheia-dev/aletheia-api/api"]);
    assert_eq!(names("prod"), ["aletheia-prod/aletheia-api/api"]);
    let two = SHIPPED.replace(
        "  # { cluster = \"aletheia-prod\", service = \"aletheia-worker\"",
        "  { cluster = \"aletheia-prod\", service = \"aletheia-worker\"",
    );
    let config = parse(&two).unwrap();
    let prod = &config.environments[&Env::parse("prod").unwrap()];
    let services: Vec<&str> = prod.services().iter().map(|s| s.name()).collect();
    assert_eq!(services, ["aletheia-api", "aletheia-worker"]);
}

#[test]
fn services_given_wrong_are_refused_with_their_path() {
    let prod_services = "services = [\n  { cluster = \"aletheia-prod\", service = \"aletheia-api\", container = \"api\" },\n";
    let cases = [
        (
            SHIPPED.replace(prod_services, &format!("cluster = \"c\"\nservice = \"s\"\ncontainer = \"api\"\n{prod_services}")),
            "environments.prod.services: give either services or cluster, service and container, not both",
        ),
        (
            SHIPPED.replace(prod_services, "services = [\n"),
            "environments.prod.services: at least one service is needed (or cluster, service and container)",
        ),
        (
            SHIPPED.replace("cluster = \"aletheia-dev\"\n", ""),
            "environments.dev.cluster: missing: cluster, service and container go together (or list services)",
        ),
        (
            SHIPPED.replace(prod_services, &format!("{prod_services}{}", &prod_services["services = [\n".len()..])),
            "environments.prod.services[1]: service aletheia-api of cluster aletheia-prod is listed twice",
        ),
        (
            SHIPPED.replace(
                prod_services,
                &format!(
                    "{prod_services}  {{ cluster = \"other\", service = \"arn:aws:ecs:eu-west-1:1:service/other/aletheia-api\", container = \"api\" }},\n"
                ),
            ),
            "environments.prod.services[1]: another service is named aletheia-api too",
        ),
    ];
    for (text, expected) in cases {
        assert_ne!(text, SHIPPED, "{expected}");
        let message = error(&text);
        assert!(message.contains(expected), "{message}");
    }
    let typo = SHIPPED.replace(
        "service = \"aletheia-api\", container",
        "servce = \"aletheia-api\", container",
    );
    let message = error(&typo);
    assert!(
        message.contains("environments.prod.services[0].servce: unknown field"),
        "{message}"
    );
}
