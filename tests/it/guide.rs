//! Guided /release and /deploy: buttons instead of arguments, state that
//! survives a restart, only the starter answers, /cancel leaves.

use aletheia_bot::domain::UserId;

use crate::support::*;

fn nonce_of(sent: &telegram::Sent) -> String {
    let data = &sent.buttons[0][0].1;
    data.split(':').nth(1).unwrap().to_owned()
}

#[tokio::test]
async fn a_bare_release_offers_the_next_versions_and_survives_a_restart() {
    let mut world = World::new().await;
    world.seed().await;
    world.start_bot().await;

    let offer = world.say(TEAM_CHAT, &ALICE, "/release").await;
    assert_eq!(
        offer.text,
        "📦 <b>New release</b> · the latest is <b>v1.2.3</b>\nWhich version?"
    );
    let n = nonce_of(&offer);
    assert_eq!(
        offer.buttons,
        [
            vec![
                ("1.2.4 · patch".to_owned(), format!("g:{n}:0")),
                ("1.3.0 · minor".to_owned(), format!("g:{n}:1")),
                ("2.0.0 · major".to_owned(), format!("g:{n}:2")),
            ],
            vec![("✖ Cancel".to_owned(), format!("g:{n}:x"))],
        ]
    );

    // Bob's tap on Alice's dialogue, and a button index that was never
    // offered, change nothing.
    let tap = world
        .tg
        .user_taps(&offer, BOB.id, BOB.name, &format!("g:{n}:1"));
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "This is Alice's dialogue; start your own with /release or /deploy.".to_owned(),
            true
        )
    );
    let tap = world
        .tg
        .user_taps(&offer, ALICE.id, ALICE.name, &format!("g:{n}:7"));
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("This button is not one of mine.".to_owned(), true)
    );

    let tap = world
        .tg
        .user_taps(&offer, ALICE.id, ALICE.name, &format!("g:{n}:1"));
    world.tg.tap_answer(&tap).await;
    let confirm = world
        .tg
        .edited(TEAM_CHAT, Some(offer.message_id), |_| true)
        .await;
    assert_eq!(
        confirm.text,
        "📦 <b>Release 1.3.0 (minor)</b>?\nThe pre-release checks run when you confirm."
    );
    assert_eq!(
        confirm.buttons,
        [vec![
            ("✅ Release 1.3.0".to_owned(), format!("g:{n}:y")),
            ("✖ Cancel".to_owned(), format!("g:{n}:x")),
        ]]
    );

    // The bot restarts mid-dialogue; the confirmation still works.
    world.restart_bot().await;
    let tap = world
        .tg
        .user_taps(&confirm, ALICE.id, ALICE.name, &format!("g:{n}:y"));
    world.tg.tap_answer(&tap).await;
    let asked = world
        .tg
        .edited(TEAM_CHAT, Some(offer.message_id), |s| s.edits.len() >= 2)
        .await;
    assert_eq!(
        asked.text,
        "📦 <b>Release 1.3.0 (minor)</b>: asked by Alice."
    );
    assert!(asked.buttons.is_empty());
    // The same as a typed /release 1.3.0 minor: the checks, then the run.
    let mut texts = vec![
        world.tg.next_message(TEAM_CHAT).await.text,
        world.tg.next_message(TEAM_CHAT).await.text,
    ];
    texts.sort();
    assert!(
        texts[0].starts_with("🚀 <b>Release 1.3.0 (minor)</b> · #1\n✅ CI: main is green\n"),
        "{texts:?}"
    );
    assert!(
        texts[1].starts_with("🚀 <b>Release 1.3.0</b> (minor) started (#1)\nAsked by Alice\n"),
        "{texts:?}"
    );
    let dispatches = world.gh.dispatches();
    assert_eq!(dispatches.len(), 1);
    assert_eq!(dispatches[0].0, "release.yml");
    assert_eq!(dispatches[0].1["inputs"]["version"], "1.3.0");
    assert_eq!(dispatches[0].1["inputs"]["release_type"], "minor");

    // The dialogue is over: its buttons do nothing more.
    let tap = world
        .tg
        .user_taps(&confirm, ALICE.id, ALICE.name, &format!("g:{n}:y"));
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "This dialogue is over. Start again with /release or /deploy.".to_owned(),
            true
        )
    );
    assert_eq!(world.gh.dispatches().len(), 1);
}

#[tokio::test]
async fn a_bare_deploy_asks_where_then_offers_only_verified_versions_for_prod() {
    let world = world_with_release().await;
    // 1.2.3 ran on staging and QA verified it; 1.3.0 did not get there.
    world.verified_on_staging("1.2.3").await;

    let ask = world.say(TEAM_CHAT, &BOB, "/deploy").await;
    assert_eq!(ask.text, "🚀 <b>Deploy</b> · where to?");
    let n = nonce_of(&ask);
    assert_eq!(
        ask.buttons[0],
        [
            ("dev".to_owned(), format!("g:{n}:0")),
            ("staging".to_owned(), format!("g:{n}:1")),
            ("prod".to_owned(), format!("g:{n}:2")),
        ]
    );
    let tap = world
        .tg
        .user_taps(&ask, BOB.id, BOB.name, &format!("g:{n}:2"));
    world.tg.tap_answer(&tap).await;
    let versions = world
        .tg
        .edited(TEAM_CHAT, Some(ask.message_id), |_| true)
        .await;
    assert_eq!(
        versions.text,
        "🚀 <b>Deploy → prod</b> · which version?\nOnly versions QA verified on staging, newest first."
    );
    assert_eq!(
        versions.buttons,
        [
            vec![("1.2.3".to_owned(), format!("g:{n}:0"))],
            vec![("✖ Cancel".to_owned(), format!("g:{n}:x"))],
        ]
    );
    let tap = world
        .tg
        .user_taps(&versions, BOB.id, BOB.name, &format!("g:{n}:0"));
    world.tg.tap_answer(&tap).await;
    let confirm = world
        .tg
        .edited(TEAM_CHAT, Some(ask.message_id), |s| s.edits.len() >= 2)
        .await;
    assert_eq!(
        confirm.text,
        "🚀 <b>Deploy 1.2.3 → prod</b>?\nThe checks run, and approval is asked for, when you confirm."
    );
    let tap = world
        .tg
        .user_taps(&confirm, BOB.id, BOB.name, &format!("g:{n}:y"));
    world.tg.tap_answer(&tap).await;
    // The same approval prompt as a typed /deploy prod 1.2.3.
    let prompt = world.tg.next_message(TEAM_CHAT).await;
    assert!(
        prompt
            .text
            .starts_with("🚀 <b>Deploy 1.2.3 → prod</b> · #2\nAsked by Bob\n"),
        "{}",
        prompt.text
    );
    let asked = world
        .tg
        .edited(TEAM_CHAT, Some(ask.message_id), |s| s.edits.len() >= 3)
        .await;
    assert_eq!(asked.text, "🚀 <b>Deploy 1.2.3 → prod</b>: asked by Bob.");
    assert!(world.gh.dispatches().is_empty(), "prod waits for a senior");

    // Staging offers every release, newest first; /cancel leaves.
    let ask = world.say(TEAM_CHAT, &ALICE, "/deploy staging").await;
    assert_eq!(ask.text, "🚀 <b>Deploy → staging</b> · which version?");
    let n = nonce_of(&ask);
    assert_eq!(
        ask.buttons[0],
        [
            ("1.3.0".to_owned(), format!("g:{n}:0")),
            ("1.2.3".to_owned(), format!("g:{n}:1")),
            ("1.2.2".to_owned(), format!("g:{n}:2")),
        ]
    );
    let text = world.say(TEAM_CHAT, &BOB, "/cancel").await.text;
    assert_eq!(text, "That dialogue is Alice's; only they can cancel it.");
    let text = world.say(TEAM_CHAT, &ALICE, "/cancel").await.text;
    assert_eq!(text, "✖ Left the dialogue. Nothing was done.");
    let tap = world
        .tg
        .user_taps(&ask, ALICE.id, ALICE.name, &format!("g:{n}:0"));
    assert_eq!(
        world.tg.tap_answer(&tap).await.0,
        "This dialogue is over. Start again with /release or /deploy."
    );
    let text = world.say(TEAM_CHAT, &ALICE, "/cancel").await.text;
    assert_eq!(text, "Nothing to cancel here.");

    // Carol (QA) may ask for no deploy anywhere.
    let text = world.say(TEAM_CHAT, &CAROL, "/deploy").await.text;
    assert_eq!(text, "⛔ None of your roles may ask for a deploy anywhere.");
    assert_eq!(
        world.store().await.live_operations().await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn a_bare_rollback_offers_the_versions_that_ran_there_newest_first() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.roll_out("prod", "1.3.0").await;
    world.start_bot().await;
    let store = world.store().await;
    // (An image tag that is no release, as an automatic deploy records,
    // is no rollback target.)
    for version in ["1.2.2", "main-1a2b3c4", "1.2.3", "1.3.0"] {
        store
            .record_succeeded_deploy(
                &aletheia_bot::domain::Env::parse("prod").unwrap(),
                version,
                UserId(BOB.id),
            )
            .await
            .unwrap();
    }

    let text = world.say(TEAM_CHAT, &ALICE, "/rollback prod").await.text;
    assert_eq!(
        text,
        "⛔ None of your roles may ask for a rollback of prod."
    );

    let ask = world.say(TEAM_CHAT, &BOB, "/rollback").await;
    assert_eq!(ask.text, "⏪ <b>Rollback</b> · which environment?");
    let n = nonce_of(&ask);
    assert_eq!(ask.buttons[0][2], ("prod".to_owned(), format!("g:{n}:2")));
    let tap = world
        .tg
        .user_taps(&ask, BOB.id, BOB.name, &format!("g:{n}:2"));
    world.tg.tap_answer(&tap).await;
    let versions = world
        .tg
        .edited(TEAM_CHAT, Some(ask.message_id), |_| true)
        .await;
    assert_eq!(
        versions.text,
        "⏪ <b>Rollback prod</b> · to which version? Running now: <b>1.3.0</b>\nVersions that ran there, newest first:"
    );
    // 1.3.0 runs now: not offered. Newest first, each with when it ran.
    let labels: Vec<&str> = versions
        .buttons
        .iter()
        .map(|row| row[0].0.as_str())
        .collect();
    assert_eq!(labels.len(), 3, "{labels:?}");
    assert!(
        labels[0].starts_with("1.2.3 · ") && labels[0].ends_with(" ago"),
        "{labels:?}"
    );
    assert!(labels[1].starts_with("1.2.2 · "), "{labels:?}");
    assert_eq!(labels[2], "✖ Cancel");

    let tap = world
        .tg
        .user_taps(&versions, BOB.id, BOB.name, &format!("g:{n}:0"));
    world.tg.tap_answer(&tap).await;
    let confirm = world
        .tg
        .edited(TEAM_CHAT, Some(ask.message_id), |s| s.edits.len() >= 2)
        .await;
    assert_eq!(
        confirm.text,
        "⏪ <b>Rollback prod → 1.2.3</b>?\nThe checks run, and approval is asked for, when you confirm."
    );
    let tap = world
        .tg
        .user_taps(&confirm, BOB.id, BOB.name, &format!("g:{n}:y"));
    world.tg.tap_answer(&tap).await;
    let prompt = world.tg.next_message(TEAM_CHAT).await;
    assert!(
        prompt.text.starts_with(
            "⏪ <b>Rollback prod → 1.2.3</b> · #5\nAsked by Bob\nRunning now: <b>1.3.0</b>\n"
        ),
        "{}",
        prompt.text
    );
    assert!(
        world.gh.dispatches().is_empty(),
        "prod waits for a second senior"
    );
}
