//! The Telegram front: the dptree handler tree that turns updates into
//! service calls and sends the answers. Handlers translate and delegate;
//! the decisions are the service's. Answers go out through each chat's
//! queue ([`Outgoing`]): no handler waits for Telegram's limits.

mod outgoing;

use std::sync::Arc;

use backon::Retryable;
use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::Me;
use tracing::Instrument;

use crate::adapters::telegram::{self, TgBot};
use crate::domain::{ChatId, UserId};
use crate::service::{App, Button, Incoming, Reply, Tap, TapOutcome};

pub use outgoing::Outgoing;

/// The handler tree. Only new messages can command: edited messages and
/// channel posts have no branch, so they fall through unhandled (Telegram
/// is not asked for them, but updates queued before `allowed_updates`
/// took effect still arrive). An edit re-read as a command would run it
/// twice, or run what the chat never saw asked.
pub fn schema() -> UpdateHandler<anyhow::Error> {
    dptree::entry()
        .filter_async(first_sight)
        .branch(
            Update::filter_message()
                .filter_map(incoming)
                .endpoint(on_command),
        )
        .branch(Update::filter_callback_query().endpoint(on_tap))
}

/// An update is handled once, whoever receives it again (a restart
/// before its offset was confirmed, a webhook retried to another instance).
/// Noted before it is handled: one cut short by a crash is not redone;
/// its sender sees no answer and sends it again.
async fn first_sight(update: Update, app: Arc<App>) -> bool {
    match app.store.first_sight(i64::from(update.id.0)).await {
        Ok(true) => true,
        Ok(false) => {
            tracing::info!(
                update = update.id.0,
                "update seen before; not handled again"
            );
            false
        }
        Err(e) => {
            // Without the store nothing could be decided anyway; the
            // handlers answer so.
            tracing::warn!(error = %e, "update ledger unreachable");
            true
        }
    }
}

/// The span of a Telegram update's handling: every log line written in
/// it carries the update's id.
fn update_span(update: &Update) -> tracing::Span {
    tracing::info_span!("telegram_update", update_id = update.id.0)
}

async fn on_tap(
    update: Update,
    bot: TgBot,
    query: CallbackQuery,
    app: Arc<App>,
    outgoing: Arc<Outgoing>,
) -> anyhow::Result<()> {
    tap(bot, query, app, outgoing)
        .instrument(update_span(&update))
        .await
}

async fn tap(
    bot: TgBot,
    query: CallbackQuery,
    app: Arc<App>,
    outgoing: Arc<Outgoing>,
) -> anyhow::Result<()> {
    let Ok(user) = i64::try_from(query.from.id.0) else {
        return Ok(());
    };
    let tap = Tap {
        user: UserId(user),
        chat: query.message.as_ref().map(|m| m.chat().id.0),
        data: query.data.clone().unwrap_or_default(),
    };
    let outcome = app.current().tap(&tap).await;
    // The decision is made and stored; the answer only stops the
    // button's spinner. It goes out alongside the edit and the reply, not
    // before them: a tap Telegram calls too old, or an answer held off by
    // flood control, must not lose what the person sees in the chat.
    tokio::spawn({
        let (bot, id) = (bot.clone(), query.id.clone());
        let (text, alert) = (outcome.answer.text.clone(), outcome.answer.alert);
        async move {
            // The spinner stops by itself; a decision's outcome is in the
            // message it edits (this one, or the outbox's edit of its prompt).
            if let Err(e) = answer_tap(bot, id, text, alert).await {
                tracing::warn!(error = %e, "answering a tap failed");
            }
        }
    });
    if let Some(message) = &query.message {
        let chat = message.chat().id.0;
        let pacer = app.pacer.clone();
        outgoing.push(
            chat,
            Box::pin(async move {
                if let Err(e) = show_outcome(&bot, &pacer, &query, &outcome).await {
                    tracing::warn!(error = %e, "showing a tap's outcome failed");
                }
            }),
        );
    }
    Ok(())
}

/// Answers a tap, waiting out a moment's trouble but not a tap Telegram
/// calls too old, nor a hold-off longer than the tap lives.
async fn answer_tap(
    bot: TgBot,
    id: teloxide::types::CallbackQueryId,
    text: String,
    alert: bool,
) -> Result<(), teloxide::RequestError> {
    let answer = || telegram::answer_tap(&bot, id.clone(), &text, alert);
    answer
        .retry(answer_backoff().with_max_times(3))
        .when(telegram::answer_worth_retrying)
        .adjust(telegram::honour_retry_after)
        .await
}

/// The tap's edit of its message and its reply, when it has them.
async fn show_outcome(
    bot: &TgBot,
    pacer: &telegram::Pacer,
    query: &CallbackQuery,
    outcome: &TapOutcome,
) -> anyhow::Result<()> {
    let Some(message) = query.message.as_ref() else {
        return Ok(());
    };
    let chat = ChatId(message.chat().id.0);
    if let Some(edit) = &outcome.edit {
        let buttons = keyboard(&edit.buttons);
        telegram::edit_html(
            bot,
            pacer,
            chat,
            i64::from(message.id().0),
            &edit.html,
            buttons.as_ref(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("editing the dialogue: {e}"))?;
    }
    if let Some(reply) = &outcome.reply {
        let thread = message.regular_message().and_then(|m| m.thread_id);
        let buttons = keyboard(&reply.buttons);
        telegram::send_html(
            bot,
            pacer,
            chat,
            thread.map(|t| t.0.0),
            &reply.html,
            buttons.as_ref(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("answering the dialogue: {e}"))?;
    }
    Ok(())
}

/// The service's buttons as the Telegram adapter takes them.
fn keyboard(rows: &[Vec<Button>]) -> Option<telegram::Keyboard> {
    (!rows.is_empty()).then(|| {
        rows.iter()
            .map(|row| {
                row.iter()
                    .map(|b| (b.text.clone(), b.data.clone()))
                    .collect()
            })
            .collect()
    })
}

/// A text message from a person, as the service wants it.
fn incoming(msg: Message, me: Me) -> Option<Incoming> {
    let text = msg.text()?;
    if !text.trim_start().starts_with('/') {
        return None;
    }
    if !speaks_for_itself(&msg) {
        tracing::debug!(
            chat = msg.chat.id.0,
            "a forwarded, anonymous or channel message is not a command; ignored"
        );
        return None;
    }
    let from = msg.from.as_ref().filter(|u| !u.is_bot)?;
    let display = match &from.username {
        Some(username) => format!("{} (@{username})", from.full_name()),
        None => from.full_name(),
    };
    Some(Incoming {
        chat: ChatId(msg.chat.id.0),
        private: msg.chat.is_private(),
        user: UserId(i64::try_from(from.id.0).ok()?),
        user_display: display,
        text: text.to_owned(),
        bot_username: me.user.username.clone(),
        sent_at: msg.date,
    })
}

/// Whether the message was written, here and now, by the person in its
/// `from`: only then may it command. A forward carries someone's words
/// under the forwarder's id (or, from a linked channel, under Telegram's
/// own); a message sent on behalf of a chat (an anonymous admin, a
/// channel, a channel's post) has a stand-in `from` that names nobody
/// accountable. They are not audited either: anyone who can post in a
/// chat could fill the audit log with them.
fn speaks_for_itself(msg: &Message) -> bool {
    msg.forward_origin().is_none()
        && !msg.is_automatic_forward()
        && msg.sender_chat.is_none()
        && !msg.chat.is_channel()
}

async fn on_command(
    update: Update,
    bot: TgBot,
    msg: Message,
    incoming: Incoming,
    app: Arc<App>,
    outgoing: Arc<Outgoing>,
) -> anyhow::Result<()> {
    command(bot, msg, incoming, app, outgoing)
        .instrument(update_span(&update))
        .await
}

async fn command(
    bot: TgBot,
    msg: Message,
    incoming: Incoming,
    app: Arc<App>,
    outgoing: Arc<Outgoing>,
) -> anyhow::Result<()> {
    // One config for the answer and for whether the chat is left.
    let app = app.current();
    let reply = app.handle_message(&incoming).await;
    if let Some(reply) = reply {
        let pacer = app.pacer.clone();
        outgoing.push(
            incoming.chat.0,
            Box::pin(async move {
                if let Err(e) = answer(&bot, &pacer, &msg, &reply).await {
                    tracing::warn!(error = %e, "answering a command failed; given up");
                }
            }),
        );
    }
    if app.leaves_chat(&incoming) {
        outgoing.leave(incoming.chat);
    }
    Ok(())
}

/// Sends a command's answer as a reply to it.
async fn answer(
    bot: &TgBot,
    pacer: &telegram::Pacer,
    msg: &Message,
    reply: &Reply,
) -> Result<i64, teloxide::RequestError> {
    let buttons = keyboard(&reply.buttons);
    // The answer is all the person gets: Telegram failing for a moment
    // (5xx, a broken proxy, the network) is waited out, not the end of it.
    let send = || telegram::reply_html(bot, pacer, msg, &reply.html, buttons.as_ref());
    send.retry(answer_backoff())
        .when(telegram::is_transient)
        .adjust(telegram::honour_retry_after)
        .notify(
            |e, wait| tracing::warn!(error = %e, retry_in = ?wait, "answering a command failed"),
        )
        .await
}

/// How an answer is retried: 0.5 s, 1 s, 2 s, 4 s, 8 s.
fn answer_backoff() -> backon::ExponentialBuilder {
    backon::ExponentialBuilder::default()
        .with_min_delay(std::time::Duration::from_millis(500))
        .with_max_times(5)
}
