//! GitHub's environment gates reviewed from Telegram: a run held by an
//! environment's required reviewers gets a prompt; the bot's policy
//! (the environment's approvers, four eyes) judges a tap, then the bot
//! reviews the run on GitHub with a comment naming the approver.

use serde_json::json;

use crate::follow::run_event;
use crate::support::*;

const PRODUCTION: u64 = 161_171_787;
const AUDIT: u64 = 161_171_788;

/// Bob's prod deploy of 1.3.0, approved by Dave and dispatched: run 9001.
async fn dispatched_prod_deploy() -> World {
    let world = world_with_release().await;
    world.verified_on_staging("1.3.0").await;
    let prompt = world.say(TEAM_CHAT, &BOB, "/deploy prod 1.3.0").await;
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, "d:2:a");
    world.tg.tap_answer(&tap).await;
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.contains("started")
        })
        .await;
    world
}

fn buttons(sent: &telegram::Sent) -> Vec<(String, String)> {
    sent.buttons.iter().flatten().cloned().collect()
}

const RUN: &str = "https://github.com/mindburn-labs/aletheia/actions/runs/9001";

#[tokio::test]
async fn an_approver_other_than_the_requester_lets_a_gated_run_go_on() {
    let world = dispatched_prod_deploy().await;

    // The run waits on the "production" environment's reviewers.
    let run = world
        .gh
        .hold_at_gates(9001, &[(PRODUCTION, "production", true)]);
    run_event(&world, "w-1", "in_progress", &run).await;
    let prompt = world.tg.next_message(TEAM_CHAT).await;
    assert_eq!(
        prompt.text,
        format!(
            "<b>Deploy 1.3.0 → prod</b> · #2\nAsked by Bob\n⏸ The <a href=\"{RUN}\">run</a> waits for a \
             review of the GitHub environment <b>production</b>.\nAn approver may approve or reject \
             it here; the requester may not."
        )
    );
    assert_eq!(
        buttons(&prompt),
        [
            ("✅ Approve".to_owned(), format!("v:2:{PRODUCTION}:a")),
            ("❌ Reject".to_owned(), format!("v:2:{PRODUCTION}:r")),
        ]
    );

    // Bob asked for the deploy (four eyes); Alice is no senior: refused,
    // and GitHub hears nothing.
    let approve = format!("v:2:{PRODUCTION}:a");
    let tap = world.tg.user_taps(&prompt, BOB.id, BOB.name, &approve);
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "⛔ You asked for this run: another approver must review it (four eyes).".to_owned(),
            true
        )
    );
    let tap = world.tg.user_taps(&prompt, ALICE.id, ALICE.name, &approve);
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        (
            "⛔ This environment's runs are reviewed by: senior. You hold none of these roles."
                .to_owned(),
            true
        )
    );
    assert!(world.gh.reviews().is_empty());

    // Dave approves: GitHub gets the review, naming him; the prompt says so.
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, &approve);
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Approved on GitHub: the run goes on.".to_owned(), false)
    );
    assert_eq!(
        world.gh.reviews(),
        [(
            9001,
            json!({
                "environment_ids": [PRODUCTION],
                "state": "approved",
                "comment": "Approved from Telegram by Dave (Telegram id 100000004), aletheia-bot operation #2.",
            })
        )]
    );
    let edited = world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.contains("Approved by")
        })
        .await;
    assert_eq!(
        edited.text,
        format!(
            "<b>Deploy 1.3.0 → prod</b> · #2\nAsked by Bob\n✅ Approved by Dave for the GitHub \
             environment <b>production</b>: the <a href=\"{RUN}\">run</a> goes on."
        )
    );
    assert!(edited.buttons.iter().flatten().next().is_none());

    // A second tap reviews nothing more.
    let tap = world.tg.user_taps(&prompt, DAVE.id, DAVE.name, &approve);
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Already reviewed by Dave.".to_owned(), false)
    );
    assert_eq!(world.gh.reviews().len(), 1);

    // The run goes on and the deploy completes.
    let run = world.gh.runs()[0].clone();
    assert_eq!(run["status"], "in_progress");
    run_event(&world, "w-2", "in_progress", &run).await;
    world.roll_out("prod", "1.3.0").await;
    world.finish_run(9001, "success", "w-3").await;
    world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("✅ <b>prod</b>"))
        .await;

    let audit = world.store().await.recent_audit(30).await.unwrap();
    let taps: Vec<(Option<i64>, &str)> = audit
        .iter()
        .filter(|a| a.action == "tap:gate")
        .map(|a| (a.actor, a.outcome.as_str()))
        .collect();
    assert_eq!(
        taps,
        [
            (Some(BOB.id), "refused:own_request"),
            (Some(ALICE.id), "refused:not_an_approver"),
            (Some(DAVE.id), "approved"),
            (Some(DAVE.id), "refused:already_reviewed"),
        ]
    );
}

#[tokio::test]
async fn a_rejected_gate_fails_the_run_and_a_gate_the_bot_cannot_review_says_how_to_fix_it() {
    let world = dispatched_prod_deploy().await;

    let run = world.gh.hold_at_gates(
        9001,
        &[(PRODUCTION, "production", true), (AUDIT, "audit", false)],
    );
    run_event(&world, "w-1", "in_progress", &run).await;
    let first = world.tg.next_message(TEAM_CHAT).await;
    let second = world.tg.next_message(TEAM_CHAT).await;
    let (production, audit) = if first.text.contains("<b>production</b>") {
        (first, second)
    } else {
        (second, first)
    };
    // The bot's GitHub identity is no reviewer of "audit": no buttons, and
    // the way to make it one.
    assert_eq!(
        audit.text,
        format!(
            "<b>Deploy 1.3.0 → prod</b> · #2\nAsked by Bob\n⏸ The <a href=\"{RUN}\">run</a> waits for a \
             review of the GitHub environment <b>audit</b>.\n⚠️ The bot is not a required reviewer of \
             <b>audit</b>, so it cannot review from here: review the run on GitHub, or add the bot's \
             GitHub identity (the GitHub App, or the token's user) to the environment's required reviewers."
        )
    );
    assert!(buttons(&audit).is_empty());

    // Dave rejects production: GitHub fails the run, the deploy fails.
    let reject = format!("v:2:{PRODUCTION}:r");
    let tap = world.tg.user_taps(&production, DAVE.id, DAVE.name, &reject);
    assert_eq!(
        world.tg.tap_answer(&tap).await,
        ("Rejected on GitHub: the run stops.".to_owned(), false)
    );
    assert_eq!(
        world.gh.reviews(),
        [(
            9001,
            json!({
                "environment_ids": [PRODUCTION],
                "state": "rejected",
                "comment": "Rejected from Telegram by Dave (Telegram id 100000004), aletheia-bot operation #2.",
            })
        )]
    );
    let edited = world
        .tg
        .edited(TEAM_CHAT, Some(production.message_id), |s| {
            s.text.contains("Rejected by")
        })
        .await;
    assert!(
        edited.text.ends_with(&format!(
            "❌ Rejected by Dave for the GitHub environment <b>production</b>: the <a href=\"{RUN}\">run</a> stops."
        )),
        "{}",
        edited.text
    );

    let run = world.gh.runs()[0].clone();
    assert_eq!(
        (&run["status"], &run["conclusion"]),
        (&json!("completed"), &json!("failure"))
    );
    run_event(&world, "w-2", "completed", &run).await;
    world
        .tg
        .edited(TEAM_CHAT, None, |s| s.text.starts_with("❌ <b>prod</b>"))
        .await;
    // The failure rings below the prompts, and reaches the on-call chat.
    let ring = world.tg.next_message(TEAM_CHAT).await;
    assert_eq!(
        ring.text,
        "❌ <b>prod</b> · deploy of <b>1.3.0</b> failed (#2) ↑"
    );
    world.tg.next_message(ONCALL_CHAT).await;
}
