//! The health URL of an environment: one GET, 2xx is healthy.

use std::time::Duration;

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

    /// `Ok(status)` when the URL answered 2xx; otherwise why not, in words
    /// that name the URL without the credentials or query it may carry
    /// (they end up in chats and logs).
    pub async fn probe(&self, url: &url::Url) -> Result<u16, String> {
        let shown = format!(
            "{}://{}{}{}",
            url.scheme(),
            url.host_str().unwrap_or_default(),
            url.port().map(|p| format!(":{p}")).unwrap_or_default(),
            url.path()
        );
        match self.client.get(url.as_str()).send().await {
            Ok(response) if response.status().is_success() => Ok(response.status().as_u16()),
            Ok(response) => Err(format!("{shown} answered {}", response.status().as_u16())),
            Err(e) if e.is_timeout() => Err(format!("{shown} did not answer in time")),
            Err(e) if e.is_connect() => Err(format!("{shown} refused the connection")),
            Err(_) => Err(format!("{shown} could not be reached")),
        }
    }
}
