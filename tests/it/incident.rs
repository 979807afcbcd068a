//! Incident tools: locks (and what they stop), withdrawing requests, and
//! the history of operations.

use crate::support::github::{post_signed_webhook, release_published, workflow_run_event};
use crate::support::*;

#[tokio::test]
async fn locks_stop_deploys_show_in_status_and_lift() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.remind_every = "3s";
    world.start_bot().await;

    let text = world
        .say(TEAM_CHAT, &ALICE, "/lock staging fire")
        .await
        .text;
    assert_eq!(
        text,
        "⛔ Locking is for: senior. You hold none of these roles."
    );

    // Bob locks staging for an hour: the team chat is told (no second answer).
    let locked = world
        .say(TEAM_CHAT, &BOB, "/lock staging db migration running 1h")
        .await
        .text;
    assert!(
        locked.starts_with(
            "🔒 <b>staging</b> locked by Bob: db migration running\nDeploys wait until "
        ),
        "{locked}"
    );
    assert!(
        locked.ends_with(" (for 1h), then it lifts itself; rollbacks still go."),
        "{locked}"
    );
    let text = world
        .say(TEAM_CHAT, &DAVE, "/lock staging other")
        .await
        .text;
    assert!(
        text.starts_with("🔒 staging is already locked by Bob since ")
            && text.ends_with(": db migration running. /unlock staging first to change it."),
        "{text}"
    );
    let text = world
        .say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0")
        .await
        .text;
    assert_eq!(
        text,
        "🔒 staging is locked by Bob: db migration running. Deploys wait until it is unlocked."
    );
    let status = world.say(ALICE.id, &ALICE, "/status staging").await.text;
    assert!(
        status.contains("\n   🔒 locked by Bob: db migration running until "),
        "{status}"
    );
    let text = world.say(TEAM_CHAT, &BOB, "/unlock staging").await.text;
    assert!(
        text.starts_with("🔓 <b>staging</b> unlocked by Bob (locked by Bob for ")
            && text.ends_with(": db migration running)."),
        "{text}"
    );
    let text = world.say(TEAM_CHAT, &BOB, "/unlock staging").await.text;
    assert_eq!(text, "🔓 staging is not locked.");

    // A lock with a duration lifts itself and says so.
    let text = world
        .say(TEAM_CHAT, &BOB, "/lock dev quick check 1s")
        .await
        .text;
    assert!(
        text.starts_with("🔒 <b>dev</b> locked by Bob: quick check\n"),
        "{text}"
    );
    let lifted = world.tg.next_message(TEAM_CHAT).await.text;
    assert_eq!(
        lifted,
        "🔓 <b>dev</b>'s lock lifted itself after 1s (locked by Bob: quick check). Deploys go again."
    );

    // One without is recalled (here every 3 s), once per period.
    world
        .say(TEAM_CHAT, &DAVE, "/lock prod payment provider outage")
        .await;
    let reminder = world.tg.next_message(TEAM_CHAT).await.text;
    assert!(
        reminder.starts_with("🔒 Reminder: <b>prod</b> is still locked by Dave since "),
        "{reminder}"
    );
    assert!(
        reminder.ends_with(": payment provider outage. /unlock prod when it is over."),
        "{reminder}"
    );
    world.say(TEAM_CHAT, &DAVE, "/unlock prod").await;
    let audit = world.store().await.recent_audit(50).await.unwrap();
    let reminders = audit.iter().filter(|a| a.action == "lock:remind").count();
    let sent = world
        .tg
        .sent_to(TEAM_CHAT)
        .iter()
        .filter(|m| m.text.starts_with("🔒 Reminder:"))
        .count();
    assert_eq!(sent, reminders, "one message per reminder recorded");
}

#[tokio::test]
async fn requests_are_withdrawn_by_their_requester_or_a_senior_and_history_tells_all() {
    let world = world_with_release().await;

    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    let text = world.say(TEAM_CHAT, &CAROL, "/cancel 1").await.text;
    assert_eq!(
        text,
        "⛔ #1 is Alice's request: only they, or senior, may withdraw it."
    );
    let text = world.say(TEAM_CHAT, &ALICE, "/cancel #1").await.text;
    assert_eq!(text, "🚫 #1 withdrawn.");
    let edited = world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |_| true)
        .await;
    assert_eq!(
        edited.text,
        "🚫 <b>Deploy 1.3.0 → staging</b> · #1\nAsked by Alice\nWithdrawn by Alice. Nothing was dispatched."
    );
    assert!(edited.buttons.is_empty());
    let tap = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:1:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Too late: this request is already cancelled.".to_owned(),
            true
        )
    );
    let text = world.say(TEAM_CHAT, &ALICE, "/cancel 1").await.text;
    assert_eq!(text, "#1 is cancelled already.");
    let text = world.say(TEAM_CHAT, &ALICE, "/cancel 99").await.text;
    assert_eq!(text, "There is no request #99.");

    // Dispatched is too late to withdraw here.
    world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    let text = world.say(TEAM_CHAT, &BOB, "/cancel 2").await.text;
    assert_eq!(
        text,
        "#2 is dispatched: its workflow was dispatched, so it cannot be withdrawn here. Cancel the run in GitHub Actions."
    );
    assert_eq!(world.gh.dispatches().len(), 1);

    let history = world.say(TEAM_CHAT, &BOB, "/history").await.text;
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines[0], "📜 <b>History</b> · all environments · last 2");
    assert!(
        lines[1].starts_with("⏳ #2 deploy 1.3.0 → dev · dispatched · asked by Alice · "),
        "{history}"
    );
    assert!(
        lines[2].starts_with("🚫 #1 deploy 1.3.0 → staging · cancelled · asked by Alice · "),
        "{history}"
    );
    let text = world.say(TEAM_CHAT, &BOB, "/history prod").await.text;
    assert_eq!(text, "📜 Nothing yet in prod.");
}

#[tokio::test]
async fn a_mute_quiets_one_kind_in_one_chat_but_never_prod_failures() {
    let world = world_with_release().await;

    let text = world.say(TEAM_CHAT, &ALICE, "/mute release 1h").await.text;
    assert_eq!(
        text,
        "⛔ Muting is for: senior. You hold none of these roles."
    );
    let text = world.say(TEAM_CHAT, &BOB, "/mute approval 1h").await.text;
    assert!(
        text.starts_with("❌ approval is neither an alert kind")
            && text.ends_with("Approval prompts cannot be muted."),
        "{text}"
    );
    let text = world.say(TEAM_CHAT, &BOB, "/mute release 2h").await.text;
    assert!(
        text.starts_with("🔕 release alerts are muted in this chat until ")
            && text.ends_with(" (for 2h). /unmute release ends it."),
        "{text}"
    );
    let text = world.say(ONCALL_CHAT, &BOB, "/mute failure 1h").await.text;
    assert!(
        text.contains(
            " (for 1h). Failures and health alerts in prod still come through. /unmute failure ends it."
        ),
        "{text}"
    );
    let status = world.say(TEAM_CHAT, &BOB, "/status dev").await.text;
    assert!(
        status.contains("\n🔕 Muted in this chat: release until "),
        "{status}"
    );

    // A release is published: the team chat, muted for releases, is not told.
    let sent = post_signed_webhook(
        &world.bot_url(),
        "release",
        "d-1",
        &release_published(50, "v1.3.1"),
    )
    .await;
    assert_eq!(sent.status(), 202);
    let store = world.store().await;
    assert!(
        store.all_alerts().await.unwrap().is_empty(),
        "nothing queued for a muted chat"
    );

    // A prod deploy started in GitHub fails: on-call hears it anyway.
    let run = world.gh.start_run("deploy.yml", "Deploy 1.3.0 to prod ()");
    post_signed_webhook(
        &world.bot_url(),
        "workflow_run",
        "w-1",
        &workflow_run_event("in_progress", &run),
    )
    .await;
    let started = world.tg.next_message(TEAM_CHAT).await.text;
    assert!(
        started.starts_with("🚀 <b>prod</b> · deploy of <b>1.3.0</b> started"),
        "{started}"
    );
    world.finish_run(9001, "failure", "w-2").await;
    let failed = world.tg.next_message(ONCALL_CHAT).await.text;
    assert!(
        failed.starts_with("❌ <b>prod</b> · deploy of <b>1.3.0</b> failed (#1): failure"),
        "{failed}"
    );
    assert_eq!(
        undiagnosed(
            &world
                .tg
                .edited(TEAM_CHAT, None, |s| s.text.starts_with("❌"))
                .await
                .text
        ),
        undiagnosed(&failed)
    );
    assert_eq!(
        world.tg.next_message(TEAM_CHAT).await.text,
        "❌ <b>prod</b> · deploy of <b>1.3.0</b> failed (#1) ↑"
    );

    let text = world.say(TEAM_CHAT, &BOB, "/unmute release").await.text;
    assert_eq!(text, "🔔 release alerts come to this chat again.");
    let text = world.say(TEAM_CHAT, &BOB, "/unmute release").await.text;
    assert_eq!(text, "🔔 release alerts were not muted here.");
}
