//! Telegram: the one way out to the Bot API. The real teloxide client; every
//! message and edit first waits its turn on the shared [`Pacer`], which
//! keeps Telegram's per-chat, per-group and overall limits. The base URL
//! comes from config.

use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, CallbackQueryId, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions,
    MessageId, ParseMode, ReplyParameters, ThreadId,
};
use teloxide::{ApiError, RequestError};

use crate::adapters::fit::{MAX_MESSAGE, MAX_TAP_ANSWER, clip_units, fit};
pub use crate::adapters::pacer::{Message, Pacer};
use crate::config::{Secret, TelegramConfig};
use crate::domain::{COMMANDS, ChatId};

/// The bot client every part of aletheia-bot shares. Not teloxide's
/// `Throttle`: it lets a queued message out only on its next pass, a
/// quarter of a second apart, and holds a private chat to 20 messages a
/// minute, which Telegram does not; the [`Pacer`] waits to the instant.
pub type TgBot = Bot;

/// Builds the client.
pub fn build(config: &TelegramConfig, token: &Secret) -> Result<TgBot, String> {
    let client = teloxide::net::default_reqwest_settings()
        // Long polling holds a request open for the poll timeout; allow it.
        .timeout(Duration::from_secs(
            u64::from(config.poll_timeout_secs) + 15,
        ))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    Ok(Bot::with_client(token.expose(), client).set_api_url(config.api_url.clone()))
}

/// Why a message could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Telegram asked to wait; not the message's fault.
    #[error("rate limited: retry after {0:?}")]
    RetryAfter(Duration),
    /// Telegram will never accept this (chat gone, bot kicked, bad HTML).
    #[error("refused by Telegram: {0}")]
    Permanent(String),
    /// Not tried: what it depends on (the message an edit edits) is not
    /// out yet. Neither an attempt nor a retry.
    #[error("waiting for the message to edit")]
    Waiting(Duration),
    /// Network trouble or a 5xx: worth another try.
    #[error("{0}")]
    Transient(String),
}

impl From<RequestError> for SendError {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::RetryAfter(secs) => SendError::RetryAfter(secs.duration()),
            RequestError::Api(
                api @ (ApiError::BotBlocked
                | ApiError::ChatNotFound
                | ApiError::BotKicked
                | ApiError::BotKickedFromSupergroup
                | ApiError::UserDeactivated
                | ApiError::CantParseEntities(_)
                | ApiError::MessageTextIsEmpty
                | ApiError::MessageIsTooLong),
            ) => SendError::Permanent(api.to_string()),
            RequestError::MigrateToChatId(id) => {
                SendError::Permanent(format!("group moved to supergroup {id}; update bot.toml"))
            }
            other => SendError::Transient(other.to_string().chars().take(300).collect()),
        }
    }
}

/// Whether a request failed for a moment (network, a 5xx, a proxy's
/// page, rate limited) rather than for good.
pub fn is_transient(e: &RequestError) -> bool {
    matches!(
        e,
        RequestError::Network(_)
            | RequestError::Io(_)
            | RequestError::InvalidJson { .. }
            | RequestError::RetryAfter(_)
            | RequestError::Api(ApiError::Unknown(_))
    )
}

/// Whether Telegram refused a tap's answer because the tap is too old
/// (about 15 s) or its id unknown: asking again is refused again.
/// Telegram writes "query ID"; teloxide only knows "query id", so the
/// real text arrives as an unknown error.
pub fn is_expired_tap(e: &RequestError) -> bool {
    match e {
        RequestError::Api(ApiError::InvalidQueryId) => true,
        RequestError::Api(ApiError::Unknown(text)) => text.contains("query is too old"),
        _ => false,
    }
}

/// Whether a tap's answer that failed with `e` may succeed if sent again.
pub fn answer_worth_retrying(e: &RequestError) -> bool {
    is_transient(e) && !is_expired_tap(e)
}

/// The longest flood-control hold-off an answer waits out. An answer
/// waits in its chat's turn (the chat's next answers wait behind it), and
/// a button's answer expires at Telegram after about 15 s: past this the
/// answer is given up, said in the log.
pub const LONGEST_HOLD_OFF: Duration = Duration::from_secs(10);

/// The wait before retrying after `e`: the backoff's, or longer when
/// Telegram said how long to hold off (flood control's `retry_after`); a
/// retry sooner is refused again and may lengthen the ban. A hold-off
/// longer than [`LONGEST_HOLD_OFF`] ends the retries, as does a spent
/// backoff (`None`).
pub fn honour_retry_after(e: &RequestError, backoff: Option<Duration>) -> Option<Duration> {
    match e {
        RequestError::RetryAfter(secs) if secs.duration() > LONGEST_HOLD_OFF => None,
        RequestError::RetryAfter(secs) => backoff.map(|d| d.max(secs.duration())),
        _ => backoff,
    }
}

/// Rows of (label, callback data).
pub type Keyboard = Vec<Vec<(String, String)>>;

pub fn inline_keyboard(rows: &Keyboard) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(rows.iter().map(|row| {
        row.iter()
            .map(|(text, data)| InlineKeyboardButton::callback(text.clone(), data.clone()))
            .collect::<Vec<_>>()
    }))
}

fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

/// Sends an HTML message, with buttons if any; returns its message id.
pub async fn send_html(
    bot: &TgBot,
    pacer: &Pacer,
    chat: ChatId,
    thread_id: Option<i32>,
    text: &str,
    buttons: Option<&Keyboard>,
) -> Result<i64, SendError> {
    let mut request = bot
        .send_message(teloxide::types::ChatId(chat.0), fit(text, MAX_MESSAGE))
        .parse_mode(ParseMode::Html)
        .link_preview_options(no_preview());
    if let Some(thread) = thread_id {
        request = request.message_thread_id(ThreadId(MessageId(thread)));
    }
    if let Some(rows) = buttons {
        request = request.reply_markup(inline_keyboard(rows));
    }
    let _sent = pacer.ready(chat.0, Message::New).await;
    let message = request.await?;
    Ok(i64::from(message.id.0))
}

/// Answers a person's message in its chat (and forum topic), as a reply
/// to it; returns the answer's message id.
pub async fn reply_html(
    bot: &TgBot,
    pacer: &Pacer,
    to: &teloxide::types::Message,
    text: &str,
    buttons: Option<&Keyboard>,
) -> Result<i64, RequestError> {
    let _sent = pacer.ready(to.chat.id.0, Message::New).await;
    let mut request = bot
        .send_message(to.chat.id, fit(text, MAX_MESSAGE))
        .parse_mode(ParseMode::Html)
        .reply_parameters(ReplyParameters::new(to.id).allow_sending_without_reply());
    if let Some(thread) = to.thread_id {
        request = request.message_thread_id(thread);
    }
    if let Some(rows) = buttons {
        request = request.reply_markup(inline_keyboard(rows));
    }
    let message = request.await?;
    Ok(i64::from(message.id.0))
}

/// Replaces a message's text and buttons (none: the buttons go).
pub async fn edit_html(
    bot: &TgBot,
    pacer: &Pacer,
    chat: ChatId,
    message_id: i64,
    text: &str,
    buttons: Option<&Keyboard>,
) -> Result<(), SendError> {
    let id = MessageId(
        i32::try_from(message_id)
            .map_err(|_| SendError::Permanent("message id out of range".into()))?,
    );
    let request = bot
        .edit_message_text(teloxide::types::ChatId(chat.0), id, fit(text, MAX_MESSAGE))
        .parse_mode(ParseMode::Html)
        .link_preview_options(no_preview())
        .reply_markup(inline_keyboard(buttons.unwrap_or(&Vec::new())));
    let _sent = pacer.ready(chat.0, Message::Edit).await;
    match request.await {
        Ok(_) => Ok(()),
        // Already showing this text: the edit is done.
        Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Answers a button tap; `alert` shows it as a dialog to dismiss.
pub async fn answer_tap(
    bot: &TgBot,
    id: CallbackQueryId,
    text: &str,
    alert: bool,
) -> Result<(), RequestError> {
    // Telegram refuses answers over 200 characters (UTF-16 code units):
    // the person would see nothing.
    bot.answer_callback_query(id)
        .text(clip_units(text, MAX_TAP_ANSWER))
        .show_alert(alert)
        .await?;
    Ok(())
}

/// Leaves a group (`leaveChat`).
pub async fn leave_chat(bot: &TgBot, chat: ChatId) -> Result<(), RequestError> {
    bot.leave_chat(teloxide::types::ChatId(chat.0)).await?;
    Ok(())
}

/// Publishes the command menu (`setMyCommands`).
pub async fn set_commands(bot: &TgBot) -> Result<(), RequestError> {
    let commands: Vec<BotCommand> = COMMANDS
        .iter()
        .filter(|c| c.available)
        .map(|c| BotCommand::new(c.name, c.description))
        .collect();
    bot.set_my_commands(commands).await?;
    Ok(())
}

/// Points Telegram at the bot's webhook (`setWebhook`), with the secret
/// token it must send along; only messages and button taps.
pub async fn set_webhook(bot: &TgBot, url: url::Url, secret: &Secret) -> Result<(), RequestError> {
    use teloxide::types::AllowedUpdate;
    bot.set_webhook(url)
        .secret_token(secret.expose().to_owned())
        .allowed_updates(vec![AllowedUpdate::Message, AllowedUpdate::CallbackQuery])
        .await?;
    Ok(())
}

/// The bot's own username (`getMe`), for `check --online`.
pub async fn username(bot: &TgBot) -> Result<String, RequestError> {
    let me = bot.get_me().await?;
    Ok(me.username().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use teloxide::types::Seconds;

    #[test]
    fn flood_control_sets_the_wait_up_to_a_limit() {
        let held = |s| RequestError::RetryAfter(Seconds::from_seconds(s));
        let half = Some(Duration::from_millis(500));
        // Longer than the backoff: Telegram's wait.
        assert_eq!(
            honour_retry_after(&held(2), half),
            Some(Duration::from_secs(2))
        );
        // Shorter: the backoff's.
        let four = Some(Duration::from_secs(4));
        assert_eq!(honour_retry_after(&held(1), four), four);
        // Past the longest hold-off, or with the backoff spent: no retry.
        assert_eq!(honour_retry_after(&held(11), half), None);
        assert_eq!(honour_retry_after(&held(2), None), None);
        // Other errors keep the backoff.
        let other = RequestError::Api(ApiError::Unknown("Bad Gateway".into()));
        assert_eq!(honour_retry_after(&other, half), half);
    }

    #[test]
    fn an_answer_to_a_tap_too_old_is_not_asked_again() {
        // Telegram's text, which teloxide does not recognise ("ID").
        let too_old = RequestError::Api(ApiError::Unknown(
            "Bad Request: query is too old and response timeout expired or query ID is invalid"
                .into(),
        ));
        assert!(!answer_worth_retrying(&too_old));
        assert!(!answer_worth_retrying(&RequestError::Api(
            ApiError::InvalidQueryId
        )));
        // A moment's trouble is still waited out.
        let gateway = RequestError::Api(ApiError::Unknown("Bad Gateway".into()));
        assert!(answer_worth_retrying(&gateway));
        let held = RequestError::RetryAfter(Seconds::from_seconds(2));
        assert!(answer_worth_retrying(&held));
    }
}
