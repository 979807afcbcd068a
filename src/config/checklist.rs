//! `[release] checklist`: the items a release's requester ticks before its
//! workflow is dispatched. Each is a string (asked of every release) or
//! `{ item = "…", when = "major" }` (asked of major releases only).

use serde::{Deserialize, Deserializer};

use super::validate::ConfigIssue;
use crate::domain::{ChecklistItem, ChecklistWhen, MAX_CHECKLIST_ITEM_CHARS, MAX_CHECKLIST_ITEMS};

/// One entry as written in `bot.toml`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Entry {
    Always(String),
    Table(Table),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    item: String,
    #[serde(default)]
    when: ChecklistWhen,
}

/// Reads `checklist`: strings and `{ item, when }` tables, in order.
pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ChecklistItem>, D::Error> {
    let entries = Vec::<Entry>::deserialize(d).map_err(|_| {
        serde::de::Error::custom(
            "each item is a string or { item = \"…\", when = \"always\" | \"major\" }",
        )
    })?;
    Ok(entries
        .into_iter()
        .map(|e| match e {
            Entry::Always(item) => ChecklistItem {
                item,
                when: ChecklistWhen::Always,
            },
            Entry::Table(t) => ChecklistItem {
                item: t.item,
                when: t.when,
            },
        })
        .collect())
}

/// What is wrong with a checklist: too many items for the buttons, an
/// empty, overlong or repeated item.
pub(super) fn issues(items: &[ChecklistItem]) -> Vec<ConfigIssue> {
    let mut issues = Vec::new();
    if items.len() > MAX_CHECKLIST_ITEMS {
        issues.push(ConfigIssue {
            path: "release.checklist".into(),
            reason: format!(
                "{} items; at most {MAX_CHECKLIST_ITEMS} (each is a button)",
                items.len()
            ),
        });
    }
    for (i, entry) in items.iter().enumerate() {
        let item = entry.item.trim();
        let reason = if item.is_empty() {
            "must not be empty".to_owned()
        } else if item.chars().count() > MAX_CHECKLIST_ITEM_CHARS {
            format!("is longer than {MAX_CHECKLIST_ITEM_CHARS} characters (it is a button's label)")
        } else if item != entry.item || item.contains('\n') {
            "must be one line without leading or trailing spaces".to_owned()
        } else if items[..i].iter().any(|other| other.item == entry.item) {
            format!("{item:?} is listed twice")
        } else {
            continue;
        };
        issues.push(ConfigIssue {
            path: format!("release.checklist[{i}]"),
            reason,
        });
    }
    issues
}
