//! The release checklist (`[release] checklist`, by default the release
//! process's items): the `/release` prompt shows GitHub's generated notes
//! and a button per item; only the requester ticks; the last tick
//! dispatches the release once; the ticks are in the audit log and the
//! "Release created" alert.

use crate::support::github::{post_signed_webhook, release_published};
use crate::support::*;

/// A seeded world (latest release v1.2.3, main green) whose bot runs the
/// shipped checklist.
async fn world(notes: Option<&str>) -> World {
    let mut world = World::new().await;
    world.release_toml = "";
    world.seed().await;
    if let Some(notes) = notes {
        world.gh.set_release_notes(notes);
    }
    world.start_bot().await;
    world
}

const NOTES: &str = "<!-- Release notes generated using configuration in .github/release.yml at main -->\n\n\
## What's Changed\n* Faster <b>status</b> by @ann in https://github.com/mindburn-labs/aletheia/pull/7\n\n\
**Full Changelog**: https://github.com/mindburn-labs/aletheia/compare/v1.2.3...v1.3.0";

fn labels(sent: &crate::support::telegram::Sent) -> Vec<(String, String)> {
    sent.buttons.concat()
}

fn button(label: &str, data: &str) -> (String, String) {
    (label.to_owned(), data.to_owned())
}

#[tokio::test]
async fn a_minor_release_is_dispatched_once_its_checklist_is_ticked() {
    let world = world(Some(NOTES)).await;
    let dry = world
        .say(TEAM_CHAT, &ALICE, "/release 1.3.0 minor --dry-run")
        .await;
    assert!(
        dry.text.ends_with(
            "Nothing was dispatched.\n☑️ You would tick first: Documentation updated · Dependencies reviewed."
        ),
        "{}",
        dry.text
    );
    let prompt = world.say(TEAM_CHAT, &ALICE, "/release 1.3.0 minor").await;
    assert_eq!(
        prompt.text,
        "📋 <b>Release 1.3.0 (minor)</b> · #1\n✅ CI: main is green\n\
         ✅ New version: 1.3.0 is newer than 1.2.3\n✅ Fits the bump: 1.2.3 + minor = 1.3.0\n\n\
         📝 <b>Release notes</b> since v1.2.3:\n<b>What's Changed</b>\n\
         • Faster &lt;b&gt;status&lt;/b&gt; by @ann in https://github.com/mindburn-labs/aletheia/pull/7\n\
         <b>Full Changelog</b>: https://github.com/mindburn-labs/aletheia/compare/v1.2.3...v1.3.0\n\n\
         ☑️ Tick each item when it is done: the release starts when all are ticked."
    );
    // A minor release: no breaking-changes item.
    assert_eq!(
        labels(&prompt),
        [
            button("⬜ Documentation updated", "c:1:0"),
            button("⬜ Dependencies reviewed", "c:1:1"),
            button("Cancel", "r:1:n"),
        ]
    );
    let asked = world.gh.notes_requests();
    assert_eq!(
        asked,
        [
            serde_json::json!({"tag_name": "v1.3.0", "target_commitish": "main", "previous_tag_name": "v1.2.3"})
        ]
    );

    // Only Alice ticks her release's checklist.
    let tap = world.tg.user_taps(&prompt, BOB.id, BOB.name, "c:1:0");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Only Alice can answer this.".to_owned(), true)
    );
    let tap = world.tg.user_taps(&prompt, ALICE.id, ALICE.name, "c:1:0");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Ticked. 1 item left.".to_owned(), false)
    );
    let ticked = world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.buttons.concat()[0].0 == "✅ Documentation updated"
        })
        .await;
    assert_eq!(ticked.text, prompt.text);
    assert_eq!(
        labels(&ticked),
        [
            button("✅ Documentation updated", "c:1:0"),
            button("⬜ Dependencies reviewed", "c:1:1"),
            button("Cancel", "r:1:n"),
        ]
    );
    // Ticking again changes nothing; nothing is dispatched yet.
    let tap = world.tg.user_taps(&prompt, ALICE.id, ALICE.name, "c:1:0");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Already ticked.".to_owned(), false)
    );
    assert!(world.gh.dispatches().is_empty());

    let tap = world.tg.user_taps(&prompt, ALICE.id, ALICE.name, "c:1:1");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "All ticked. Dispatching the Release workflow.".to_owned(),
            false
        )
    );
    let dispatches = world.gh.dispatches();
    assert_eq!(dispatches.len(), 1);
    assert_eq!(dispatches[0].0, "release.yml");
    assert_eq!(dispatches[0].1["inputs"]["version"], "1.3.0");
    assert_eq!(dispatches[0].1["inputs"]["release_type"], "minor");
    let started = world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text
                .starts_with("🚀 <b>Release 1.3.0</b> (minor) started (#1)")
        })
        .await;
    assert!(
        started.edits.contains(
            &"📋 <b>Release 1.3.0 (minor)</b> · #1\n☑️ Ticked by Alice: Documentation updated · \
              Dependencies reviewed.\nDispatching the Release workflow."
                .to_owned()
        ),
        "{:?}",
        started.edits
    );
    // A tap on the answered prompt moves nothing.
    let tap = world.tg.user_taps(&prompt, ALICE.id, ALICE.name, "c:1:1");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Too late: this request is already dispatched.".to_owned(),
            true
        )
    );
    assert_eq!(world.gh.dispatches().len(), 1);

    // The audit log has each tick, by whom, the approval they made, and
    // the taps refused.
    let audit = world.store().await.audit_of(&[1]).await.unwrap();
    let ticks: Vec<(Option<i64>, &str, &str)> = audit
        .iter()
        .filter(|a| a.action == "tap:tick")
        .map(|a| (a.actor, a.outcome.as_str(), a.detail.as_str()))
        .collect();
    assert_eq!(
        ticks,
        [
            (
                Some(BOB.id),
                "refused:not_the_requester",
                "Only Alice can answer this."
            ),
            (Some(ALICE.id), "ticked", "Documentation updated"),
            (Some(ALICE.id), "ticked", "Dependencies reviewed"),
            (
                Some(ALICE.id),
                "approved",
                "Documentation updated; Dependencies reviewed"
            ),
            (
                Some(ALICE.id),
                "refused:already_decided",
                "Too late: this request is already dispatched."
            ),
        ]
    );

    // The workflow publishes the release: its alert lists the ticks.
    world.gh.add_release("v1.3.0");
    let sent = post_signed_webhook(
        &world.bot_url(),
        "release",
        "r-1",
        &release_published(3, "v1.3.0"),
    )
    .await;
    assert!(sent.status().is_success());
    let alert = world.tg.next_message(TEAM_CHAT).await;
    assert!(
        alert.text.starts_with("📦 <b>Release v1.3.0</b> created"),
        "{}",
        alert.text
    );
    assert!(
        alert
            .text
            .ends_with("\n☑️ Documentation updated (Alice)\n☑️ Dependencies reviewed (Alice)"),
        "{}",
        alert.text
    );
}

#[tokio::test]
async fn a_major_release_asks_for_breaking_changes_without_notes_and_across_a_restart() {
    let mut world = world(None).await;
    // GitHub cannot generate the notes now.
    world
        .gh
        .fail("/repos/mindburn-labs/aletheia/releases/generate-notes", 502);
    // 3.0.0 does not fit the bump (1.2.3 + major = 2.0.0).
    let prompt = world.say(TEAM_CHAT, &ALICE, "/release 3.0.0 major").await;
    assert_eq!(
        prompt.text,
        "⚠️ <b>Release 3.0.0 (major)</b> · #1\n✅ CI: main is green\n\
         ✅ New version: 3.0.0 is newer than 1.2.3\n❌ Fits the bump: 1.2.3 + major = 2.0.0, not 3.0.0\n\n\
         📝 Release notes: GitHub could not generate them (GitHub answered 502: Server Error).\n\n\
         ☑️ Tick each item when it is done, then ⚠️ Release anyway if the bump is meant."
    );
    assert_eq!(
        labels(&prompt),
        [
            button("⬜ Documentation updated", "c:1:0"),
            button("⬜ Dependencies reviewed", "c:1:1"),
            button("⬜ Breaking changes documented", "c:1:2"),
            button("⚠️ Release anyway", "r:1:y"),
            button("Cancel", "r:1:n"),
        ]
    );
    // "Release anyway" waits for the checklist.
    let tap = world.tg.user_taps(&prompt, ALICE.id, ALICE.name, "r:1:y");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Tick the checklist first: 3 items left.".to_owned(), true)
    );
    let tap = world.tg.user_taps(&prompt, ALICE.id, ALICE.name, "c:1:2");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Ticked. 2 items left.".to_owned(), false)
    );
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.buttons.concat()[2].0 == "✅ Breaking changes documented"
        })
        .await;

    // The ticks are stored: a restart keeps them.
    world.restart_bot().await;
    for (item, answer) in [
        ("c:1:0", "Ticked. 1 item left."),
        (
            "c:1:1",
            "All ticked. Tap ⚠️ Release anyway if the bump is meant.",
        ),
    ] {
        let tap = world.tg.user_taps(&prompt, ALICE.id, ALICE.name, item);
        assert_eq!(world.tg.tap_answer(&tap).await, (answer.to_owned(), false));
    }
    let ticked = world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.buttons
                .concat()
                .iter()
                .filter(|b| b.0.starts_with('✅'))
                .count()
                == 3
        })
        .await;
    assert_eq!(ticked.text, prompt.text);
    assert!(world.gh.dispatches().is_empty());

    let tap = world.tg.user_taps(&prompt, ALICE.id, ALICE.name, "r:1:y");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Confirmed. Dispatching the Release workflow.".to_owned(),
            false
        )
    );
    let dispatches = world.gh.dispatches();
    assert_eq!(dispatches.len(), 1);
    assert_eq!(dispatches[0].1["inputs"]["version"], "3.0.0");
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text
                .starts_with("🚀 <b>Release 3.0.0</b> (major) started (#1)")
        })
        .await;
}
