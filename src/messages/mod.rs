//! Every message the bot sends, one function per message, returning the text (Telegram HTML unless the function says otherwise); each pinned by an insta snapshot in its module's tests.

pub mod direct;
pub mod qa;
pub mod story;
