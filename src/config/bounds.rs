//! Bounds on every duration of the config: none is zero, none is longer
//! than 30 days (so adding one to a clock cannot overflow), and the ones
//! that pace a loop asking an outside service are not shorter than 100 ms.

use std::time::Duration;

use super::{Config, ConfigIssue};

/// The longest duration the config takes anywhere.
pub const LONGEST: Duration = Duration::from_secs(30 * 24 * 3600);

/// The shortest pace of a loop that asks GitHub, ECS, the database or a
/// chat again and again.
pub const SHORTEST_INTERVAL: Duration = Duration::from_millis(100);

/// What a duration is for, which decides its least value.
#[derive(Clone, Copy)]
enum Kind {
    /// How often something is asked again.
    Interval,
    /// A timeout, a window or a delay: anything but zero.
    Span,
}

impl Config {
    /// Every duration key with its path and kind.
    fn durations(&self) -> Vec<(String, Duration, Kind)> {
        use Kind::*;
        let mut all = vec![
            (
                "server.header_timeout".into(),
                self.server.header_timeout,
                Span,
            ),
            (
                "server.request_timeout".into(),
                self.server.request_timeout,
                Span,
            ),
            ("leader.lease".into(), self.leader.lease, Span),
            ("github.timeout".into(), self.github.timeout, Span),
            (
                "github.poll_interval".into(),
                self.github.poll_interval,
                Interval,
            ),
            (
                "github.find_run_within".into(),
                self.github.find_run_within,
                Span,
            ),
            (
                "github.deployment_retry".into(),
                self.github.deployment_retry,
                Interval,
            ),
            ("aws.confirm_within".into(), self.aws.confirm_within, Span),
            (
                "aws.confirm_interval".into(),
                self.aws.confirm_interval,
                Interval,
            ),
            ("monitor.interval".into(), self.monitor.interval, Interval),
            ("monitor.grace".into(), self.monitor.grace, Span),
            ("incident.ack_within".into(), self.incident.ack_within, Span),
            (
                "incident.remind_every".into(),
                self.incident.remind_every,
                Interval,
            ),
            ("alerts.backoff".into(), self.alerts.backoff, Span),
            ("alerts.max_backoff".into(), self.alerts.max_backoff, Span),
            ("retention.webhooks".into(), self.retention.webhooks, Span),
            ("retention.outbox".into(), self.retention.outbox, Span),
        ];
        for (env, cfg) in &self.environments {
            let at = format!("environments.{env}.approval");
            all.push((format!("{at}.expiry"), cfg.approval.expiry, Span));
            all.push((
                format!("{at}.confirm_window"),
                cfg.approval.confirm_window,
                Span,
            ));
        }
        all
    }

    /// A zero, overlong or too frequent duration, by its key's path.
    pub(super) fn duration_issues(&self) -> Vec<ConfigIssue> {
        self.durations()
            .into_iter()
            .filter_map(|(path, value, kind)| {
                let reason = if value.is_zero() {
                    "must not be zero".to_owned()
                } else if value > LONGEST {
                    "must be at most 30 days".to_owned()
                } else if matches!(kind, Kind::Interval) && value < SHORTEST_INTERVAL {
                    "must be at least 100ms (it paces calls to an outside service)".to_owned()
                } else {
                    return None;
                };
                Some(ConfigIssue { path, reason })
            })
            .collect()
    }
}
