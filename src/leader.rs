//! Leadership among instances sharing one database: the instance holding
//! the lease does the singleton work (polling Telegram and GitHub, the
//! outbox, the monitor, expiries, retention); the others serve HTTP
//! (GitHub webhooks, health, metrics; in webhook mode Telegram's updates
//! too) and stand by. The lease is renewed every third of its length.
//!
//! A leader that has not renewed its lease for a whole lease length,
//! measured on its own monotonic clock from the start of its last
//! successful renewal, stops leading (its duties are cancelled) until it
//! takes the lease again: cut off from the database, it gives way by the
//! time a standby may take the lease over, since the lease in the
//! database expires no earlier than that. (Instances' wall clocks are
//! assumed to agree to well within a lease: the standby reads the
//! expiry the leader wrote.) It also steps down as soon as it finds
//! another holder. (On SQLite, whose file no other machine shares, a
//! leader whose file is locked keeps its role instead: see `hold`.)
//!
//! Fencing: the singleton work writes through a store fenced by the
//! holder's name (`Store::fenced`): each of its writes (the outbox's
//! lease and sent marks, the dispatch claim, the follower's, confirmer's
//! and expiry sweep's transitions) checks in its own transaction that
//! the lease is still this holder's and unexpired, and changes nothing
//! otherwise. So a leader that lost the lease without knowing yet (a
//! pause, a slow clock) cannot act on it. What it had already sent to
//! Telegram before losing the lease may be sent again by the new leader
//! once the alert's own lease runs out: alerts are at least once.

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::store::{Backend, Store};

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
    // Standing down makes room for a standby that reaches the database
    // when this instance does not: a network between them. A SQLite file
    // is this machine's own; whoever could take over is locked out of it
    // just the same, so a lone instance keeps its role (and answers what
    // it can) while its file is locked.
    let steps_down = store.backend() == Backend::Postgres;
    let every = lease / 3;
    let ttl_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    // While leading: when the lease this instance last took runs out.
    let mut lapses: Option<Instant> = None;
    loop {
        let started = Instant::now();
        // An attempt that hangs (a partition without a reset) is given
        // up after a renewal period, and never outlasts the lease.
        let attempt = tokio::time::timeout(every, store.try_lease(LEASE, &holder, ttl_ms));
        let outcome = tokio::select! {
            () = stop.cancelled() => return,
            () = until(lapses) => None,
            r = attempt => Some(r),
        };
        // Unknown (an error, no answer): leading as long as the lease
        // last taken lasts.
        let still = if steps_down {
            lapses.is_some_and(|t| Instant::now() < t)
        } else {
            *leading.borrow()
        };
        let leads = match outcome {
            Some(Ok(Ok(held))) => {
                lapses = (held && steps_down).then_some(started + lease);
                held
            }
            Some(Ok(Err(e))) => {
                tracing::warn!(error = %e, "leader lease: the store is unreachable");
                still
            }
            Some(Err(_)) => {
                tracing::warn!("leader lease: the store did not answer in time");
                still
            }
            None => false,
        };
        if !leads {
            lapses = None;
        }
        publish(&leading, &holder, leads);
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
            () = until(lapses) => {
                tracing::warn!(holder = %holder, "leader lease not renewed for a whole lease: standing by");
                lapses = None;
                publish(&leading, &holder, false);
            }
        }
    }
}

/// Sleeps until `at`; forever when there is nothing to wait for.
async fn until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn publish(leading: &watch::Sender<bool>, holder: &str, leads: bool) {
    if leads != *leading.borrow() {
        if leads {
            tracing::info!(holder = %holder, "leader lease taken: this instance leads");
        } else {
            tracing::warn!(holder = %holder, "leader lease lost: standing by");
        }
        leading.send_replace(leads);
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
