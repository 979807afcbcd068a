//! A stranger's flood: a group nobody configured, or someone not in
//! `[[users]]`, sending command after command. They hear from the bot
//! once an hour at most (audited once, then only counted), the bot leaves
//! such a group, and the team's commands and taps are answered all the
//! while as if nothing happened.

use std::time::Duration;

use aletheia_bot::store::AuditRow;

use crate::support::*;

/// What a stranger's group sends, over and over.
const FLOOD: [&str; 5] = [
    "/status",
    "/deploy prod 1.3.0",
    "/whoami",
    "/help",
    "/lock prod mine now",
];

async fn audit_of_chat(world: &World, chat: i64) -> Vec<AuditRow> {
    let audit = world.store().await.recent_audit(100_000).await.unwrap();
    audit
        .into_iter()
        .filter(|a| a.chat_id == Some(chat))
        .collect()
}

#[tokio::test]
async fn a_strangers_flood_holds_nobody_up_and_gets_one_answer() {
    let world = world_with_release().await;
    let family = format!("{}-staging-api", world.prefix);
    moto::register(&world.ecs, &family, "repo/aletheia:1.3.0").await;
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    assert!(
        prompt
            .text
            .starts_with("🚀 <b>Deploy 1.3.0 → staging</b> · #1"),
        "{}",
        prompt.text
    );

    // Someone added the bot to their group and floods it: 300 commands at
    // once, more while the team works.
    for n in 0..300 {
        let who = if n % 2 == 0 { &MALLORY } else { &BOB };
        world
            .tg
            .user_says(STRANGER_CHAT, who.id, who.name, FLOOD[n % FLOOD.len()]);
    }
    // The team asks and decides meanwhile, and is answered promptly.
    let started = tokio::time::Instant::now();
    world
        .tg
        .user_says(TEAM_CHAT, DAVE.id, DAVE.name, "/status staging");
    let tap = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:1:a");
    for n in 0..100 {
        world.tg.user_says(
            STRANGER_CHAT,
            MALLORY.id,
            MALLORY.name,
            FLOOD[n % FLOOD.len()],
        );
    }
    let answer = tokio::time::timeout(
        Duration::from_secs(20),
        world.tg.next_message_starting(TEAM_CHAT, "<b>Status</b>"),
    )
    .await
    .expect("the team's /status answered within 20 s of a stranger's flood");
    assert!(answer.text.contains("<b>staging</b>"), "{}", answer.text);
    let (text, alert) = tokio::time::timeout(Duration::from_secs(20), world.tg.tap_answer(&tap))
        .await
        .expect("the team's Approve answered within 20 s of a stranger's flood");
    assert_eq!(
        (text.as_str(), alert),
        ("Approved. Dispatching the Deploy workflow.", false)
    );
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |_| true)
        .await;
    let took = started.elapsed();

    // The bot left the group; what the stranger sent after that never
    // reached it.
    let store = world.store().await;
    eventually(
        Duration::from_secs(30),
        "the bot out of the group",
        || async { !world.tg.bot_in(STRANGER_CHAT) },
    )
    .await;
    assert_eq!(world.tg.calls("leaveChat").len(), 1);
    // Every stranger's command that reached the bot was taken and left
    // unanswered, counted in one row.
    let delivered = 400 - world.tg.undelivered() as i64;
    eventually(
        Duration::from_secs(60),
        "every delivered stranger's command counted",
        || async { store.stranger_quiet((STRANGER_CHAT, 0)).await.unwrap() == Some(delivered - 1) },
    )
    .await;

    // One answer in all, naming the chat (for [[chats]]), one audit line.
    let said = world.tg.read_all(STRANGER_CHAT);
    assert_eq!(said.len(), 1, "{said:#?}");
    assert!(said[0].text.contains("-1009999999999"), "{}", said[0].text);
    let audit = audit_of_chat(&world, STRANGER_CHAT).await;
    assert_eq!(audit.len(), 1, "{audit:#?}");

    // Nothing the stranger asked for happened: one operation (the team's),
    // one dispatch, no lock.
    let ops = store.all_operations().await.unwrap();
    assert_eq!(ops.len(), 1, "{ops:#?}");
    assert_eq!(world.gh.dispatches().len(), 1);
    assert!(store.all_locks().await.unwrap().is_empty());
    let metrics = reqwest::get(format!("{}/metrics", world.bot_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("outcome=\"unanswered\""),
        "{}",
        metrics
            .lines()
            .filter(|l| l.contains("commands"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    eprintln!("the team was answered {took:?} into the flood");
}

#[tokio::test]
async fn a_stranger_is_answered_once_an_hour_across_restarts() {
    let mut world = World::new().await;
    world.start_bot().await;
    let key = (MALLORY.id, MALLORY.id);

    // A newcomer learns their id.
    let text = world.say(MALLORY.id, &MALLORY, "/whoami").await.text;
    assert!(text.contains("<code>id = 666000666</code>"), "{text}");
    // Then nothing more this hour, whatever they send: counted, not audited.
    for text in ["/status", "/whoami", "/deploy prod 1.3.0", "/help"] {
        world
            .tg
            .user_says(MALLORY.id, MALLORY.id, MALLORY.name, text);
    }
    let store = world.store().await;
    eventually(Duration::from_secs(30), "four commands counted", || async {
        store.stranger_quiet(key).await.unwrap() == Some(4)
    })
    .await;
    world.tg.assert_all_read();
    assert_eq!(audit_of_chat(&world, MALLORY.id).await.len(), 1);

    // A restart does not forget it.
    world.restart_bot().await;
    world
        .tg
        .user_says(MALLORY.id, MALLORY.id, MALLORY.name, "/whoami");
    eventually(Duration::from_secs(30), "the fifth counted", || async {
        store.stranger_quiet(key).await.unwrap() == Some(5)
    })
    .await;
    world.tg.assert_all_read();

    // Another newcomer in the team chat is answered all the same.
    let text = world.say(TEAM_CHAT, &MALLORY, "/status").await.text;
    assert!(
        text.starts_with("⛔ You are not on this bot's list of users."),
        "{text}"
    );

    // An hour on, they are answered once again.
    store.age_stranger_answers(3600 * 1000).await.unwrap();
    let text = world.say(MALLORY.id, &MALLORY, "/status").await.text;
    assert!(
        text.starts_with("⛔ You are not on this bot's list of users."),
        "{text}"
    );
    let outcomes: Vec<String> = audit_of_chat(&world, MALLORY.id)
        .await
        .iter()
        .map(|a| format!("{} {}", a.action, a.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            "command:/whoami answered",
            "command:/status refused:unknown_user"
        ]
    );
    // A private chat is never left.
    assert!(world.tg.calls("leaveChat").is_empty());
    world.tg.assert_all_read();
}

#[tokio::test]
async fn a_strangers_answer_is_noted_once_a_window_on_both_backends() {
    const HOUR: i64 = 3_600_000;
    for (store, _url, _dir) in crate::store::stores_at().await {
        let backend = store.backend();
        let (group, mallory) = ((-5, 0), (-1, 666));
        let t = 10 * HOUR;
        assert!(store.answer_stranger(group, t, t - HOUR).await.unwrap());
        // Within the hour: counted, not answered; others are their own.
        assert!(
            !store
                .answer_stranger(group, t + 1, t + 1 - HOUR)
                .await
                .unwrap()
        );
        assert!(
            !store
                .answer_stranger(group, t + 2, t + 2 - HOUR)
                .await
                .unwrap()
        );
        assert!(
            store
                .answer_stranger(mallory, t + 2, t + 2 - HOUR)
                .await
                .unwrap()
        );
        assert_eq!(
            store.stranger_quiet(group).await.unwrap(),
            Some(2),
            "{backend:?}"
        );
        assert_eq!(store.stranger_quiet(mallory).await.unwrap(), Some(0));
        assert_eq!(store.stranger_quiet((1, 1)).await.unwrap(), None);
        // An hour after the answer: answered again, the count starts over.
        let later = t + HOUR + 1;
        assert!(
            store
                .answer_stranger(group, later, later - HOUR)
                .await
                .unwrap()
        );
        assert_eq!(store.stranger_quiet(group).await.unwrap(), Some(0));
        // Retention forgets those answered before the window.
        assert_eq!(
            store.forget_strangers(later - 1, 100).await.unwrap(),
            1,
            "{backend:?}"
        );
        assert_eq!(store.stranger_quiet(mallory).await.unwrap(), None);
        assert_eq!(store.stranger_quiet(group).await.unwrap(), Some(0));
    }
}
