//! Retention on the leader: every hour (and at once when it starts
//! leading) old webhook payloads and sent alerts are pruned, in batches
//! short enough never to hold the database's write lock for long, then
//! the tables' rows are counted for `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::App;
use crate::domain::retention_cutoffs;
use crate::store::{StoreError, now_ms};

/// How often the tables are pruned and counted.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Rows one statement prunes at most.
const BATCH: i64 = 1000;

/// What one run of batches prunes.
#[derive(Clone, Copy)]
enum Prune {
    Payloads,
    Deliveries,
    Alerts,
    Strangers,
}

impl Prune {
    fn what(self) -> &'static str {
        match self {
            Prune::Payloads => "webhook payloads",
            Prune::Deliveries => "webhook deliveries",
            Prune::Alerts => "sent alerts",
            Prune::Strangers => "strangers' answers",
        }
    }
}

impl App {
    /// One pass: prunes what `[retention]` lets go, then sets the
    /// `aletheia_table_rows` gauges. Stops early when `stop` fires.
    pub async fn keep_tables(&self, stop: &CancellationToken) {
        let retention = &self.config.retention;
        let now = now_ms();
        let cut = retention_cutoffs(now, retention.webhooks, retention.outbox);
        let strangers = now - crate::domain::STRANGER_ANSWER_EVERY.as_millis() as i64;
        let store = &self.store;
        for (prune, before) in [
            (Prune::Payloads, cut.payloads),
            (Prune::Deliveries, cut.delivery_ids),
            (Prune::Alerts, cut.alerts),
            (Prune::Strangers, strangers),
        ] {
            let what = prune.what();
            let mut pruned = 0;
            loop {
                if stop.is_cancelled() {
                    return;
                }
                let batch: Result<u64, StoreError> = match prune {
                    Prune::Payloads => store.prune_delivery_payloads(before, BATCH).await,
                    Prune::Deliveries => store.forget_deliveries(before, BATCH).await,
                    Prune::Alerts => store.prune_sent_alerts(before, BATCH).await,
                    Prune::Strangers => store.forget_strangers(before, BATCH).await,
                };
                match batch {
                    Ok(n) => {
                        pruned += n;
                        if n < BATCH as u64 {
                            break;
                        }
                        // Let the other writers in between two batches.
                        tokio::task::yield_now().await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, what, "retention: pruning failed; tried again next time");
                        break;
                    }
                }
            }
            if pruned > 0 {
                tracing::info!(pruned, what, "retention: pruned");
            }
        }
        match store.table_rows().await {
            Ok(rows) => {
                for (table, n) in rows {
                    self.metrics
                        .table_rows
                        .get_or_create(&crate::metrics::TableLabels {
                            table: table.to_owned(),
                        })
                        .set(n);
                }
            }
            Err(e) => tracing::warn!(error = %e, "retention: counting the tables failed"),
        }
    }
}

/// Keeps the tables bounded until stopped: a pass at once, then hourly.
pub async fn retention_loop(app: Arc<App>, stop: CancellationToken) {
    loop {
        app.current().keep_tables(&stop).await;
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(RETENTION_EVERY) => {}
        }
    }
}
