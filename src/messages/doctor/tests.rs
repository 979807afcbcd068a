//! Each probe's failure line.

use super::*;

/// Every probe's failure line, one per fault.
#[test]
fn each_failure_is_one_line_saying_what_to_fix() {
    let faults = [
        (
            "GitHub repository",
            Fault::Unreachable {
                how: Unreachable::HostNotFound,
                key: "github.api_url",
                url: "https://github.invalid/".into(),
            },
        ),
        (
            "GitHub repository",
            Fault::Unreachable {
                how: Unreachable::Refused,
                key: "github.api_url",
                url: "http://127.0.0.1:9/".into(),
            },
        ),
        (
            "GitHub repository",
            Fault::Unreachable {
                how: Unreachable::TimedOut,
                key: "github.api_url",
                url: "https://api.github.com/".into(),
            },
        ),
        (
            "Telegram",
            Fault::Unreachable {
                how: Unreachable::Tls,
                key: "telegram.api_url",
                url: "https://127.0.0.1:8081/".into(),
            },
        ),
        (
            "Telegram",
            Fault::Unreachable {
                how: Unreachable::Other,
                key: "telegram.api_url",
                url: "https://api.telegram.org/".into(),
            },
        ),
        (
            "Telegram",
            Fault::TokenRejected {
                status: 401,
                variable: "TELEGRAM_BOT_TOKEN",
            },
        ),
        (
            "GitHub repository",
            Fault::TokenRejected {
                status: 401,
                variable: "GITHUB_TOKEN",
            },
        ),
        (
            "GitHub workflow deploy (deploy.yml)",
            Fault::Forbidden {
                needed: "Actions: read",
                said: Some("Resource not accessible by personal access token".into()),
            },
        ),
        ("GitHub repository", Fault::RateLimited),
        (
            "GitHub repository",
            Fault::RepositoryNotFound {
                full_name: "mindburn-labs/aletheia".into(),
            },
        ),
        (
            "GitHub workflow release (release.yml)",
            Fault::WorkflowNotFound {
                file: "release.yml".into(),
                full_name: "mindburn-labs/aletheia".into(),
            },
        ),
        (
            "GitHub workflow release (release.yml)",
            Fault::WorkflowInactive {
                state: "disabled_manually".into(),
            },
        ),
        (
            "ECS prod (aletheia-prod/aletheia-api)",
            Fault::NoAwsCredentials,
        ),
        (
            "ECS prod (aletheia-prod/aletheia-api)",
            Fault::AwsCredentialsFailed,
        ),
        (
            "ECS prod (aletheia-prod/aletheia-api)",
            Fault::AwsCredentialsRejected {
                code: "UnrecognizedClientException".into(),
            },
        ),
        (
            "ECS prod (aletheia-prod/aletheia-api)",
            Fault::AccessDenied {
                action: "ecs:DescribeServices",
            },
        ),
        (
            "ECS prod (aletheia-prod/aletheia-api)",
            Fault::ClusterNotFound {
                cluster: "aletheia-prod".into(),
            },
        ),
        (
            "ECS prod (aletheia-prod/aletheia-api)",
            Fault::ServiceNotFound {
                cluster: "aletheia-prod".into(),
                service: "aletheia-api".into(),
            },
        ),
        (
            "ECS prod (aletheia-prod/aletheia-api)",
            Fault::ServiceInactive {
                cluster: "aletheia-prod".into(),
                service: "aletheia-api".into(),
            },
        ),
        (
            "ECS prod (aletheia-prod/aletheia-api)",
            Fault::InvalidRegion {
                region: "eu-west-9".into(),
            },
        ),
        (
            "ECS prod (aletheia-prod/aletheia-api)",
            Fault::NoContainer {
                container: "api".into(),
            },
        ),
        (
            "ECS prod (aletheia-prod/aletheia-api)",
            Fault::Other {
                detail: "ThrottlingException: Rate exceeded\n  (twice)".into(),
            },
        ),
    ];
    let mut lines = String::new();
    for (what, f) in &faults {
        let line = fault(f);
        assert!(!line.contains('\n'), "{what}: {line}");
        lines.push_str(&format!("❌ {what}: {line}\n"));
    }
    insta::assert_snapshot!(lines);
}

/// The lines `check` prints besides a failure's, and `reload`'s.
#[test]
fn the_other_lines_of_check_and_reload() {
    let lines = [
        probe(true, "GitHub repository", "acme/shop"),
        probe(
            false,
            "ECS prod (shop-prod/api)",
            "cluster shop-prod not found",
        ),
        NOBODY_YET.to_owned(),
        reload_sent(std::path::Path::new("/etc/aletheia/bot.toml"), 1),
    ];
    insta::assert_snapshot!(lines.join("\n"));
}
