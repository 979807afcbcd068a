//! `[retention]`: how long what the bot no longer needs is kept before
//! it is pruned. The audit log is kept whole.

use std::time::Duration;

use serde::Deserialize;

/// `[retention]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// How long a GitHub webhook delivery's payload is kept (its id stays
    /// longer: a redelivery is still known as a duplicate). Default 14 days.
    #[serde(default = "default_webhooks", with = "humantime_serde")]
    pub webhooks: Duration,
    /// How long a sent alert is kept (those an operation or a message
    /// still being edited may read stay longer). Default 30 days.
    #[serde(default = "default_outbox", with = "humantime_serde")]
    pub outbox: Duration,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            webhooks: default_webhooks(),
            outbox: default_outbox(),
        }
    }
}

fn default_webhooks() -> Duration {
    Duration::from_secs(14 * 24 * 3600)
}

fn default_outbox() -> Duration {
    Duration::from_secs(30 * 24 * 3600)
}
