//! Why a call to an outside service failed, told by what the operator
//! must do about it: `check --online` and the start of `run` say each in
//! one line ([`crate::messages::doctor`]), never the client's error chain.
//! The readings here are pure: of an error's text on one line, of an
//! HTTP status, of an AWS error code.

/// How a connection failed before any answer came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// The host's name does not resolve.
    HostNotFound,
    /// Nothing listens there.
    Refused,
    /// No answer in time.
    TimedOut,
    /// The TLS handshake failed (plain HTTP, a proxy, a certificate).
    Tls,
    /// Some other failure to connect.
    Other,
}

/// A failed probe of Telegram, GitHub or ECS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// No answer from the host configured at `key` (its value `url`).
    Unreachable {
        how: Unreachable,
        key: &'static str,
        url: String,
    },
    /// The credential in the environment variable(s) `variable` was refused.
    TokenRejected {
        status: u16,
        variable: &'static str,
    },
    /// 403: the token lacks a permission; `needed`: the one this call
    /// needs; `said`: the service's own words, when it gave any.
    Forbidden {
        needed: &'static str,
        said: Option<String>,
    },
    /// GitHub limits the token's calls for now.
    RateLimited,
    RepositoryNotFound {
        full_name: String,
    },
    WorkflowNotFound {
        file: String,
        full_name: String,
    },
    WorkflowInactive {
        state: String,
    },
    /// The provider chain found no credentials anywhere.
    NoAwsCredentials,
    /// Credentials are configured but could not be had (a broken profile,
    /// a role that could not be assumed).
    AwsCredentialsFailed,
    /// AWS refused the credentials themselves (`code`: its error code).
    AwsCredentialsRejected {
        code: String,
    },
    /// The credentials lack the IAM permission `action`.
    AccessDenied {
        action: &'static str,
    },
    ClusterNotFound {
        cluster: String,
    },
    ServiceNotFound {
        cluster: String,
        service: String,
    },
    ServiceInactive {
        cluster: String,
        service: String,
    },
    /// No ECS endpoint answers for the configured region.
    InvalidRegion {
        region: String,
    },
    NoContainer {
        container: String,
    },
    /// Anything else, on one line, already fit to show.
    Other {
        detail: String,
    },
}

/// How a connection failed, read from an error and its causes on one
/// line; `None` when the text says nothing of the connection.
pub fn unreachable(chain: &str) -> Option<Unreachable> {
    let text = chain.to_ascii_lowercase();
    let any = |needles: &[&str]| needles.iter().any(|n| text.contains(n));
    if any(&[
        "dns error",
        "failed to lookup address",
        "name or service not known",
        "nodename nor servname",
        "no such host",
        "temporary failure in name resolution",
    ]) {
        Some(Unreachable::HostNotFound)
    } else if any(&["connection refused", "os error 111"]) {
        Some(Unreachable::Refused)
    } else if any(&["timed out", "timeout", "deadline has elapsed"]) {
        Some(Unreachable::TimedOut)
    } else if any(&["certificate", "tls", "handshake"]) {
        Some(Unreachable::Tls)
    } else if any(&[
        "error sending request",
        "client error (connect)",
        "error trying to connect",
        "connection reset",
        "connection closed",
        "network is unreachable",
        "dispatch failure",
        "io error",
    ]) {
        Some(Unreachable::Other)
    } else {
        None
    }
}

/// What a GitHub probe asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GithubProbe<'a> {
    Repository,
    Workflow { file: &'a str },
}

/// A GitHub answer other than success: `status`, GitHub's `message`;
/// `variable`: where the credential comes from.
pub fn github_status(
    probe: GithubProbe<'_>,
    full_name: &str,
    status: u16,
    message: &str,
    variable: &'static str,
) -> Fault {
    match status {
        401 => Fault::TokenRejected { status, variable },
        403 | 429 if message.to_ascii_lowercase().contains("rate limit") => Fault::RateLimited,
        403 => Fault::Forbidden {
            needed: match probe {
                GithubProbe::Repository => "Metadata: read",
                GithubProbe::Workflow { .. } => "Actions: read",
            },
            said: Some(message.trim())
                .filter(|m| !m.is_empty())
                .map(str::to_owned),
        },
        404 => match probe {
            GithubProbe::Repository => Fault::RepositoryNotFound {
                full_name: full_name.to_owned(),
            },
            GithubProbe::Workflow { file } => Fault::WorkflowNotFound {
                file: file.to_owned(),
                full_name: full_name.to_owned(),
            },
        },
        _ => Fault::Other {
            detail: format!("GitHub answered {status}: {message}"),
        },
    }
}

/// An error AWS answered with: its `code`; `action`: the IAM action of
/// the call. `None` when the code is none of those told apart here.
pub fn aws_code(code: &str, action: &'static str, cluster: &str) -> Option<Fault> {
    match code {
        "AccessDeniedException" | "AccessDenied" | "UnauthorizedOperation" => {
            Some(Fault::AccessDenied { action })
        }
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "ExpiredTokenException"
        | "ExpiredToken"
        | "IncompleteSignature" => Some(Fault::AwsCredentialsRejected {
            code: code.to_owned(),
        }),
        "ClusterNotFoundException" => Some(Fault::ClusterNotFound {
            cluster: cluster.to_owned(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_told_apart_by_their_text() {
        let cases = [
            (
                "GitHub unreachable: Service Error: client error (Connect): dns error: failed to lookup address information: Name or service not known",
                Some(Unreachable::HostNotFound),
            ),
            (
                "error sending request for url (http://127.0.0.1:9/bot123/GetMe): client error (Connect): tcp connect error: Connection refused (os error 111)",
                Some(Unreachable::Refused),
            ),
            (
                "dispatch failure: timeout: error trying to connect: HTTP connect timeout occurred after 3.1s",
                Some(Unreachable::TimedOut),
            ),
            (
                "client error (Connect): invalid peer certificate: UnknownIssuer",
                Some(Unreachable::Tls),
            ),
            (
                "error sending request for url (https://x/)",
                Some(Unreachable::Other),
            ),
            ("Bad credentials", None),
        ];
        for (text, expected) in cases {
            assert_eq!(unreachable(text), expected, "{text}");
        }
    }

    #[test]
    fn github_statuses_name_what_to_fix() {
        let wf = GithubProbe::Workflow { file: "deploy.yml" };
        assert_eq!(
            github_status(wf, "o/r", 401, "Bad credentials", "GITHUB_TOKEN"),
            Fault::TokenRejected {
                status: 401,
                variable: "GITHUB_TOKEN"
            }
        );
        assert_eq!(
            github_status(wf, "o/r", 404, "Not Found", "GITHUB_TOKEN"),
            Fault::WorkflowNotFound {
                file: "deploy.yml".into(),
                full_name: "o/r".into()
            }
        );
        assert_eq!(
            github_status(
                GithubProbe::Repository,
                "o/r",
                403,
                "API rate limit exceeded for user ID 1.",
                "GITHUB_TOKEN"
            ),
            Fault::RateLimited
        );
        assert_eq!(
            github_status(wf, "o/r", 403, "Resource not accessible", "GITHUB_TOKEN"),
            Fault::Forbidden {
                needed: "Actions: read",
                said: Some("Resource not accessible".into())
            }
        );
    }

    #[test]
    fn aws_codes_name_what_to_fix() {
        assert_eq!(
            aws_code("AccessDeniedException", "ecs:DescribeServices", "c"),
            Some(Fault::AccessDenied {
                action: "ecs:DescribeServices"
            })
        );
        assert_eq!(
            aws_code("ClusterNotFoundException", "ecs:DescribeServices", "c"),
            Some(Fault::ClusterNotFound {
                cluster: "c".into()
            })
        );
        assert!(matches!(
            aws_code("UnrecognizedClientException", "ecs:DescribeServices", "c"),
            Some(Fault::AwsCredentialsRejected { .. })
        ));
        assert_eq!(
            aws_code("ThrottlingException", "ecs:DescribeServices", "c"),
            None
        );
    }
}
