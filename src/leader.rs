//! Leadership among instances sharing one database: the instance holding
//! the lease does the singleton work (polling Telegram and GitHub, the
//! outbox, the monitor, expiries, retention); the others serve HTTP
//! (GitHub webhooks, health, metrics) and stand by. The lease is renewed every third of its
//! length. A leader that cannot reach the database keeps its role (it
//! still answers what it can, and a standby cannot do better without the
//! database); it steps down as soon as it finds another holder. An
//! overlap is harmless: every state change and every alert send goes
//! through a compare-and-set in the database.

use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::store::Store;

/// The lease's name in the `leases` table.
pub const LEASE: &str = "leader";

/// Takes or renews the lease until `stop`, publishing on `leading`
/// whether this instance leads. Does not give the lease up: the caller
/// does, once the leader's work has stopped.
pub async fn hold(
    store: Store,
    holder: String,
    lease: Duration,
    leading: watch::Sender<bool>,
    stop: CancellationToken,
) {
    let every = lease / 3;
    let ttl_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    loop {
        let leads = match store.try_lease(LEASE, &holder, ttl_ms).await {
            Ok(held) => held,
            Err(e) => {
                // Unknown: as it was.
                tracing::warn!(error = %e, "leader lease: the store is unreachable");
                *leading.borrow()
            }
        };
        if leads != *leading.borrow() {
            if leads {
                tracing::info!(holder = %holder, "leader lease taken: this instance leads");
            } else {
                tracing::warn!(holder = %holder, "leader lease lost: standing by");
            }
            leading.send_replace(leads);
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// Waits until this instance leads; false when stopped first.
pub async fn until_leading(leading: &mut watch::Receiver<bool>, stop: &CancellationToken) -> bool {
    tokio::select! {
        () = stop.cancelled() => false,
        led = leading.wait_for(|l| *l) => led.is_ok(),
    }
}

/// A token cancelled when `stop` fires or this instance stops leading.
pub fn while_leading(
    mut leading: watch::Receiver<bool>,
    stop: &CancellationToken,
) -> CancellationToken {
    let duties = stop.child_token();
    let token = duties.clone();
    tokio::spawn(async move {
        tokio::select! {
            () = token.cancelled() => {}
            _ = leading.wait_for(|l| !*l) => token.cancel(),
        }
    });
    duties
}
