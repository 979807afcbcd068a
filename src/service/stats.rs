//! `/stats [days]` and the DORA gauges: delivery figures for prod from the
//! bot's own history.

use super::{App, Reply};
use crate::domain::Env;
use crate::domain::dora::{Dora, dora};

impl App {
    /// The last environment in promotion order: where "delivered" means.
    fn delivery_env(&self) -> Option<Env> {
        crate::domain::last_env(self.config.environments.keys()).cloned()
    }

    async fn dora_over(&self, days: u32) -> Option<(Env, Dora)> {
        let env = self.delivery_env()?;
        let now = crate::store::now_ms();
        let since = now - i64::from(days) * 86_400_000;
        let facts = match self.store.delivery_facts(&env, since).await {
            Ok(facts) => facts,
            Err(e) => {
                tracing::warn!(error = %e, "delivery figures: store");
                return None;
            }
        };
        let figures = dora(&facts, env.as_str(), now, days);
        Some((env, figures))
    }

    /// `/stats [days]`.
    pub(super) async fn stats(&self, days: u32) -> (String, Option<Reply>) {
        let Some((env, d)) = self.dora_over(days).await else {
            return self.internal_error(
                "stats: store",
                &std::io::Error::other("the history could not be read"),
            );
        };
        let text = crate::messages::stats::stats(env.as_str(), days, &d);
        ("answered".into(), Some(Reply::new(text)))
    }

    /// Sets the DORA gauges on `/metrics` (30 days), and the operations
    /// by kind and state.
    pub async fn refresh_dora_gauges(&self) {
        if let Ok(counts) = self.store.operation_counts().await {
            // Every pair is set, so a count that fell to zero says zero.
            for kind in crate::domain::OperationKind::ALL {
                for state in crate::domain::OperationState::ALL {
                    let n = counts
                        .iter()
                        .find(|(k, s, _)| *k == kind && *s == state)
                        .map_or(0, |c| c.2);
                    self.metrics
                        .operations
                        .get_or_create(&crate::metrics::OperationLabels {
                            kind: kind.as_str().to_owned(),
                            state: state.as_str().to_owned(),
                        })
                        .set(n);
                }
            }
        }
        let Some((_, d)) = self.dora_over(30).await else {
            return;
        };
        let m = &self.metrics;
        m.dora_deploys_per_week.set(d.per_week());
        m.dora_lead_time_seconds
            .set(d.lead_time_ms.unwrap_or(0) as f64 / 1000.0);
        m.dora_change_failure_ratio
            .set(d.failure_rate().unwrap_or(0.0));
        m.dora_time_to_restore_seconds
            .set(d.restore_ms.unwrap_or(0) as f64 / 1000.0);
    }
}
