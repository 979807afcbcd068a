//! Serving the router over HTTP/1.1 with the limits a client without
//! credentials must not get around: `axum::serve` sets no header timeout,
//! so connections are served here with hyper's own.
//!
//! - headers must arrive within `server.header_timeout`; hyper counts the
//!   wait for a kept-alive connection's next request the same way, so an
//!   idle connection is closed after it too;
//! - a request, its body included, is answered 408 after
//!   `server.request_timeout`;
//! - at most `server.max_connections` are served at once; the next waits in
//!   the listen backlog until one closes.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower_http::timeout::TimeoutLayer;

use crate::config::ServerConfig;

/// Serves `router` on `listener` until `stop`, then lets the connections
/// finish what they are doing (each bounded by the timeouts) and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerConfig,
    stop: CancellationToken,
) {
    // The cap covers every route, Telegram's webhook (merged in after the
    // router was built) included.
    let router =
        router
            .layer(DefaultBodyLimit::max(super::MAX_BODY))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                limits.request_timeout,
            ));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    // Semaphore permits are u32; a larger limit means no limit in practice.
    let slots_total = u32::try_from(limits.max_connections.max(1)).unwrap_or(u32::MAX >> 3);
    let slots = Arc::new(Semaphore::new(slots_total as usize));
    loop {
        let slot = tokio::select! {
            _ = stop.cancelled() => break,
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
        };
        let stream = tokio::select! {
            _ = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, mostly: give closing
                    // connections a moment instead of spinning.
                    tracing::warn!(error = %e, "http: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let connection = http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(router.clone()),
        );
        let stop = stop.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut connection = std::pin::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = stop.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "http: connection closed");
            }
        });
    }
    drop(listener);
    // Every connection gives its slot back when it ends.
    let _ = slots.acquire_many(slots_total).await;
}
