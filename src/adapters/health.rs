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

    /// `Ok(status)` when the URL answered 2xx; otherwise why not, in words.
    pub async fn probe(&self, url: &url::Url) -> Result<u16, String> {
        match self.client.get(url.as_str()).send().await {
            Ok(response) if response.status().is_success() => Ok(response.status().as_u16()),
            Ok(response) => Err(format!("{url} answered {}", response.status().as_u16())),
            Err(e) if e.is_timeout() => Err(format!("{url} did not answer in time")),
            Err(e) if e.is_connect() => Err(format!("{url} refused the connection")),
            Err(_) => Err(format!("{url} could not be reached")),
        }
    }
}
