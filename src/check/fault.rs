//! The errors of the probes' clients read as [`Fault`]s: what went wrong,
//! with the config key or environment variable to fix.

use teloxide::{ApiError, RequestError};

use crate::adapters::ecs::{EcsCause, EcsError};
use crate::adapters::github::{GithubError, one_line};

/// An error and all its causes, for reading (never shown: a cause may
/// quote a URL at length).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
use crate::config::{AwsConfig, GithubAuth};
use crate::domain::fault::{self, Fault, GithubProbe, Unreachable};

/// A URL as shown: without credentials, query or fragment.
pub fn shown_url(url: &url::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// Where the Telegram token comes from.
pub const TELEGRAM_TOKEN: &str = "TELEGRAM_BOT_TOKEN";

/// A failed Telegram call (`getMe`) of the Bot API at `api_url`.
pub fn telegram(e: &RequestError, api_url: &url::Url) -> Fault {
    let unreachable = |how| Fault::Unreachable {
        how,
        key: "telegram.api_url",
        url: shown_url(api_url),
    };
    match e {
        // Telegram answers 401 "Unauthorized" to a token it does not
        // know, 404 "Not Found" to one that is not a token at all.
        RequestError::Api(ApiError::InvalidToken) => Fault::TokenRejected {
            status: 401,
            variable: TELEGRAM_TOKEN,
        },
        RequestError::Network(e) => {
            unreachable(fault::unreachable(&chain(e.as_ref())).unwrap_or(Unreachable::Other))
        }
        RequestError::InvalidJson { .. } => Fault::Other {
            detail: format!(
                "the answer is not the Bot API's (telegram.api_url = {})",
                shown_url(api_url)
            ),
        },
        RequestError::RetryAfter(secs) => Fault::Other {
            detail: format!("rate limited: retry after {}s", secs.seconds()),
        },
        other => Fault::Other {
            detail: one_line(other),
        },
    }
}

/// Where GitHub's credential comes from.
pub fn github_variable(auth: &GithubAuth) -> &'static str {
    match auth {
        GithubAuth::Token(_) => "GITHUB_TOKEN",
        GithubAuth::App { .. } => "GITHUB_APP_ID/GITHUB_APP_PRIVATE_KEY",
    }
}

/// A failed GitHub call of `probe` on the repository `full_name`.
pub fn github(
    e: &GithubError,
    probe: GithubProbe<'_>,
    full_name: &str,
    api_url: &url::Url,
    auth: &GithubAuth,
) -> Fault {
    let variable = github_variable(auth);
    match e {
        GithubError::NotFound => fault::github_status(probe, full_name, 404, "", variable),
        GithubError::Status { status, message } => {
            fault::github_status(probe, full_name, *status, message, variable)
        }
        GithubError::Transport(text) => Fault::Unreachable {
            how: fault::unreachable(text).unwrap_or(Unreachable::Other),
            key: "github.api_url",
            url: shown_url(api_url),
        },
        GithubError::Setup(text) => Fault::Other {
            detail: text.clone(),
        },
    }
}

/// A failed ECS call about `cluster`.
pub fn ecs(e: &EcsError, cluster: &str, aws: &AwsConfig) -> Fault {
    match e {
        EcsError::ServiceNotFound { cluster, service } => Fault::ServiceNotFound {
            cluster: cluster.clone(),
            service: service.clone(),
        },
        EcsError::ServiceInactive { cluster, service } => Fault::ServiceInactive {
            cluster: cluster.clone(),
            service: service.clone(),
        },
        EcsError::Api { cause, shown } => match cause {
            EcsCause::NoCredentials => Fault::NoAwsCredentials,
            EcsCause::CredentialsFailed => Fault::AwsCredentialsFailed,
            EcsCause::Unreachable(how) => match &aws.endpoint_url {
                Some(url) => Fault::Unreachable {
                    how: *how,
                    key: "aws.endpoint_url",
                    url: shown_url(url),
                },
                // AWS's own endpoint for the region: a name that does not
                // resolve is a region that does not exist.
                None if *how == Unreachable::HostNotFound => Fault::InvalidRegion {
                    region: aws.region.clone(),
                },
                None => Fault::Unreachable {
                    how: *how,
                    key: "aws.region",
                    url: format!("https://ecs.{}.amazonaws.com", aws.region),
                },
            },
            EcsCause::Code { code, action } => fault::aws_code(code, action, cluster)
                .unwrap_or_else(|| Fault::Other {
                    detail: shown.clone(),
                }),
            EcsCause::Other => Fault::Other {
                detail: shown.clone(),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn telegram_errors_name_the_token_or_the_url() {
        let api = url("https://user:pw@tg.example.com/?x=1");
        assert_eq!(
            telegram(&RequestError::Api(ApiError::InvalidToken), &api),
            Fault::TokenRejected {
                status: 401,
                variable: "TELEGRAM_BOT_TOKEN"
            }
        );
        assert!(matches!(
            telegram(
                &RequestError::Api(ApiError::Unknown("Bad Gateway".into())),
                &api
            ),
            Fault::Other { .. }
        ));
        assert_eq!(shown_url(&api), "https://tg.example.com/");
    }

    #[test]
    fn github_errors_name_the_variable_and_the_url() {
        let api = url("https://github.invalid/");
        let token = GithubAuth::Token(Secret::new("t".into()));
        let dns = GithubError::Transport(
            "GitHub unreachable: Service Error: client error (Connect): dns error: failed to lookup address information".into(),
        );
        assert_eq!(
            github(&dns, GithubProbe::Repository, "o/r", &api, &token),
            Fault::Unreachable {
                how: Unreachable::HostNotFound,
                key: "github.api_url",
                url: "https://github.invalid/".into()
            }
        );
        let app = GithubAuth::App {
            app_id: 1,
            private_key: Secret::new("k".into()),
        };
        let refused = GithubError::Status {
            status: 401,
            message: "Bad credentials".into(),
        };
        assert_eq!(
            github(&refused, GithubProbe::Repository, "o/r", &api, &app),
            Fault::TokenRejected {
                status: 401,
                variable: "GITHUB_APP_ID/GITHUB_APP_PRIVATE_KEY"
            }
        );
    }

    #[test]
    fn an_aws_endpoint_that_does_not_resolve_is_a_region_that_does_not_exist() {
        let mut aws: AwsConfig = toml::from_str("region = \"eu-west-9\"").unwrap();
        let dns = EcsError::Api {
            cause: EcsCause::Unreachable(Unreachable::HostNotFound),
            shown: "dispatch failure".into(),
        };
        assert_eq!(
            ecs(&dns, "c", &aws),
            Fault::InvalidRegion {
                region: "eu-west-9".into()
            }
        );
        aws.endpoint_url = Some(url("http://ecs.invalid:5000/"));
        assert_eq!(
            ecs(&dns, "c", &aws),
            Fault::Unreachable {
                how: Unreachable::HostNotFound,
                key: "aws.endpoint_url",
                url: "http://ecs.invalid:5000/".into()
            }
        );
        let denied = EcsError::Api {
            cause: EcsCause::Code {
                code: "AccessDeniedException".into(),
                action: "ecs:DescribeServices",
            },
            shown: "AccessDeniedException (details in the bot's log, ref 0)".into(),
        };
        assert_eq!(
            ecs(&denied, "c", &aws),
            Fault::AccessDenied {
                action: "ecs:DescribeServices"
            }
        );
    }
}
