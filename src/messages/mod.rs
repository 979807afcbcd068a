//! Every message the bot sends, one function per message, returning the text (Telegram HTML unless the function says otherwise); each pinned by an insta snapshot in its module's tests.

pub mod alerts;
pub mod approvals;
pub mod common;
pub mod guide;
pub mod health;
pub mod help;
pub mod history;
pub mod incident;
pub mod locks;
pub mod mutes;
pub mod releases;
pub mod requests;
pub mod stats;
pub mod status;
#[cfg(test)]
mod testing;
