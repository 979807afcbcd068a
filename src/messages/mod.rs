//! Every message the bot sends, one function per message, returning the text (Telegram HTML unless the function says otherwise); each pinned by an insta snapshot in its module's tests.

pub mod act;
pub mod alerts;
pub mod approvals;
pub mod autorollback;
pub mod checklist;
pub mod common;
pub mod deployments;
pub mod diagnosis;
pub mod direct;
pub mod doctor;
pub mod freeze;
pub mod gates;
pub mod guide;
pub mod health;
pub mod help;
pub mod history;
pub mod incident;
pub mod init;
pub mod locks;
pub mod mutes;
pub mod qa;
pub mod releases;
pub mod requests;
pub mod secrets;
pub mod stats;
pub mod status;
pub mod story;
#[cfg(test)]
mod testing;
