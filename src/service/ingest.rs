//! Group commit for webhook deliveries: each is stored in one transaction
//! with its audit line and alerts, as before, but deliveries arriving while
//! the previous write is on its way to disk share the next transaction.
//! One sync to disk then stores a whole burst, where a transaction each
//! would queue on the disk (and, on SQLite, on its single writer). Alone,
//! a delivery is written at once: nothing waits for a batch to fill.

use tokio::sync::{mpsc, oneshot};

use crate::store::{AuditEntry, Delivery, NewAlert, Recorded, Store, StoreError};

/// The most deliveries one transaction stores.
const MAX_BATCH: usize = 128;

type Job = (
    (Delivery, bool, AuditEntry, Vec<NewAlert>),
    oneshot::Sender<Result<Recorded, StoreError>>,
);

/// The one writer of webhook deliveries; cheap to clone.
#[derive(Clone)]
pub struct DeliveryWriter {
    jobs: mpsc::Sender<Job>,
}

impl DeliveryWriter {
    /// Starts the writer task (it ends when the last handle is dropped).
    pub fn start(store: Store) -> Self {
        let (jobs, mut queue) = mpsc::channel::<Job>(4 * MAX_BATCH);
        tokio::spawn(async move {
            let mut taken = Vec::with_capacity(MAX_BATCH);
            while queue.recv_many(&mut taken, MAX_BATCH).await > 0 {
                let (batch, replies): (Vec<_>, Vec<_>) = taken.drain(..).unzip();
                match store.record_deliveries(&batch).await {
                    Ok(recorded) => {
                        for (reply, r) in replies.into_iter().zip(recorded) {
                            let _ = reply.send(Ok(r));
                        }
                    }
                    Err(e) => {
                        tracing::warn!(deliveries = batch.len(), error = %e, "webhook deliveries not stored");
                        let why = e.to_string();
                        for reply in replies {
                            let _ = reply.send(Err(StoreError::Batch(why.clone())));
                        }
                    }
                }
            }
        });
        Self { jobs }
    }

    /// Stores a delivery as [`Store::record_delivery`] does.
    pub async fn record(
        &self,
        delivery: Delivery,
        done: bool,
        audit: AuditEntry,
        alerts: Vec<NewAlert>,
    ) -> Result<Recorded, StoreError> {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::Batch("the delivery writer stopped".into());
        self.jobs
            .send(((delivery, done, audit, alerts), reply))
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}
