//! Where the fakes run, apart from each test's runtime: at the end
//! of a scenario the test's runtime waits (in [`World`](super::World)'s
//! drop) while the bot still delivers to Telegram through whatever proxy
//! the test put in its way, and none of them may stop meanwhile.

use std::net::SocketAddr;

/// A task on a thread of its own; dropping it stops it (as the end of the
/// test's runtime stopped it when it ran there).
pub struct Task {
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Runs `task` on a runtime of its own, on a thread of its own: one event
/// loop for one fake, as when it shared the test's, so that its timing
/// (Telegram's limits are measured by the fake) does not depend on the
/// other tests running beside it.
pub fn spawn(task: impl Future<Output = ()> + Send + 'static) -> Task {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("fake".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                tokio::select! {
                    () = task => {}
                    _ = stopped => {}
                }
            });
        })
        .unwrap();
    Task { _stop: stop }
}

/// Binds a port of 127.0.0.1 and serves `app` there from a runtime of its
/// own (the listener is made there, so only that runtime drives it).
pub fn serve(app: axum::Router) -> (SocketAddr, Task) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let task = spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        axum::serve(listener, app).await.unwrap();
    });
    (addr, task)
}
