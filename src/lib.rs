//! aletheia-bot: a Telegram ChatOps bot that runs a team's release process.
//!
//! Layers, by what they talk to (DESIGN.md, "Architecture"):
//! - [`domain`]: the pure core (parsing, versions, policy, state machine);
//! - [`service`]: the one place where state changes;
//! - [`store`]: all SQL (SQLite or PostgreSQL);
//! - [`adapters`]: the only code that speaks to GitHub, ECS and Telegram;
//! - [`alerts`]: events to messages, routed and delivered from the outbox;
//! - [`telegram`]: the handler tree that turns updates into service calls;
//! - [`http`]: webhook, health and metrics server;
//! - [`config`]: `bot.toml` and the secrets from the environment;
//! - [`init`]: the first `bot.toml`, written from GitHub and ECS.
//! - [`reload`]: `bot.toml` read again while the bot runs (`SIGHUP`).

pub mod adapters;
pub mod alerts;
pub mod check;
pub mod config;
pub mod domain;
pub mod http;
pub mod init;
pub mod leader;
pub mod messages;
pub mod metrics;
pub mod reload;
pub mod run;
pub mod service;
pub mod store;
pub mod telegram;
