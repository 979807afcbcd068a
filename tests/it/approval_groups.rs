//! Approval from several groups: prod needs one QA and one senior; one
//! person's approval fills one group only, the prompt shows each group's
//! progress, and at two thirds of its expiry a reminder mentions whoever
//! may still decide.

use std::time::Duration;

use crate::support::*;

/// Sam holds both roles prod's groups ask for.
const SAM: Person = Person {
    id: 100000006,
    name: "Sam",
};

/// One QA and one senior.
const GROUPS: &str = "groups = [{ role = \"qa\", count = 1 }, { role = \"senior\", count = 1 }]\n";

/// The same, the prompt expiring after 6 s (its reminder after 4 s).
const GROUPS_6S: &str =
    "groups = [{ role = \"qa\", count = 1 }, { role = \"senior\", count = 1 }]\nexpiry = \"6s\"\n";

/// A world whose prod deploys need `approval` (its groups), Sam among
/// the users.
async fn world_with_groups(approval: &'static str) -> World {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.prod_approval_toml = Some(approval);
    world.users_toml = Some(format!(
        "{USERS_TOML}\n[[users]]\nid = {}\nname = \"{}\"\nroles = [\"qa\", \"senior\"]\n",
        SAM.id, SAM.name
    ));
    world.start_bot().await;
    world.verified_on_staging("1.3.0").await;
    world
}

#[tokio::test]
async fn a_prod_deploy_needs_a_qa_and_a_senior_each_counted_once() {
    let world = world_with_groups(GROUPS).await;
    // (#1 is staging's deploy of 1.3.0.)
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy prod 1.3.0").await;
    assert!(
        prompt
            .text
            .contains("\nNeeds approval from each group: qa 0/1 · senior 0/1 (not Alice)\n"),
        "{}",
        prompt.text
    );

    // Dave, a senior, approves: the senior group is full, nothing goes.
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:2:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Recorded: 1 of 2 approvals.".to_owned(), false)
    );
    let progress = |by: &'static str, groups: &'static str| {
        move |s: &telegram::Sent| {
            s.text
                .starts_with("⏳ <b>Deploy 1.3.0 → prod</b> · #2\nAsked by Alice\n")
                && s.text.contains(&format!(
                    "\nApproved by {by}.\nApprovals by group: {groups}\n"
                ))
        }
    };
    let edited = world
        .tg
        .edited(
            TEAM_CHAT,
            Some(prompt.message_id),
            progress("Dave", "qa 0/1 · senior 1/1 ✅"),
        )
        .await;
    assert!(
        edited.buttons.iter().flatten().next().is_some(),
        "buttons kept"
    );

    // Bob, another senior, approves: a second senior fills no QA place.
    let tap = world.tg.user_taps(&prompt, BOB.id, BOB.name, "d:2:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Recorded: 1 of 2 approvals.".to_owned(), false)
    );
    world
        .tg
        .edited(
            TEAM_CHAT,
            Some(prompt.message_id),
            progress("Bob", "qa 0/1 · senior 1/1 ✅"),
        )
        .await;
    assert!(world.gh.dispatches().is_empty());

    // Carol (QA) approves: both groups are full, one dispatch.
    let tap = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:2:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "Approved. Dispatching the Deploy workflow.".to_owned(),
            false
        )
    );
    assert_eq!(world.gh.dispatches().len(), 1);
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text
                .starts_with("🚀 <b>prod</b> · deploy of <b>1.3.0</b> started (#2)")
        })
        .await;
    let tap = world.tg.user_taps(&prompt, QUINN.id, QUINN.name, "d:2:a");
    assert!(world.tg.tap_answer(&tap).await.0.starts_with("Too late"));
    assert_eq!(world.gh.dispatches().len(), 1);
}

#[tokio::test]
async fn one_person_holding_both_roles_fills_one_group_and_the_rest_are_reminded_once() {
    let mut world = world_with_groups(GROUPS_6S).await;
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy prod 1.3.0").await;

    // Sam holds both roles: their approval fills one group, not both.
    let tap = world.tg.user_taps(&prompt, SAM.id, SAM.name, "d:2:a");
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Recorded: 1 of 2 approvals.".to_owned(), false)
    );
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text
                .contains("\nApproved by Sam.\nApprovals by group: qa 1/1 ✅ · senior 0/1\n")
        })
        .await;
    assert!(world.gh.dispatches().is_empty());

    // At two thirds of the 6 s, one reminder, mentioning who may still
    // complete it: the seniors, and the QAs (Sam would move to senior's
    // place) — not Alice, who asked, nor Sam, who approved.
    let reminder = world.tg.next_message(TEAM_CHAT).await;
    let op = world.store().await.all_operations().await.unwrap()[1].clone();
    let expires = op.expires_at.unwrap();
    let mention = |p: &Person| format!("<a href=\"tg://user?id={}\">{}</a>", p.id, p.name);
    assert_eq!(
        reminder.text,
        format!(
            "⏰ {}, {}, {}, {}: <b>Deploy 1.3.0 → prod</b> · #2 still waits for your decision. It expires {}.",
            mention(&BOB),
            mention(&CAROL),
            mention(&DAVE),
            mention(&QUINN),
            aletheia_bot::alerts::format::utc(aletheia_bot::alerts::format::from_ms(expires))
        )
    );
    // Written no earlier than two thirds of the way to the expiry.
    let remind_at = op.created_at + (expires - op.created_at) * 2 / 3;
    let store = world.store().await;
    let reminders = || async {
        let alerts = store.all_alerts().await.unwrap();
        let key = format!("op:2:remind@{TEAM_CHAT}");
        alerts
            .into_iter()
            .filter(|a| a.dedup_key == key)
            .map(|a| a.next_attempt_at)
            .collect::<Vec<i64>>()
    };
    let written = reminders().await;
    assert!(
        written.len() == 1 && written[0] >= remind_at,
        "{written:?} vs {remind_at}"
    );

    // The bot restarts before the prompt expires (the reminder recorded
    // as sent first: a kill mid-send is the outbox's own story): no
    // second reminder.
    world
        .until_outbox_sent("the reminder delivered", Duration::from_secs(30))
        .await;
    world.restart_bot().await;
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("⌛")
        })
        .await;
    world
        .until_outbox_sent("the expiry delivered", Duration::from_secs(30))
        .await;
    assert!(world.tg.read_all(TEAM_CHAT).is_empty(), "one reminder only");
    assert_eq!(reminders().await, written);
    assert!(world.gh.dispatches().is_empty());
}
