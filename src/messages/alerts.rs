//! Alerts that are not one operation's story: a release published, and
//! the line that rings the on-call under a loud alert.

use crate::alerts::format::{escape, link};

/// A GitHub release was published (by the Release workflow or by hand);
/// its name is shown when it says more than the tag.
pub fn release_published(tag: &str, name: Option<&str>, url: &str, author: Option<&str>) -> String {
    let mut text = format!("📦 <b>Release {}</b> created", escape(tag));
    if let Some(name) = name.filter(|n| !n.is_empty() && *n != tag) {
        text.push_str(&format!(": {}", escape(name)));
    }
    if let Some(author) = author {
        text.push_str(&format!(" by {}", escape(author)));
    }
    text.push_str(&format!("\n{}", link(url, "Release notes and changelog")));
    text
}

/// `text` with its chat's on-call users mentioned under it: (id, name),
/// a text mention by id, which notifies with or without a username.
pub fn with_mentions(text: &str, on_call: &[(i64, &str)]) -> String {
    let names: Vec<String> = on_call
        .iter()
        .map(|(id, name)| format!("<a href=\"tg://user?id={id}\">{}</a>", escape(name)))
        .collect();
    format!("{text}\n🔔 {}", names.join(" "))
}

#[cfg(test)]
mod tests;
