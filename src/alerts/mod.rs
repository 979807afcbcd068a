//! Alerts: events rendered to messages, routed to the chats that asked for
//! their kind (and environment), written to the outbox, and delivered from
//! there with retries. Later features only add events.

mod deliver;
pub mod format;

use crate::config::Config;
use crate::domain::{AlertKey, AlertKind, Env};
use crate::store::NewAlert;

pub use deliver::{Deliverer, RetryPolicy};

/// Something the team must hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A GitHub release was published (by the Release workflow or by hand).
    ReleasePublished {
        release_id: u64,
        tag: String,
        name: Option<String>,
        url: String,
        author: Option<String>,
        /// The checklist its `/release` was ticked through: each item and
        /// who ticked it (none for a release made another way).
        checklist: Vec<(String, String)>,
    },
}

/// An event as a message, before routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub kind: AlertKind,
    pub env: Option<Env>,
    /// Identifies the event: with the chat, the outbox de-duplication key.
    pub key: AlertKey,
    /// Telegram HTML.
    pub text: String,
}

/// Renders an event to its message.
pub fn render(event: &Event) -> Rendered {
    match event {
        Event::ReleasePublished {
            release_id,
            tag,
            name,
            url,
            author,
            checklist,
        } => {
            let mut text = crate::messages::alerts::release_published(
                tag,
                name.as_deref(),
                url,
                author.as_deref(),
            );
            text.push_str(&crate::messages::checklist::release_ticks(checklist));
            Rendered {
                kind: AlertKind::Release,
                env: None,
                key: AlertKey::release(*release_id),
                text,
            }
        }
    }
}

/// The outbox rows for one rendered event: one per chat that takes its
/// kind and, when it names environments, its environment.
pub fn route(config: &Config, rendered: &Rendered) -> Vec<NewAlert> {
    let loud = rings_on_call(config, &[rendered.kind], rendered.env.as_ref());
    route_as(config, rendered, loud)
}

fn rings_on_call(config: &Config, kinds: &[AlertKind], env: Option<&Env>) -> bool {
    let last = crate::domain::last_env(config.environments.keys());
    crate::domain::rings_on_call(kinds, env, last)
}

/// `route`, told whether the alert rings the on-call (`loud`).
fn route_as(config: &Config, rendered: &Rendered, loud: bool) -> Vec<NewAlert> {
    config
        .chats
        .iter()
        .filter(|chat| chat.takes(rendered.kind, rendered.env.as_ref()))
        .map(|chat| NewAlert {
            dedup_key: rendered.key.in_chat(chat.id).to_string(),
            kind: rendered.kind,
            env: rendered.env.clone(),
            chat: chat.id,
            thread_id: chat.thread_id,
            text: if loud {
                with_mentions(config, chat, &rendered.text)
            } else {
                rendered.text.clone()
            },
            buttons: None,
            edit_of: None,
            urgent: rendered.kind == AlertKind::Failure,
            diagnose: false,
        })
        .collect()
}

/// A loud alert mentions the chat's on-call users (a text mention by
/// id: it notifies them, with or without a username).
fn with_mentions(config: &Config, chat: &crate::config::ChatConfig, text: &str) -> String {
    if chat.mention_on_failure.is_empty() {
        return text.to_owned();
    }
    let on_call: Vec<(i64, &str)> = chat
        .mention_on_failure
        .iter()
        .filter_map(|id| config.user(*id))
        .map(|u| (u.id.0, u.name.as_str()))
        .collect();
    crate::messages::alerts::with_mentions(text, &on_call)
}

/// Routes one event under several kinds (a failed deploy is a failure
/// and a deployment event): each chat taking any of them gets it once,
/// and it rings the on-call in each whichever kind the chat takes it as.
pub fn route_kinds(
    config: &Config,
    kinds: &[AlertKind],
    env: Option<&Env>,
    key: &AlertKey,
    text: &str,
) -> Vec<NewAlert> {
    let loud = rings_on_call(config, kinds, env);
    let mut out: Vec<NewAlert> = Vec::new();
    for kind in kinds {
        let rendered = Rendered {
            kind: *kind,
            env: env.cloned(),
            key: key.clone(),
            text: text.to_owned(),
        };
        for mut alert in route_as(config, &rendered, loud) {
            if out.iter().all(|o| o.dedup_key != alert.dedup_key) {
                // A failure stays one in a chat that takes it as another kind.
                alert.urgent = kinds.contains(&AlertKind::Failure);
                out.push(alert);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
