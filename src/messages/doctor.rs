//! `aletheia-bot check --online` and the start of `run`: each failed
//! probe in one line a newcomer can act on, saying what to set or fix.
//! Plain text for a terminal (not Telegram HTML).

use crate::domain::fault::{Fault, Unreachable};

/// Where the least-privilege IAM policy is kept.
const IAM_POLICY: &str = "examples/iam-policy.json";

/// What `check` and `run` say of a config without `[[users]]` (the one
/// `init` writes, as written).
pub const NOBODY_YET: &str =
    "no [[users]] yet: the bot answers only /whoami and /help until bot.toml lists people";

/// One probe's line: ✅ or ❌, what was probed, what it found.
pub fn probe(ok: bool, what: &str, detail: &str) -> String {
    format!("{} {what}: {detail}", if ok { "✅" } else { "❌" })
}

/// What `aletheia-bot reload` says once it signalled the bot.
pub fn reload_sent(config: &std::path::Path, pid: i32) -> String {
    format!(
        "{}: configuration is valid; asked the bot (process {pid}) to reload it; \
         its log and audit log say what changed",
        config.display()
    )
}

/// The line of a failed probe (after "❌ <what>: ").
pub fn fault(fault: &Fault) -> String {
    match fault {
        Fault::Unreachable { how, key, url } => {
            let what = match how {
                Unreachable::HostNotFound => "host not found",
                Unreachable::Refused => "connection refused",
                Unreachable::TimedOut => "timed out",
                Unreachable::Tls => "TLS handshake failed",
                Unreachable::Other => "cannot connect",
            };
            format!("{what} ({key} = {url})")
        }
        Fault::TokenRejected { status, variable } => {
            format!("token rejected ({status}): set {variable} to a valid token")
        }
        Fault::Forbidden { needed, said } => {
            let said = said
                .as_deref()
                .map(|s| format!(" (GitHub says: {s})"))
                .unwrap_or_default();
            format!("missing permission (403): the token needs {needed} on the repository{said}")
        }
        Fault::RateLimited => {
            "rate limited by GitHub: try again later (the limit resets within an hour)".to_owned()
        }
        Fault::RepositoryNotFound { full_name } => format!(
            "repository {full_name} not found (404): check github.owner and github.repo, \
             and that the token may read it"
        ),
        Fault::WorkflowNotFound { file, full_name } => format!(
            "workflow {file} not found in {full_name} (404): add .github/workflows/{file} \
             to the default branch, or fix github.workflows"
        ),
        Fault::WorkflowInactive { state } => format!("state is {state} (not active)"),
        Fault::NoAwsCredentials => "no AWS credentials found (tried the environment, the \
             profile, the container/instance role): set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY \
             or AWS_PROFILE"
            .to_owned(),
        Fault::AwsCredentialsFailed => "AWS credentials are configured but could not be \
             loaded: check AWS_PROFILE and ~/.aws/config (run with \
             RUST_LOG=aletheia_bot=debug for the provider's error)"
            .to_owned(),
        Fault::AwsCredentialsRejected { code } => format!(
            "AWS rejected the credentials ({code}): check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY \
             (or the profile's keys), and that they have not expired"
        ),
        Fault::AccessDenied { action } => {
            format!("access denied: the bot's IAM identity needs {action} (see {IAM_POLICY})")
        }
        Fault::ClusterNotFound { cluster } => {
            format!("cluster {cluster} not found: check the environment's cluster and aws.region")
        }
        Fault::ServiceNotFound { cluster, service } => format!(
            "service {service} not found in cluster {cluster}: check the environment's service"
        ),
        Fault::ServiceInactive { cluster, service } => {
            format!(
                "service {service} in cluster {cluster} is inactive (deleted): create it \
                 again, or check the environment's service"
            )
        }
        Fault::InvalidRegion { region } => {
            format!("region {region:?} invalid: no ECS endpoint there (aws.region)")
        }
        Fault::NoContainer { container } => {
            format!("no container named {container:?} in the task definition")
        }
        // A client's text may run over several lines (the AWS SDK's does).
        Fault::Other { detail } => detail
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
    }
}

#[cfg(test)]
mod tests;
