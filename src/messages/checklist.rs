//! The release checklist's messages: the `/release` prompt with GitHub's
//! generated release notes and one button per item, the answers to a
//! tick, and the edit once every item is ticked.

use super::releases::{asked, head};
use crate::adapters::fit::{MAX_MESSAGE, fit, shown};
use crate::alerts::format::{clip, escape, link};
use crate::domain::{ReleaseType, Version};

/// The most of the release notes a prompt shows, in characters as
/// Telegram counts them: the prompt is read in a chat, the whole notes
/// are a link away.
pub const NOTES_MAX: usize = 1500;

/// The release notes a prompt shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notes<'a> {
    /// GitHub's generated notes (markdown), what they cover (the previous
    /// tag), and the page with all the changes (for notes cut short).
    Generated {
        markdown: &'a str,
        since: Option<&'a str>,
        all_changes: Option<&'a str>,
    },
    /// GitHub could not generate them: why, in one line.
    Unavailable(&'a str),
}

/// Markdown as Telegram HTML: headings and strong text bold, emphasis
/// italic, code as code, list items as `•` lines, web links kept; HTML
/// blocks (GitHub's notes open with a comment), images and the like left
/// out, HTML within a line shown as text. Everything shown is escaped.
pub fn notes_html(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut out = String::new();
    let mut links = Vec::new();
    let mut depth: usize = 0;
    let text = |t: &str| escape(t).replace('{', "&#123;");
    for event in Parser::new(markdown) {
        match event {
            Event::Start(Tag::Heading { .. } | Tag::Strong) => out.push_str("<b>"),
            Event::End(TagEnd::Heading(_)) => out.push_str("</b>\n"),
            Event::End(TagEnd::Strong) => out.push_str("</b>"),
            Event::Start(Tag::Emphasis) => out.push_str("<i>"),
            Event::End(TagEnd::Emphasis) => out.push_str("</i>"),
            Event::Start(Tag::List(_)) => depth += 1,
            Event::End(TagEnd::List(_)) => depth = depth.saturating_sub(1),
            Event::Start(Tag::Item) => {
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str(&"  ".repeat(depth.saturating_sub(1)));
                out.push_str("• ");
            }
            Event::End(TagEnd::Item | TagEnd::Paragraph | TagEnd::CodeBlock) => out.push('\n'),
            Event::Start(Tag::Link { dest_url, .. }) => {
                let web = dest_url.starts_with("https://") || dest_url.starts_with("http://");
                if web {
                    out.push_str(&format!("<a href=\"{}\">", text(&dest_url)));
                }
                links.push(web);
            }
            Event::End(TagEnd::Link) => {
                let opened = links.pop() == Some(true);
                out.push_str(if opened { "</a>" } else { "" });
            }
            Event::Text(t) => out.push_str(&text(&t)),
            // A PR title's `<Button>` is words, not markup: shown as
            // written (a comment is not).
            Event::InlineHtml(t) if !t.starts_with("<!--") => out.push_str(&text(&t)),
            Event::Code(t) => out.push_str(&format!("<code>{}</code>", text(&t))),
            Event::SoftBreak | Event::HardBreak => out.push('\n'),
            _ => {}
        }
    }
    // One blank line at most between blocks, none around.
    let mut lines: Vec<&str> = Vec::new();
    for line in out.lines().map(str::trim_end) {
        if !(line.is_empty() && lines.last().is_none_or(|l| l.is_empty())) {
            lines.push(line);
        }
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

/// The notes' part of a prompt, cut to `budget` characters (with a link
/// to all the changes when cut).
fn notes_part(notes: &Notes<'_>, budget: usize) -> String {
    match *notes {
        Notes::Unavailable(why) => format!(
            "📝 Release notes: GitHub could not generate them ({}).",
            escape(&clip(why, 120))
        ),
        Notes::Generated {
            markdown,
            since,
            all_changes,
        } => {
            let body = notes_html(markdown);
            if body.is_empty() {
                return "📝 Release notes: GitHub generated none.".into();
            }
            let title = match since {
                Some(tag) => format!("📝 <b>Release notes</b> since {}:\n", escape(tag)),
                None => "📝 <b>Release notes</b>:\n".to_owned(),
            };
            let more = all_changes
                .map(|url| format!("\n{}", link(url, "All changes")))
                .unwrap_or_default();
            let budget = budget.saturating_sub(shown(&title) + shown(&more));
            if shown(&body) <= budget {
                format!("{title}{body}")
            } else {
                format!("{title}{}{more}", fit(&body, budget))
            }
        }
    }
}

/// The `/release` prompt of a release with a checklist (`{op}` stands for
/// its id): the checks, GitHub's release notes, and what to tick;
/// `confirm` when the bump does not fit, so "Release anyway" decides once
/// every item is ticked. The whole fits one Telegram message.
pub fn prompt(
    version: &Version,
    kind: ReleaseType,
    checks: &str,
    notes: &Notes<'_>,
    confirm: bool,
) -> String {
    let sign = if confirm { "⚠️" } else { "📋" };
    let top = format!(
        "{sign} {} · #{{op}}\n{checks}\n\n",
        head(&version.to_string(), kind.as_str())
    );
    let bottom = if confirm {
        "\n\n☑️ Tick each item when it is done, then ⚠️ Release anyway if the bump is meant."
    } else {
        "\n\n☑️ Tick each item when it is done: the release starts when all are ticked."
    };
    // (The id that replaces `{op}` takes up to 19 characters more.)
    let room = MAX_MESSAGE.saturating_sub(shown(&top) + shown(bottom) + 19);
    format!("{top}{}{bottom}", notes_part(notes, room.min(NOTES_MAX)))
}

/// What a dry run adds when the release would ask its checklist.
pub fn dry_run_asks(items: &[String]) -> String {
    format!("\n☑️ You would tick first: {}.", escape(&items.join(" · ")))
}

/// A checklist item's button (plain text), ticked or not.
pub fn item_label(item: &str, ticked: bool) -> String {
    format!("{} {item}", if ticked { "✅" } else { "⬜" })
}

/// The prompt once every item is ticked: the release goes ahead.
pub fn checked(
    version: &str,
    kind: Option<ReleaseType>,
    id: i64,
    by: &str,
    items: &[String],
) -> String {
    format!(
        "📋 {}\n☑️ Ticked by {}: {}.\nDispatching the Release workflow.",
        asked(version, kind, id),
        escape(by),
        escape(&items.join(" · "))
    )
}

/// The prompt once every item is ticked, but the checks run again no
/// longer pass (`why`: the checks or the reason they could not run, HTML).
pub fn checked_but_refused(
    version: &str,
    kind: Option<ReleaseType>,
    id: i64,
    by: &str,
    why: &str,
) -> String {
    format!(
        "⛔ {}\nTicked by {}, but the checks no longer pass:\n{why}",
        asked(version, kind, id),
        escape(by)
    )
}

/// The answer to a tick with items left (plain text).
pub fn ticked_answer(left: usize) -> String {
    match left {
        1 => "Ticked. 1 item left.".into(),
        n => format!("Ticked. {n} items left."),
    }
}

/// The answer to the last tick (plain text).
pub fn all_ticked_answer() -> String {
    "All ticked. Dispatching the Release workflow.".into()
}

/// The answer to the last tick of a release whose bump does not fit
/// (plain text).
pub fn confirm_after_ticks() -> String {
    "All ticked. Tap ⚠️ Release anyway if the bump is meant.".into()
}

/// The answer to a tick of an item ticked already (plain text).
pub fn already_ticked() -> String {
    "Already ticked.".into()
}

/// The answer to a tick once the release no longer waits for it (plain
/// text).
pub fn checklist_closed() -> String {
    "Too late: this release was already answered, cancelled or expired.".into()
}

/// The answer to "Release anyway" with items left to tick (plain text).
pub fn tick_first(left: usize) -> String {
    match left {
        1 => "Tick the checklist first: 1 item left.".into(),
        n => format!("Tick the checklist first: {n} items left."),
    }
}

/// The lines a "Release created" alert gets for the checklist its
/// release was ticked through: each item, with who ticked it.
pub fn release_ticks(ticks: &[(String, String)]) -> String {
    ticks
        .iter()
        .map(|(item, by)| format!("\n☑️ {} ({})", escape(item), escape(by)))
        .collect()
}

#[cfg(test)]
mod tests;
