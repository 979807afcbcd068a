//! Hostile and malformed input on every surface, one file each: chat
//! commands, button taps, GitHub webhooks and the HTTP server, the config
//! file, updates that are no commands, a stranger's flood. The table here runs the first four
//! kinds one case at a time, each with the refusal it must get, and checks
//! after each that nothing the bot is trusted with changed
//! ([`snapshot`]).

mod commands;
mod config;
mod flood;
mod http;
mod snapshot;
mod taps;
mod updates;

use std::time::{Duration, Instant};

use aletheia_bot::domain::OperationState;
use serde_json::Value;

use crate::support::github::{post_signed_webhook, workflow_run_event};
use crate::support::*;
pub(crate) use snapshot::snapshot;

/// Someone whose name is a senior's but whose id is not.
const IMPOSTOR: Person = Person {
    id: 777000777,
    name: "Dave",
};

/// Where a button is tapped.
#[derive(Clone, Copy, Debug)]
enum Under {
    /// The prod deploy prompt (#2) in the team chat.
    TeamPrompt,
    /// The staging deploy prompt (#3) in the on-call chat.
    OncallPrompt,
}

/// How a webhook delivery is signed.
#[derive(Clone, Debug)]
enum Sig {
    /// Correctly, for the body sent.
    Good,
    None,
    /// This exact header value.
    Raw(String),
}

#[derive(Clone)]
enum Input {
    /// Someone types in a chat; the bot answers with a text containing `expect`.
    Say {
        chat: i64,
        who: &'static Person,
        text: String,
    },
    /// Someone types in a chat and the bot must say nothing at all.
    Ignored {
        chat: i64,
        who: &'static Person,
        text: String,
    },
    /// Someone taps a button with this callback data.
    Tap {
        under: Under,
        who: &'static Person,
        data: String,
    },
    /// A POST to `/github/webhook`.
    Hook {
        event: Option<&'static str>,
        delivery: Option<String>,
        body: Vec<u8>,
        sig: Sig,
        /// Whether the delivery may be stored (an accepted, ignored one).
        stored: bool,
    },
    /// `aletheia-bot check` on this config file.
    Check { config: String },
}

#[derive(Clone, Debug)]
enum Expect {
    /// The answer in the chat (or to the tap) contains this.
    Text(&'static str),
    /// No answer at all.
    Silence,
    /// This HTTP status.
    Status(u16),
    /// 413; or, to a client that writes a body far over the cap before it
    /// reads, the connection closed under it: the server answers as soon
    /// as the declared length is too large and reads none of the body.
    TooLarge,
    /// Exit code 2 and this on stderr.
    Refused(&'static str),
}

struct Case {
    name: String,
    input: Input,
    expect: Expect,
}

fn case(name: impl Into<String>, input: Input, expect: Expect) -> Case {
    Case {
        name: name.into(),
        input,
        expect,
    }
}

fn say(chat: i64, who: &'static Person, text: impl Into<String>) -> Input {
    Input::Say {
        chat,
        who,
        text: text.into(),
    }
}

fn tap(under: Under, who: &'static Person, data: impl Into<String>) -> Input {
    Input::Tap {
        under,
        who,
        data: data.into(),
    }
}

/// A delivery the bot may store (and then ignore).
fn stored(mut input: Input) -> Input {
    if let Input::Hook { stored, .. } = &mut input {
        *stored = true;
    }
    input
}

fn hook(event: &'static str, delivery: &str, body: &Value, sig: Sig) -> Input {
    Input::Hook {
        event: Some(event),
        delivery: Some(delivery.to_owned()),
        body: serde_json::to_vec(body).unwrap(),
        sig,
        stored: false,
    }
}

/// The real state the table runs against, made by the normal paths.
struct Setup {
    /// A prod deploy awaiting approval in the team chat (#2; #1 is
    /// staging's verified 1.3.0).
    team_prompt: telegram::Sent,
    /// A staging deploy running, asked in the on-call chat (#3).
    oncall_prompt: telegram::Sent,
    /// #3's workflow run, in progress.
    run: Value,
    /// The webhook delivery that said so.
    setup_delivery: &'static str,
    /// #3's dispatch's `request_id`.
    request_id: String,
}

/// Two deploys (one awaiting approval, one running), a lock on dev and a
/// mute in the team chat; returns once everything it said was delivered
/// and read.
async fn setup(world: &World) -> Setup {
    world.verified_on_staging("1.3.0").await;
    let team_prompt = world.say(TEAM_CHAT, &BOB, "/deploy prod 1.3.0").await;
    assert!(
        team_prompt
            .text
            .starts_with("🚀 <b>Deploy 1.3.0 → prod</b> · #2"),
        "{}",
        team_prompt.text
    );
    let oncall_prompt = world
        .say(ONCALL_CHAT, &ALICE, "/deploy staging 1.4.0")
        .await;
    assert!(
        oncall_prompt
            .text
            .starts_with("🚀 <b>Deploy 1.4.0 → staging</b> · #3"),
        "{}",
        oncall_prompt.text
    );
    let approved = world
        .tg
        .user_taps(&oncall_prompt, CAROL.id, CAROL.name, "d:3:a");
    assert!(!world.tg.tap_answer(&approved).await.1);
    let (_, dispatch) = world.gh.dispatches()[0].clone();
    let request_id = dispatch["inputs"]["request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = world.gh.set_run(9001, "in_progress", None);
    let setup_delivery = "setup-run-started";
    let response = post_signed_webhook(
        &world.bot_url(),
        "workflow_run",
        setup_delivery,
        &workflow_run_event("in_progress", &run),
    )
    .await;
    assert_eq!(response.status(), 202);
    let store = world.store().await;
    eventually(Duration::from_secs(10), "#3 running", || async {
        store
            .operation(aletheia_bot::domain::OperationId(3))
            .await
            .unwrap()
            .is_some_and(|op| op.state == OperationState::Running)
    })
    .await;
    // (The team chat heard the staging deploy start before.)
    world
        .tg
        .user_says(TEAM_CHAT, BOB.id, BOB.name, "/lock dev demo in progress");
    let locked = world.tg.next_message_starting(TEAM_CHAT, "🔒").await;
    assert!(
        locked.text.starts_with("🔒 <b>dev</b> locked by Bob"),
        "{}",
        locked.text
    );
    let muted = world.say(TEAM_CHAT, &DAVE, "/mute release 2h").await;
    assert!(muted.text.contains("release"), "{}", muted.text);
    // Everything the setup said has been posted (the outbox is drained).
    world
        .until_outbox_sent("the setup's alerts delivered", Duration::from_secs(20))
        .await;
    Setup {
        team_prompt,
        oncall_prompt,
        run,
        setup_delivery,
        request_id,
    }
}

/// Gives one input and judges what came back: `Err` with what did.
async fn try_case(world: &World, setup: &Setup, i: usize, case: &Case) -> Result<(), String> {
    match (&case.input, &case.expect) {
        (Input::Say { chat, who, text }, Expect::Text(expected)) => {
            let answer = world.say(*chat, who, text).await.text;
            if answer.contains(expected) && answer.chars().count() <= 4096 {
                Ok(())
            } else {
                Err(answer)
            }
        }
        (Input::Ignored { chat, who, text }, Expect::Silence) => {
            world.tg.user_says(*chat, who.id, who.name, text);
            // The next thing the bot says there answers the sentinel.
            let answer = world.say(*chat, who, "/whoami").await.text;
            if answer.contains(&who.id.to_string()) {
                Ok(())
            } else {
                Err(answer)
            }
        }
        (Input::Tap { under, who, data }, Expect::Text(expected)) => {
            let message = match under {
                Under::TeamPrompt => &setup.team_prompt,
                Under::OncallPrompt => &setup.oncall_prompt,
            };
            let query = world.tg.user_taps(message, who.id, who.name, data);
            let (answer, alert) = world.tg.tap_answer(&query).await;
            if answer.contains(expected) && alert {
                Ok(())
            } else {
                Err(format!("{answer} (alert: {alert})"))
            }
        }
        (input @ Input::Hook { .. }, expect @ (Expect::Status(_) | Expect::TooLarge)) => {
            post_hook(world, input, expect).await
        }
        (Input::Check { config }, Expect::Refused(expected)) => {
            let out = config::check(world, &format!("case{i}"), config).await;
            let stderr = String::from_utf8_lossy(&out.stderr);
            if out.status.code() == Some(2)
                && stderr.contains(expected)
                && stderr.len() < 2000
                && !stderr.contains(telegram::TOKEN)
            {
                Ok(())
            } else {
                Err(format!(
                    "exit {:?}, stderr ({} bytes): {}",
                    out.status.code(),
                    stderr.len(),
                    stderr.chars().take(300).collect::<String>()
                ))
            }
        }
        (_, expect) => panic!("case {} cannot expect {expect:?}", case.name),
    }
}

/// Posts a webhook case to `/github/webhook` as given (headers, signature).
async fn post_hook(world: &World, input: &Input, expect: &Expect) -> Result<(), String> {
    let Input::Hook {
        event,
        delivery,
        body,
        sig,
        ..
    } = input
    else {
        unreachable!("a webhook case");
    };
    let expected = match expect {
        Expect::Status(status) => *status,
        _ => 413,
    };
    let mut request = reqwest::Client::new()
        .post(format!("{}/github/webhook", world.bot_url()))
        .header("content-type", "application/json")
        .header("user-agent", "GitHub-Hookshot/test");
    if let Some(event) = event {
        request = request.header("x-github-event", *event);
    }
    if let Some(delivery) = delivery {
        request = request.header("x-github-delivery", delivery.as_str());
    }
    match sig {
        Sig::Good => {
            request = request.header(
                "x-hub-signature-256",
                github::signature(github::WEBHOOK_SECRET, body),
            )
        }
        Sig::None => {}
        Sig::Raw(header) => request = request.header("x-hub-signature-256", header),
    }
    match request.body(body.clone()).send().await {
        Ok(r) if r.status().as_u16() == expected => Ok(()),
        Ok(r) => Err(format!(
            "HTTP {}: {}",
            r.status(),
            r.text().await.unwrap_or_default()
        )),
        Err(_) if matches!(expect, Expect::TooLarge) => Ok(()),
        Err(e) => Err(format!("request failed: {e}")),
    }
}

#[tokio::test]
async fn hostile_inputs_are_refused_and_change_nothing() {
    hostile_table(false).await;
}

/// The same table with the bot's state in PostgreSQL: the refusals and
/// the "nothing changed" must not depend on the backend.
#[tokio::test]
async fn hostile_inputs_are_refused_and_change_nothing_on_postgres() {
    hostile_table(true).await;
}

async fn hostile_table(postgres: bool) {
    let started = Instant::now();
    let mut world = World::new().await;
    if postgres {
        world.use_postgres().await;
    }
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.gh.add_release("v1.4.0");
    world.start_bot().await;
    let setup = setup(&world).await;
    let mut before = snapshot(&world).await;
    assert_eq!(before.operations.len(), 3);
    assert_eq!(before.locks.len(), 1);
    assert_eq!(before.mutes.len(), 1);
    assert_eq!(before.dispatches.len(), 1);

    let chat = commands::chat_cases();
    let taps = taps::tap_cases();
    let hooks = http::webhook_cases(&setup.run, setup.setup_delivery, &setup.request_id);
    let configs = config::config_cases(&world.config_text());
    let counts = [
        ("chat commands", chat.len()),
        ("button taps", taps.len()),
        ("webhooks", hooks.len()),
        ("config files", configs.len()),
    ];
    let cases: Vec<Case> = [chat, taps, hooks, configs].into_iter().flatten().collect();
    assert!(cases.len() >= 60, "only {} cases", cases.len());

    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        if let Err(answer) = try_case(&world, &setup, i, case).await {
            failures.push(format!(
                "#{i} {}: expected {:?}, got: {answer}",
                case.name, case.expect
            ));
        }
        if let Input::Hook { stored: true, .. } = case.input {
            before.deliveries += 1;
        }
        let after = snapshot(&world).await;
        if after != before {
            failures.push(format!(
                "#{i} {}: state changed:\n{}",
                case.name,
                before.diff(&after)
            ));
            // Later cases are judged against what they found.
            before = after;
        }
    }
    eprintln!(
        "tried {} hostile inputs ({}) in {:.1?}",
        cases.len(),
        counts
            .iter()
            .map(|(what, n)| format!("{what}: {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        started.elapsed()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The table is still there and the pending request is untouched.
    let op = world
        .store()
        .await
        .operation(aletheia_bot::domain::OperationId(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(op.state, OperationState::AwaitingApproval);
}
