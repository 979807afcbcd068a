//! The health URL of an environment: one GET, 2xx is healthy.

use std::time::Duration;

pub use crate::domain::health::ProbeFailure;

/// An HTTP client for health probes.
#[derive(Clone)]
pub struct Health {
    client: reqwest::Client,
}

impl Health {
    pub fn new(timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("aletheia-bot/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a reqwest client with a timeout and rustls builds");
        Self { client }
    }

    /// `Ok(status)` when the URL answered 2xx; otherwise why not.
    pub async fn probe(&self, url: &url::Url) -> Result<u16, ProbeFailure> {
        match self.client.get(url.as_str()).send().await {
            Ok(response) if response.status().is_success() => Ok(response.status().as_u16()),
            Ok(response) => Err(ProbeFailure::Status(response.status().as_u16())),
            Err(e) if e.is_timeout() => Err(ProbeFailure::Timeout),
            Err(e) if e.is_connect() => Err(ProbeFailure::Refused),
            Err(_) => Err(ProbeFailure::Unreachable),
        }
    }
}

/// A failed probe in words that name the URL without the credentials or
/// query it may carry (they end up in chats and logs).
pub fn describe(url: &url::Url, failure: &ProbeFailure) -> String {
    format!(
        "{}://{}{}{} {}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port().map(|p| format!(":{p}")).unwrap_or_default(),
        url.path(),
        failure.words()
    )
}
