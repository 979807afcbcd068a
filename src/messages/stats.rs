//! `/stats [days]`: DORA's four figures for the last environment.

use crate::alerts::format::{escape, span};
use crate::domain::dora::Dora;

/// The delivery figures of `env` over the last `days`.
pub fn stats(env: &str, days: u32, d: &Dora) -> String {
    let median = |ms: Option<i64>, n: u32, what: &str| match ms {
        Some(ms) => format!("median {} ({n} {what})", span(ms / 1000)),
        None => format!("none in {days} days"),
    };
    let rate = match d.failure_rate() {
        Some(r) => format!(
            "{:.0}% ({} of {} deploys)",
            r * 100.0,
            d.failed_changes,
            d.changes
        ),
        None => "no deploys".to_owned(),
    };
    format!(
        "📈 <b>Delivery</b> · {env} · last {days} days\n\
         Deployment frequency: {} deploys ({:.1} a week)\n\
         Lead time, release → {env}: {}\n\
         Change failure rate: {rate}\n\
         Time to restore: {}",
        d.deploys,
        d.per_week(),
        median(d.lead_time_ms, d.lead_samples, "releases"),
        median(d.restore_ms, d.restores, "incidents"),
        env = escape(env),
    )
}

#[cfg(test)]
mod tests;
