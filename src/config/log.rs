//! `[log]`: how the bot's log lines are written (to stderr).

use serde::Deserialize;

/// `[log]`
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `text` (default): a line a person reads; `json`: one JSON object
    /// per line for a log pipeline, with the fields of the operation or
    /// request a line is about (`operation_id`, `request_id`).
    #[serde(default)]
    pub format: LogFormat,
}

/// `log.format`
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}
