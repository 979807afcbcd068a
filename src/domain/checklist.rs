//! The release checklist: the process's items no API can check
//! ("Documentation updated", …), which a `/release` asks its requester to
//! tick before the Release workflow is dispatched. Which items a release
//! asks depends on its type (some only for a major release).

use serde::Deserialize;

use super::ReleaseType;

/// The most items a release asks: each is a button, and a button's data
/// names its item by one digit.
pub const MAX_CHECKLIST_ITEMS: usize = 8;

/// The longest item, in characters: it is a button's label.
pub const MAX_CHECKLIST_ITEM_CHARS: usize = 60;

/// Which releases ask an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChecklistWhen {
    /// Every release.
    #[default]
    Always,
    /// Major releases only.
    Major,
}

/// One item of the checklist, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistItem {
    pub item: String,
    pub when: ChecklistWhen,
}

impl ChecklistItem {
    pub fn always(item: &str) -> Self {
        Self {
            item: item.to_owned(),
            when: ChecklistWhen::Always,
        }
    }

    pub fn major(item: &str) -> Self {
        Self {
            item: item.to_owned(),
            when: ChecklistWhen::Major,
        }
    }
}

/// The pre-release items of the release process that no API can check.
pub fn process_checklist() -> Vec<ChecklistItem> {
    vec![
        ChecklistItem::always("Documentation updated"),
        ChecklistItem::always("Dependencies reviewed"),
        ChecklistItem::major("Breaking changes documented"),
    ]
}

/// The items a release of type `kind` asks, in the configured order.
pub fn checklist_for(items: &[ChecklistItem], kind: ReleaseType) -> Vec<String> {
    items
        .iter()
        .filter(|i| i.when == ChecklistWhen::Always || kind == ReleaseType::Major)
        .map(|i| i.item.clone())
        .collect()
}

/// An item of a release's checklist as stored: its place, its text, and
/// who ticked it (a Telegram user id) and when (Unix ms), once ticked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    pub position: usize,
    pub item: String,
    pub ticked_by: Option<super::UserId>,
    pub ticked_at: Option<i64>,
}

/// How many of `items` are still unticked.
pub fn unticked(items: &[Tick]) -> usize {
    items.iter().filter(|i| i.ticked_by.is_none()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minor_release_asks_what_every_release_asks() {
        let items = process_checklist();
        assert_eq!(
            checklist_for(&items, ReleaseType::Minor),
            ["Documentation updated", "Dependencies reviewed"]
        );
        assert_eq!(
            checklist_for(&items, ReleaseType::Patch),
            ["Documentation updated", "Dependencies reviewed"]
        );
    }

    #[test]
    fn a_major_release_asks_for_its_breaking_changes_too() {
        assert_eq!(
            checklist_for(&process_checklist(), ReleaseType::Major),
            [
                "Documentation updated",
                "Dependencies reviewed",
                "Breaking changes documented"
            ]
        );
        assert!(checklist_for(&[], ReleaseType::Major).is_empty());
    }

    #[test]
    fn unticked_counts_what_nobody_ticked() {
        let tick = |position, by: Option<i64>| Tick {
            position,
            item: format!("item {position}"),
            ticked_by: by.map(super::super::UserId),
            ticked_at: by.map(|_| 1),
        };
        assert_eq!(unticked(&[tick(0, Some(1)), tick(1, None)]), 1);
        assert_eq!(unticked(&[tick(0, Some(1))]), 0);
    }
}
