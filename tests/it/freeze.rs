//! Freeze windows: a deploy inside one is refused, naming it and its end;
//! rollbacks pass; an approver overrides it loudly; `/freeze` and
//! `/unfreeze` hold and free deploys, at request and at dispatch alike.

use chrono::{DateTime, Duration, Timelike, Utc};

use crate::support::*;

/// `2026-11-30 09:00 UTC`, as the bot writes times.
fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `Mon 09:00`, as a weekly window is written.
fn week_time(at: DateTime<Utc>) -> String {
    at.format("%a %H:%M").to_string()
}

#[tokio::test]
async fn a_weekly_window_refuses_deploys_lets_rollbacks_through_and_an_approver_overrides_it_loudly()
 {
    // The bot runs on real time: the window is this week's, around now.
    let now = Utc::now()
        .with_second(0)
        .unwrap()
        .with_nanosecond(0)
        .unwrap();
    let (from, until) = (now - Duration::hours(1), now + Duration::hours(2));
    let mut world = World::new().await;
    world.freeze_toml = format!(
        "\n[[freeze]]\nreason = \"Release train: nobody around to watch\"\n\
         weekly = {{ from = \"{}\", until = \"{}\", time_zone = \"UTC\" }}\n",
        week_time(from),
        week_time(until)
    );
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.start_bot().await;
    let window = format!("window {} – {} UTC", week_time(from), week_time(until));

    // Inside the window: refused, naming the window and when it ends.
    let text = world
        .say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0")
        .await
        .text;
    assert_eq!(
        text,
        format!(
            "🧊 staging is frozen until {}: Release train: nobody around to watch ({window}).\n\
             Deploys wait until then; rollbacks still go. An approver of staging may deploy anyway: \
             <code>/deploy staging 1.3.0 --override-freeze &lt;reason&gt;</code>",
            utc(until)
        )
    );
    // Only staging's approvers (QA) may override it.
    let text = world
        .say(
            TEAM_CHAT,
            &ALICE,
            "/deploy staging 1.3.0 --override-freeze QA is waiting",
        )
        .await
        .text;
    assert_eq!(text, "⛔ Only qa may override a freeze on staging.");
    assert!(
        world
            .store()
            .await
            .all_operations()
            .await
            .unwrap()
            .is_empty()
    );

    // A rollback passes, at request and at dispatch.
    let prompt = world
        .say(TEAM_CHAT, &ALICE, "/rollback staging 1.2.2")
        .await;
    assert!(
        prompt
            .text
            .starts_with("⏪ <b>Rollback staging → 1.2.2</b> · #1\nAsked by Alice"),
        "{}",
        prompt.text
    );
    let tap = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:1:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Approved. Dispatching the Rollback workflow.".to_owned(),
            false
        )
    );
    assert_eq!(world.gh.dispatches()[0].0, "rollback.yml");

    // Bob (senior, prod's approver) overrides the freeze: the team and
    // the on-call hear it loudly; the request still needs four eyes.
    world.verified_on_staging("1.3.0").await;
    let texts = world
        .say_and_read(
            TEAM_CHAT,
            &BOB,
            "/deploy prod 1.3.0 --override-freeze checkout fix cannot wait",
            2,
        )
        .await;
    let loud = format!(
        "🚨 <b>FREEZE OVERRIDE</b>: Bob deploys <b>1.3.0</b> to <b>prod</b> inside the freeze \
         \"Release train: nobody around to watch\" ({window}, until {}) (#3).\n\
         Reason: checkout fix cannot wait",
        utc(until)
    );
    // (Sorted: the prompt, then the alert.)
    assert!(
        texts[0].starts_with("🚀 <b>Deploy 1.3.0 → prod</b> · #3\nAsked by Bob"),
        "{texts:?}"
    );
    assert_eq!(texts[1], loud);
    assert_eq!(world.tg.next_message(ONCALL_CHAT).await.text, loud);

    // Dave approves inside the freeze: the override stands at dispatch.
    let prompt = world
        .tg
        .sent_to(TEAM_CHAT)
        .into_iter()
        .find(|s| s.text == texts[0])
        .unwrap();
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:3:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Approved. Dispatching the Deploy workflow.".to_owned(),
            false
        )
    );
    let dispatches = world.gh.dispatches();
    assert_eq!(dispatches.len(), 2);
    assert_eq!(dispatches[1].0, "deploy.yml");
    assert_eq!(dispatches[1].1["inputs"]["environment"], "prod");

    let audit = world.store().await.recent_audit(30).await.unwrap();
    assert!(
        audit.iter().any(|a| a.action == "operation:deploy"
            && a.outcome == "override_freeze"
            && a.actor == Some(BOB.id)
            && a.detail
                .ends_with("freeze overridden: checkout fix cannot wait")),
        "{audit:?}"
    );
    for (outcome, actor) in [
        ("refused:frozen", ALICE.id),
        ("refused:not_an_approver", ALICE.id),
    ] {
        assert!(
            audit.iter().any(|a| a.action == "command:/deploy"
                && a.outcome == outcome
                && a.actor == Some(actor)),
            "{outcome}: {audit:?}"
        );
    }

    // /status shows the freeze in force and the next one coming.
    let status = world.say(ALICE.id, &ALICE, "/status prod").await.text;
    assert!(
        status.contains(&format!(
            "\n   🧊 frozen until {}: Release train: nobody around to watch ({window})\n   \
             🗓 next freeze {} – {}: Release train: nobody around to watch ({window})",
            utc(until),
            utc(from + Duration::days(7)),
            utc(until + Duration::days(7)),
        )),
        "{status}"
    );
}

#[tokio::test]
async fn freeze_holds_deploys_at_request_and_at_dispatch_until_unfreeze() {
    let world = world_with_release().await;
    world.verified_on_staging("1.3.0").await;
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy prod 1.3.0").await;
    assert!(
        prompt
            .text
            .starts_with("🚀 <b>Deploy 1.3.0 → prod</b> · #2"),
        "{}",
        prompt.text
    );

    // Who may /lock may /freeze.
    let text = world
        .say(TEAM_CHAT, &ALICE, "/freeze prod 2h release day")
        .await
        .text;
    assert_eq!(
        text,
        "⛔ Freezing is for: senior. You hold none of these roles."
    );
    let frozen = world
        .say(TEAM_CHAT, &BOB, "/freeze prod 2h release day")
        .await
        .text;
    let until = frozen
        .strip_prefix("🧊 <b>prod</b> frozen by Bob until ")
        .and_then(|rest| rest.split(" (for 2h): release day\n").next())
        .unwrap_or_else(|| panic!("{frozen}"))
        .to_owned();
    assert!(
        frozen.ends_with(
            "(for 2h): release day\nDeploys wait; rollbacks still go. Approvers may override with --override-freeze."
        ),
        "{frozen}"
    );
    let text = world
        .say(TEAM_CHAT, &DAVE, "/freeze prod 1h other")
        .await
        .text;
    assert_eq!(
        text,
        format!(
            "🧊 prod is already frozen by Bob until {until}: release day. /unfreeze prod first to change it."
        )
    );

    // The request asked before the freeze is not dispatched inside it.
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:2:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            format!("Approved, but not dispatched: prod is frozen until {until}: release day."),
            true
        )
    );
    assert!(world.gh.dispatches().is_empty());

    let text = world
        .say(TEAM_CHAT, &ALICE, "/deploy prod 1.3.0")
        .await
        .text;
    assert!(
        text.starts_with(&format!(
            "🧊 prod is frozen until {until}: release day (/freeze by Bob).\n"
        )),
        "{text}"
    );
    let status = world.say(ALICE.id, &ALICE, "/status").await.text;
    assert!(
        status.ends_with(&format!(
            "\n   🧊 frozen until {until}: release day (/freeze by Bob)"
        )),
        "{status}"
    );
    assert_eq!(status.matches("🧊").count(), 1, "prod only: {status}");

    let text = world.say(TEAM_CHAT, &DAVE, "/unfreeze prod").await.text;
    assert_eq!(
        text,
        "🌤 prod unfrozen by Dave (frozen by Bob: release day). Deploys go again, unless a window in bot.toml holds them."
    );
    // A freeze of all environments is lifted as a whole.
    let text = world
        .say(TEAM_CHAT, &DAVE, "/freeze all 1h maintenance")
        .await
        .text;
    assert!(
        text.starts_with("🧊 All environments frozen by Dave until ")
            && text.contains(" (for 1h): maintenance\n"),
        "{text}"
    );
    let text = world.say(TEAM_CHAT, &DAVE, "/unfreeze prod").await.text;
    assert_eq!(
        text,
        "🧊 prod has no freeze of its own: it is frozen with all environments. /unfreeze all lifts that."
    );
    let text = world.say(TEAM_CHAT, &DAVE, "/unfreeze all").await.text;
    assert_eq!(
        text,
        "🌤 all unfrozen by Dave (frozen by Dave: maintenance). Deploys go again, unless a window in bot.toml holds them."
    );
    let text = world.say(TEAM_CHAT, &DAVE, "/unfreeze all").await.text;
    assert_eq!(
        text,
        "🧊 all has no freeze made with /freeze (windows in bot.toml stay; /status shows them)."
    );
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy prod 1.3.0").await;
    assert!(
        prompt
            .text
            .starts_with("🚀 <b>Deploy 1.3.0 → prod</b> · #3"),
        "{}",
        prompt.text
    );

    let audit = world.store().await.recent_audit(30).await.unwrap();
    for (action, outcome, actor) in [
        ("command:/freeze", "refused:not_allowed", ALICE.id),
        ("freeze", "frozen", BOB.id),
        ("command:/freeze", "refused:frozen", DAVE.id),
        ("command:/deploy", "refused:frozen", ALICE.id),
        ("unfreeze", "unfrozen", DAVE.id),
    ] {
        assert!(
            audit
                .iter()
                .any(|a| a.action == action && a.outcome == outcome && a.actor == Some(actor)),
            "{action} {outcome}: {audit:?}"
        );
    }
}
