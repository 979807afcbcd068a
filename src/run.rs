//! Wiring for `aletheia-bot run`: builds the clients, starts the HTTP
//! server, the outbox worker and the Telegram dispatcher, reads the config
//! again on SIGHUP, and stops them all on SIGINT or SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use teloxide::dispatching::Dispatcher;
use teloxide::error_handlers::LoggingErrorHandler;
use teloxide::prelude::*;
use teloxide::update_listeners::Polling;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::adapters::ecs::Ecs;
use crate::adapters::telegram::{self, TgBot};
use crate::alerts::{Deliverer, RetryPolicy};
use crate::config::{Config, Secrets, TELEGRAM_WEBHOOK_PATH, UpdateMode};
use crate::metrics::Metrics;
use crate::service::App;
use crate::store::{Store, redact_url};
use crate::telegram::Outgoing;
use teloxide::update_listeners::webhooks;

/// How long a stopping bot gives the answers it has decided to go out.
const ANSWERS_DRAIN: Duration = Duration::from_secs(10);

/// Updates that may wait in one chat's queue before teloxide stops
/// taking any (its default is 64).
const UPDATES_PER_CHAT: usize = 1024;

/// Runs the bot until a signal stops it; `SIGHUP` reads `config_path`
/// again. With a `pidfile`, `aletheia-bot reload` finds the bot by it.
pub async fn run(
    config: Config,
    secrets: Secrets,
    config_path: std::path::PathBuf,
    pidfile: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    // Listened for from the first moment, before the pidfile names this
    // process: a SIGHUP reloads once the bot is up, and never kills it.
    let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .context("listening for SIGHUP")?;
    let _pidfile = match pidfile.map(|path| crate::reload::Pidfile::create(&path)) {
        None => None,
        Some(Ok(pidfile)) => Some(pidfile),
        Some(Err(e @ crate::reload::PidfileError::Held(_))) => return Err(e.into()),
        Some(Err(e)) => {
            tracing::warn!(error = %e, "no pidfile: `aletheia-bot reload` cannot find this bot; SIGHUP still reloads it");
            None
        }
    };
    // What would keep the bot from ever working is told first, in one
    // line, before anything is set up.
    let github = crate::check::github_at_start(&config, &secrets).await?;
    let ecs = Ecs::connect(&config.aws).await;
    let bot = telegram::build(&config.telegram, &secrets.telegram_token)
        .map_err(anyhow::Error::msg)
        .context("setting up the Telegram client")?;
    crate::check::at_start(&config, &bot, &ecs).await?;
    let url = config.database_url();
    let store = Store::open(&url)
        .await
        .with_context(|| format!("opening the database {}", redact_url(&url)))?
        .recording_deployments(config.github.deployments);
    tracing::info!(database = %redact_url(&url), "store ready");
    // Runs of the workflows created from now on are the bot's to follow;
    // those from before its first start are history.
    let workflows = &config.github.workflows;
    store
        .open_run_knowledge(&[
            &workflows.release.file,
            &workflows.deploy.file,
            &workflows.rollback.file,
        ])
        .await
        .context("recording what the bot knows of the workflows' runs")?;
    let envs: Vec<crate::domain::Env> = config.environments.keys().cloned().collect();
    let metrics = Arc::new(Metrics::new(&envs));
    let outbox = Arc::new(Notify::new());
    let config = Arc::new(config);
    let app = Arc::new(App {
        config: config.clone(),
        live: crate::config::LiveConfig::new(config.clone()),
        store: store.clone(),
        github,
        ecs,
        health: crate::adapters::health::Health::new(Duration::from_secs(5)),
        metrics: metrics.clone(),
        outbox: outbox.clone(),
        confirmer: Arc::new(Notify::new()),
        dialogues: crate::store::DialogueStorage::new(store.clone()),
        webhook_secret: secrets.webhook_secret.clone(),
        metrics_token: secrets.metrics_token.clone(),
        pacer: crate::adapters::pacer::Pacer::new(Default::default()),
        deliveries: crate::service::ingest::DeliveryWriter::start(store.clone()),
        diagnoser: Arc::default(),
    });
    let stop = CancellationToken::new();
    spawn_signal_listener(stop.clone());
    spawn_reload_listener(hangup, config_path, app.clone(), stop.clone());
    // On every instance, leader or not: a failure handled here (a webhook
    // can reach any instance) is diagnosed here.
    tokio::spawn(crate::service::diagnose_loop(app.clone(), stop.clone()));

    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("binding {}", config.server.listen))?;
    tracing::info!(addr = %listener.local_addr()?, "http server listening");
    let router = crate::http::router(app.clone());
    // Webhook mode: every instance takes the updates posted to it.
    let (router, receiver) = telegram_webhook(&config, &secrets, router)?;
    let http = tokio::spawn(crate::http::serve(
        listener,
        router,
        config.server.clone(),
        stop.clone(),
    ));
    let webhook = receiver.map(|(updates, url, secret)| {
        tokio::spawn(take_webhook_updates(
            app.clone(),
            bot.clone(),
            updates,
            url,
            secret,
            stop.clone(),
        ))
    });

    // Leadership: the singleton work runs only while this instance holds
    // the lease (one instance alone simply always holds it).
    // The holder's name is the host and the listening address: unique
    // among live instances (two cannot listen on one address), the same
    // for an instance restarted after a crash, which takes its own lease
    // back at once instead of waiting for it to expire.
    let holder = format!("{}:{}", hostname(), config.server.listen);
    let (leading_tx, mut leading) = tokio::sync::watch::channel(false);
    let lease = tokio::spawn(crate::leader::hold(
        store.clone(),
        holder.clone(),
        config.leader.lease,
        leading_tx,
        stop.clone(),
    ));
    let result = lead_while_holding(&app, &bot, &holder, &mut leading, &stop).await;
    stop.cancel();
    let _ = lease.await;
    // Given up only now that the work has stopped: a standby may start.
    if let Err(e) = store.release_lease(crate::leader::LEASE, &holder).await {
        tracing::warn!(error = %e, "giving up the leader lease failed; it expires by itself");
    }
    if let Some(webhook) = webhook {
        let _ = webhook.await;
    }
    let _ = http.await;
    store.close().await;
    tracing::info!("stopped");
    result
}

/// Does the leader's work each time this instance takes the lease, until
/// a stop or an error.
async fn lead_while_holding(
    app: &Arc<App>,
    bot: &TgBot,
    holder: &str,
    leading: &mut tokio::sync::watch::Receiver<bool>,
    stop: &CancellationToken,
) -> anyhow::Result<()> {
    let (config, metrics, outbox) = (&app.config, &app.metrics, &app.outbox);
    let mut result = Ok(());
    while crate::leader::until_leading(leading, stop).await {
        metrics.leader.set(1);
        let duties = crate::leader::while_leading(leading.clone(), stop);
        // Shown as leading no longer from the moment the duties are told
        // to stop, not once they have wound down.
        let ended = duties.clone();
        let shown = metrics.clone();
        tokio::spawn(async move {
            ended.cancelled().await;
            shown.leader.set(0);
        });
        result = lead(app, bot, config, metrics, outbox, holder, duties).await;
        metrics.leader.set(0);
        if result.is_err() || stop.is_cancelled() {
            break;
        }
        tracing::warn!("no longer the leader: standing by");
    }
    result
}

/// In webhook mode, the router with Telegram's webhook route added and
/// the updates it receives, with the address and secret they come with.
#[allow(clippy::type_complexity)]
fn telegram_webhook(
    config: &Config,
    secrets: &Secrets,
    mut router: axum::Router,
) -> anyhow::Result<(
    axum::Router,
    Option<(
        impl teloxide::update_listeners::UpdateListener<Err = std::convert::Infallible> + Send + use<>,
        url::Url,
        crate::config::Secret,
    )>,
)> {
    let mut receiver = None;
    if config.telegram.mode == UpdateMode::Webhook {
        let secret = secrets
            .telegram_webhook_secret
            .clone()
            .context("webhook mode needs TELEGRAM_WEBHOOK_SECRET")?;
        let url = config
            .telegram
            .webhook_url
            .clone()
            .context("webhook mode needs telegram.webhook_url")?;
        // No setup by teloxide: it would delete the webhook whenever an
        // instance stops, under the others' feet.
        // (teloxide checks the token again behind ours: it would make up
        // one of its own otherwise.)
        let options = webhooks::Options::new(config.server.listen, url.clone())
            .path(TELEGRAM_WEBHOOK_PATH.to_owned())
            .secret_token(secret.expose().to_owned());
        let (updates, _stopped, telegram) = webhooks::axum_no_setup(options);
        router = router.merge(crate::http::telegram_router(telegram, secret.clone()));
        receiver = Some((updates, url, secret));
    }
    Ok((router, receiver))
}

/// The leader's work, until `duties` is cancelled (a stop, or the lease
/// lost): the outbox, the pollers, the monitor, retention and Telegram's
/// updates.
async fn lead(
    app: &Arc<App>,
    bot: &TgBot,
    config: &Arc<Config>,
    metrics: &Arc<Metrics>,
    outbox: &Arc<Notify>,
    holder: &str,
    duties: CancellationToken,
) -> anyhow::Result<()> {
    tracing::info!("leading: delivering alerts, polling and watching");
    // The singleton work writes through a store fenced by this lease;
    // Telegram's updates (commands, taps) are anyone's to take.
    let singleton = Arc::new(App {
        store: app.store.fenced(holder),
        ..App::clone(app)
    });
    // What the previous deliverer had in hand is sent again now.
    match app.store.reclaim_leased_alerts(holder).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            alerts = n,
            "alerts whose sending was cut short: sending them again"
        ),
        Err(e) => {
            tracing::warn!(error = %e, "cannot reclaim leased alerts; they are retried after their lease")
        }
    }
    let deliverer = Deliverer {
        store: singleton.store.clone(),
        bot: bot.clone(),
        pacer: app.pacer.clone(),
        metrics: metrics.clone(),
        policy: RetryPolicy::from(&config.alerts),
        wakeup: outbox.clone(),
        holder: holder.to_owned(),
    };
    let delivery = tokio::spawn(deliverer.run(duties.clone()));
    let follower = tokio::spawn(crate::service::follow_loop(
        singleton.clone(),
        duties.clone(),
    ));
    let expirer = tokio::spawn(crate::service::expiry_loop(
        singleton.clone(),
        duties.clone(),
    ));
    let escalator = tokio::spawn(crate::service::escalation_loop(
        singleton.clone(),
        duties.clone(),
    ));
    let monitor = tokio::spawn(crate::service::monitor_loop(
        singleton.clone(),
        duties.clone(),
    ));
    let retention = tokio::spawn(crate::service::retention_loop(
        singleton.clone(),
        duties.clone(),
    ));
    let rotation = tokio::spawn(crate::service::rotation_loop(
        singleton.clone(),
        duties.clone(),
    ));
    let recorder = tokio::spawn(crate::service::deployments_loop(
        singleton.clone(),
        duties.clone(),
    ));
    let confirmer = tokio::spawn(crate::service::confirm_loop(
        singleton.clone(),
        duties.clone(),
    ));

    let mut result = Ok(());
    if config.telegram.mode == UpdateMode::Webhook {
        // Updates come to every instance's webhook, leader or not.
        duties.cancelled().await;
    } else if wait_for_telegram(bot, &duties).await {
        if let Err(e) = telegram::set_commands(bot).await {
            tracing::warn!(error = %e, "setMyCommands failed; the command menu may be stale");
        }
        let polling = Polling::builder(bot.clone())
            .timeout(Duration::from_secs(u64::from(
                config.telegram.poll_timeout_secs,
            )))
            .delete_webhook()
            .await
            .build();
        let outgoing = Arc::new(Outgoing::new(bot.clone()));
        let mut dispatcher = dispatcher(bot, app, &outgoing);
        let finished = CancellationToken::new();
        stop_dispatcher_on(
            dispatcher.shutdown_token(),
            duties.clone(),
            finished.clone(),
        );
        // Asked to stop while setting up: no polling at all.
        if !duties.is_cancelled() {
            tracing::info!("telegram: polling for updates");
            result = dispatcher
                .try_dispatch_with_listener(
                    polling,
                    LoggingErrorHandler::with_custom_text("getUpdates failed"),
                )
                .await
                .context("starting the dispatcher");
        }
        finished.cancel();
        outgoing.drained(ANSWERS_DRAIN).await;
    }
    duties.cancel();
    let _ = delivery.await;
    let _ = follower.await;
    let _ = expirer.await;
    let _ = escalator.await;
    let _ = confirmer.await;
    let _ = monitor.await;
    let _ = retention.await;
    let _ = rotation.await;
    let _ = recorder.await;
    result
}

/// Webhook mode: points Telegram at the webhook once it answers, then
/// handles what arrives there until `stop`.
async fn take_webhook_updates(
    app: Arc<App>,
    bot: TgBot,
    updates: impl teloxide::update_listeners::UpdateListener<Err = std::convert::Infallible> + Send,
    url: url::Url,
    secret: crate::config::Secret,
    stop: CancellationToken,
) {
    let outgoing = Arc::new(Outgoing::new(bot.clone()));
    let mut dispatcher = dispatcher(&bot, &app, &outgoing);
    let finished = CancellationToken::new();
    stop_dispatcher_on(dispatcher.shutdown_token(), stop.clone(), finished.clone());
    let setup = async {
        if !wait_for_telegram(&bot, &stop).await {
            return;
        }
        // Every instance sets the same address (idempotent), until it takes.
        let mut delay = Duration::from_secs(1);
        loop {
            match telegram::set_webhook(&bot, url.clone(), &secret).await {
                Ok(()) => {
                    tracing::info!("telegram: webhook set; taking updates");
                    break;
                }
                Err(e) => {
                    tracing::error!(error = %e, retry_in = ?delay, "telegram: setWebhook failed")
                }
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(Duration::from_secs(60));
        }
        if let Err(e) = telegram::set_commands(&bot).await {
            tracing::warn!(error = %e, "setMyCommands failed; the command menu may be stale");
        }
    };
    let dispatch = async {
        if !stop.is_cancelled() {
            dispatcher
                .dispatch_with_listener(
                    updates,
                    LoggingErrorHandler::with_custom_text("taking webhook updates failed"),
                )
                .await;
        }
        finished.cancel();
        outgoing.drained(ANSWERS_DRAIN).await;
    };
    tokio::join!(setup, dispatch);
}

/// The Telegram dispatcher: the handler tree, with the app.
///
/// Updates are handled one at a time per chat (teloxide's default
/// distribution), chats side by side. No handler waits for Telegram's
/// limits (answers go to `outgoing`), so a chat's queue drains as fast as
/// the bot decides. teloxide stops taking everyone's updates while any
/// one chat's queue is full: the queues are long enough for a burst (a
/// stranger's hundreds of commands at once) to wait in its own chat's
/// queue rather than in front of everyone's. (A queue takes memory only
/// for what waits in it.)
fn dispatcher(
    bot: &TgBot,
    app: &Arc<App>,
    outgoing: &Arc<Outgoing>,
) -> Dispatcher<TgBot, anyhow::Error, teloxide::dispatching::DefaultKey> {
    Dispatcher::builder(bot.clone(), crate::telegram::schema())
        .dependencies(dptree::deps![app.clone(), outgoing.clone()])
        .worker_queue_size(UPDATES_PER_CHAT)
        .default_handler(|_| async {})
        .error_handler(LoggingErrorHandler::with_custom_text(
            "handling an update failed",
        ))
        .build()
}

/// Stops the dispatcher once `stop` fires, however early: a shutdown asked
/// before it has started is refused by teloxide, so it is asked again
/// until it takes or the dispatcher has `finished`.
fn stop_dispatcher_on(
    token: teloxide::dispatching::ShutdownToken,
    stop: CancellationToken,
    finished: CancellationToken,
) {
    tokio::spawn(async move {
        tokio::select! {
            () = stop.cancelled() => {}
            () = finished.cancelled() => return,
        }
        loop {
            match token.shutdown() {
                Ok(done) => {
                    done.await;
                    return;
                }
                Err(_) => tokio::select! {
                    () = finished.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_millis(50)) => {}
                },
            }
        }
    });
}

/// Waits until Telegram answers getMe (backing off while it does not), or
/// until asked to stop. The HTTP server and alert delivery keep running
/// meanwhile. Returns false when stopped first.
async fn wait_for_telegram(bot: &TgBot, stop: &CancellationToken) -> bool {
    let mut delay = Duration::from_millis(500);
    loop {
        match bot.get_me().await {
            Ok(me) => {
                tracing::info!(username = %me.username(), "telegram: connected");
                return true;
            }
            Err(e) => tracing::warn!(error = %e, retry_in = ?delay, "telegram: getMe failed"),
        }
        tokio::select! {
            () = stop.cancelled() => return false,
            () = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(30));
    }
}

fn spawn_signal_listener(stop: CancellationToken) {
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "cannot listen for SIGTERM");
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("stopping");
        stop.cancel();
    });
}

/// Reads the config again on each SIGHUP (one received before this, too),
/// until `stop`.
fn spawn_reload_listener(
    mut hangup: tokio::signal::unix::Signal,
    path: std::path::PathBuf,
    app: Arc<App>,
    stop: CancellationToken,
) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                got = hangup.recv() => if got.is_none() { return },
            }
            crate::reload::reload(&path, &app.live, &app.store, "SIGHUP").await;
        }
    });
}

/// This machine's name (a container's: its id), as the kernel knows it.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}
