//! Issue 6: a table of hostile and malformed inputs across every surface
//! (chat commands, button taps, GitHub webhooks, the config file), each
//! with the refusal it must get, and a check after each that nothing the
//! bot is trusted with changed: operations, approvals, locks, mutes,
//! verdicts, dispatches, alerts (refusals may add audit lines only).

use aletheia_bot::domain::OperationState;
use std::time::Instant;

use serde_json::{Value, json};

use crate::support::github::{post_signed_webhook, workflow_run_event};
use crate::support::*;

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

/// An operation: (id, kind, env, version, state, run).
type OperationFacts = (i64, String, Option<String>, String, String, Option<i64>);

/// What the bot is trusted with, as the store and the fake GitHub hold it.
#[derive(Debug, PartialEq)]
pub(crate) struct Snapshot {
    pub(crate) operations: Vec<OperationFacts>,
    pub(crate) approvals: Vec<(i64, Vec<i64>)>,
    pub(crate) locks: Vec<(String, i64, String, Option<i64>)>,
    pub(crate) mutes: Vec<(i64, String, i64)>,
    pub(crate) verdicts: Vec<(String, String, String, i64)>,
    pub(crate) dispatches: Vec<(String, Value)>,
    /// Outbox rows (alerts, prompts and their edits): (id, key, chat).
    pub(crate) alerts: Vec<(i64, String, i64)>,
    pub(crate) deliveries: i64,
}

impl Snapshot {
    /// The parts that differ, before and after.
    pub(crate) fn diff(&self, after: &Snapshot) -> String {
        let mut out = String::new();
        let mut part = |name: &str, a: String, b: String| {
            if a != b {
                out.push_str(&format!("  {name}: {a}\n  -> {b}\n"));
            }
        };
        part(
            "operations",
            format!("{:?}", self.operations),
            format!("{:?}", after.operations),
        );
        part(
            "approvals",
            format!("{:?}", self.approvals),
            format!("{:?}", after.approvals),
        );
        part(
            "locks",
            format!("{:?}", self.locks),
            format!("{:?}", after.locks),
        );
        part(
            "mutes",
            format!("{:?}", self.mutes),
            format!("{:?}", after.mutes),
        );
        part(
            "verdicts",
            format!("{:?}", self.verdicts),
            format!("{:?}", after.verdicts),
        );
        part(
            "dispatches",
            format!("{:?}", self.dispatches),
            format!("{:?}", after.dispatches),
        );
        part(
            "alerts",
            format!("{:?}", self.alerts),
            format!("{:?}", after.alerts),
        );
        part(
            "deliveries",
            format!("{:?}", self.deliveries),
            format!("{:?}", after.deliveries),
        );
        out
    }
}

pub(crate) async fn snapshot(world: &World) -> Snapshot {
    let store = world.store().await;
    let ops = store.all_operations().await.unwrap();
    let mut approvals = Vec::new();
    for op in &ops {
        approvals.push((
            op.id,
            store
                .approvers_of(aletheia_bot::domain::OperationId(op.id))
                .await
                .unwrap(),
        ));
    }
    let mut mutes = Vec::new();
    for chat in [
        TEAM_CHAT,
        ONCALL_CHAT,
        STRANGER_CHAT,
        ALICE.id,
        BOB.id,
        DAVE.id,
    ] {
        for m in store.mutes_of(chat).await.unwrap() {
            mutes.push((m.chat_id, m.target, m.until));
        }
    }
    let snapshot = Snapshot {
        operations: ops
            .iter()
            .map(|o| {
                (
                    o.id,
                    o.kind.as_str().to_owned(),
                    o.env_name().map(str::to_owned),
                    o.version.clone(),
                    o.state.as_str().to_owned(),
                    o.run_id,
                )
            })
            .collect(),
        approvals,
        locks: store
            .all_locks()
            .await
            .unwrap()
            .into_iter()
            .map(|l| (l.env, l.locked_by, l.reason, l.expires_at))
            .collect(),
        mutes,
        verdicts: store
            .latest_verdicts()
            .await
            .unwrap()
            .into_iter()
            .map(|v| (v.env, v.version, v.verdict, v.user_id))
            .collect(),
        dispatches: world.gh.dispatches(),
        alerts: store
            .all_alerts()
            .await
            .unwrap()
            .into_iter()
            .map(|a| (a.id, a.dedup_key, a.chat_id))
            .collect(),
        deliveries: store.delivery_count().await.unwrap(),
    };
    store.close().await;
    snapshot
}

/// `aletheia-bot check` on a config text of our own.
async fn check(world: &World, name: &str, config: &str) -> std::process::Output {
    let path = world.dir.path().join(format!("{name}.toml"));
    std::fs::write(&path, config).unwrap();
    tokio::process::Command::new(env!("CARGO_BIN_EXE_aletheia-bot"))
        .arg("--config")
        .arg(&path)
        .arg("check")
        .env_clear()
        .env("HOME", world.dir.path())
        .env("RUST_LOG", "warn")
        .env("TELEGRAM_BOT_TOKEN", telegram::TOKEN)
        .env("GITHUB_TOKEN", github::TOKEN)
        .env("GITHUB_WEBHOOK_SECRET", github::WEBHOOK_SECRET)
        .env("DATABASE_URL", world.database_url())
        .output()
        .await
        .unwrap()
}

fn chat_cases() -> Vec<Case> {
    let (a, b, c, d, q) = (ALICE.id, BOB.id, CAROL.id, DAVE.id, QUINN.id);
    let not_version = Expect::Text("is not a version: expected MAJOR.MINOR.PATCH");
    let unknown_env = Expect::Text("Unknown environment");
    let too_many = Expect::Text("Too many arguments.");
    let stranger = Expect::Text("⛔ You are not on this bot's list of users. Your Telegram id is ");
    vec![
        case(
            "shell injection in a version",
            say(a, &ALICE, "/deploy prod 1.2.3; rm -rf /"),
            too_many.clone(),
        ),
        case(
            "shell injection glued to a version",
            say(b, &BOB, "/deploy prod 1.2.3;rm"),
            not_version.clone(),
        ),
        case(
            "path traversal as a version",
            say(c, &CAROL, "/deploy prod ../../etc/passwd"),
            not_version.clone(),
        ),
        case(
            "version overflowing u64",
            say(d, &DAVE, "/deploy prod 99999999999999999999.0.0"),
            not_version.clone(),
        ),
        case(
            "5,000-character version",
            say(q, &QUINN, format!("/deploy prod {}", "1".repeat(5000))),
            not_version.clone(),
        ),
        case(
            "RTL override between env and version",
            say(a, &ALICE, "/deploy prod\u{202e}1.3.0"),
            unknown_env.clone(),
        ),
        case(
            "zero-width space inside the env",
            say(b, &BOB, "/deploy pr\u{200b}od 1.3.0"),
            unknown_env.clone(),
        ),
        case(
            "fullwidth digits",
            say(c, &CAROL, "/deploy prod １.３.０"),
            not_version.clone(),
        ),
        case(
            "Cyrillic o in prod",
            say(d, &DAVE, "/deploy pr\u{43e}d 1.3.0"),
            unknown_env.clone(),
        ),
        case(
            "NUL in a version",
            say(q, &QUINN, "/deploy staging 1.3.0\u{0}"),
            not_version.clone(),
        ),
        case(
            "upper-case env is prod, which is busy",
            say(a, &ALICE, "/deploy PROD 1.3.0"),
            Expect::Text("⏳ prod already has #2 (deploy 1.3.0) awaiting approval."),
        ),
        case(
            "a second deploy to the busy prod",
            say(b, &BOB, "/deploy prod 1.3.0"),
            Expect::Text("⏳ prod already has #2 (deploy 1.3.0) awaiting approval."),
        ),
        case(
            "deploy to the locked dev",
            say(a, &ALICE, "/deploy dev 1.3.0"),
            Expect::Text("dev is locked"),
        ),
        case(
            "release type gigantic",
            say(d, &DAVE, "/release 1.3.0 gigantic"),
            Expect::Text("is not a release type (patch, minor or major)"),
        ),
        case(
            "SQL after a release type",
            say(q, &QUINN, "/release 1.3.0 minor; DROP TABLE operations"),
            too_many.clone(),
        ),
        case(
            "SQL as a lock reason from a developer",
            say(a, &ALICE, "/lock prod '; DROP TABLE operations; --"),
            Expect::Text("Locking is for: senior"),
        ),
        case(
            "unlock by a developer",
            say(a, &ALICE, "/unlock dev"),
            Expect::Text("senior"),
        ),
        case(
            "lock for 91 days",
            say(d, &DAVE, "/lock staging maintenance 91d"),
            Expect::Text("not a duration of up to 90 days"),
        ),
        case(
            "mute for 99999999 days",
            say(b, &BOB, "/mute prod 99999999d"),
            Expect::Text("is not a duration of up to 7 days"),
        ),
        case(
            "mute for 8 days",
            say(d, &DAVE, "/mute release 8d"),
            Expect::Text("is not a duration of up to 7 days"),
        ),
        case(
            "mute for minus five minutes",
            say(b, &BOB, "/mute release -5m"),
            Expect::Text("is not a duration of up to 7 days"),
        ),
        case(
            "mute by a developer",
            say(a, &ALICE, "/mute release 1h"),
            Expect::Text("senior"),
        ),
        case(
            "history of -1 operations",
            say(c, &CAROL, "/history prod -1"),
            Expect::Text("Show between 1 and 50 operations."),
        ),
        case(
            "history of 51 operations",
            say(q, &QUINN, "/history 51"),
            Expect::Text("Show between 1 and 50 operations."),
        ),
        case(
            "history of 2^64 operations",
            say(a, &ALICE, "/history 18446744073709551616"),
            Expect::Text("Show between 1 and 50 operations."),
        ),
        case(
            "stats over 1e9 days",
            say(b, &BOB, "/stats 1e9"),
            Expect::Text("Say a number of days from 1 to 365."),
        ),
        case(
            "stats over 0 days",
            say(c, &CAROL, "/stats 0d"),
            Expect::Text("Say a number of days from 1 to 365."),
        ),
        case(
            "cancel #-1",
            say(d, &DAVE, "/cancel -1"),
            Expect::Text("is not a request number"),
        ),
        case(
            "cancel a 20-digit id",
            say(q, &QUINN, "/cancel 99999999999999999999"),
            Expect::Text("is not a request number"),
        ),
        case(
            "cancel someone else's request",
            say(c, &CAROL, "/cancel 2"),
            Expect::Text("senior"),
        ),
        case(
            "cancel a request that does not exist",
            say(d, &DAVE, "/cancel 999"),
            Expect::Text("#999"),
        ),
        case(
            "break-glass without a reason",
            say(b, &BOB, "/rollback prod 1.2.2 --break-glass"),
            Expect::Text("--break-glass needs a reason"),
        ),
        case(
            "prod rollback by a developer",
            say(a, &ALICE, "/rollback prod 1.2.2"),
            Expect::Text("senior"),
        ),
        case(
            "arguments to /whoami",
            say(q, &QUINN, "/whoami; cat /etc/shadow"),
            Expect::Text("Unknown command"),
        ),
        case(
            "unknown command",
            say(a, &ALICE, "/frobnicate prod"),
            Expect::Text("❌ Unknown command /frobnicate. /help lists what I can do."),
        ),
        case(
            "a 300-character command name",
            say(b, &BOB, format!("/{}", "x".repeat(300))),
            Expect::Text("Unknown command /xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx."),
        ),
        case(
            "command for another bot",
            Input::Ignored {
                chat: c,
                who: &CAROL,
                text: "/deploy@OtherBot prod 1.3.0".into(),
            },
            Expect::Silence,
        ),
        case(
            "HTML in an unknown env",
            say(d, &DAVE, "/status <b>prod</b>"),
            Expect::Text("&lt;b&gt;prod&lt;/b&gt;"),
        ),
        case(
            "a stranger deploys",
            say(TEAM_CHAT, &MALLORY, "/deploy prod 1.3.0"),
            stranger.clone(),
        ),
        case(
            "a senior's name on another id, typed",
            say(TEAM_CHAT, &IMPOSTOR, "/deploy prod 1.3.0"),
            stranger.clone(),
        ),
        case(
            "a senior's name on another id, in private",
            say(IMPOSTOR.id, &IMPOSTOR, "/unlock dev"),
            stranger.clone(),
        ),
        case(
            "a senior in a chat not configured",
            say(STRANGER_CHAT, &BOB, "/lock prod x"),
            Expect::Text("⛔ This chat (id -1009999999999) is not allowed to use this bot."),
        ),
    ]
}

fn tap_cases() -> Vec<Case> {
    use Under::*;
    let not_mine = Expect::Text("This button is not one of mine.");
    vec![
        case(
            "no such operation",
            tap(TeamPrompt, &DAVE, "d:999:a"),
            not_mine.clone(),
        ),
        case(
            "unknown action",
            tap(TeamPrompt, &DAVE, "d:2:z"),
            not_mine.clone(),
        ),
        case(
            "extra field",
            tap(TeamPrompt, &DAVE, "d:2:a:extra"),
            not_mine.clone(),
        ),
        case(
            "negative id",
            tap(TeamPrompt, &DAVE, "d:-1:a"),
            not_mine.clone(),
        ),
        case(
            "id in exponent notation",
            tap(TeamPrompt, &DAVE, "d:1e3:a"),
            not_mine.clone(),
        ),
        case(
            "id of 2^64",
            tap(TeamPrompt, &DAVE, "d:18446744073709551616:a"),
            not_mine.clone(),
        ),
        case(
            "fullwidth id",
            tap(TeamPrompt, &DAVE, "d:１:a"),
            not_mine.clone(),
        ),
        case("empty data", tap(TeamPrompt, &DAVE, ""), not_mine.clone()),
        case(
            "100 bytes of data",
            tap(TeamPrompt, &DAVE, format!("d:{}1:a", "0".repeat(95))),
            not_mine.clone(),
        ),
        case(
            "release answer on a deploy",
            tap(TeamPrompt, &DAVE, "r:2:y"),
            not_mine.clone(),
        ),
        case(
            "direct ECS rollback of a deploy",
            tap(TeamPrompt, &BOB, "e:2:y"),
            not_mine.clone(),
        ),
        case(
            "direct ECS rollback, bad action",
            tap(TeamPrompt, &BOB, "e:2:x"),
            not_mine.clone(),
        ),
        case(
            "incident report of a word",
            tap(TeamPrompt, &BOB, "i:abc:o"),
            not_mine.clone(),
        ),
        case(
            "incident report of a deploy",
            tap(TeamPrompt, &BOB, "i:2:o"),
            not_mine.clone(),
        ),
        case(
            "guide with a forged nonce",
            tap(TeamPrompt, &DAVE, "g:12345:y"),
            Expect::Text("This dialogue is over."),
        ),
        case(
            "guide with a huge choice",
            tap(TeamPrompt, &DAVE, "g:2:99999"),
            not_mine.clone(),
        ),
        case(
            "QA verdict on an unfinished deploy",
            tap(TeamPrompt, &CAROL, "q:2:v"),
            Expect::Text("not a finished deploy"),
        ),
        case(
            "confirm an approval never armed",
            tap(TeamPrompt, &DAVE, "d:2:c"),
            Expect::Text("The confirmation window has passed"),
        ),
        case(
            "the requester approves",
            tap(TeamPrompt, &BOB, "d:2:a"),
            Expect::Text("You asked for this one: someone else must approve it (four eyes)."),
        ),
        case(
            "a senior's name on another id approves",
            tap(TeamPrompt, &IMPOSTOR, "d:2:a"),
            Expect::Text("Only senior may decide this."),
        ),
        case(
            "a stranger rejects",
            tap(TeamPrompt, &MALLORY, "d:2:r"),
            Expect::Text("Only senior may decide this."),
        ),
        case(
            "QA approves prod",
            tap(TeamPrompt, &CAROL, "d:2:a"),
            Expect::Text("Only senior may decide this."),
        ),
        case(
            "another chat's operation, approved from the on-call chat",
            tap(OncallPrompt, &DAVE, "d:2:a"),
            not_mine.clone(),
        ),
        case(
            "another chat's operation, rejected from the on-call chat",
            tap(OncallPrompt, &DAVE, "d:2:r"),
            not_mine.clone(),
        ),
        // The team chat takes every environment's approval prompts, so it
        // holds a copy of the on-call chat's staging prompt: a tap there
        // reaches the operation (already decided), not a forgery.
        case(
            "the on-call chat's operation, from the team chat's copy",
            tap(TeamPrompt, &QUINN, "d:3:r"),
            Expect::Text("Too late: this request is already running."),
        ),
    ]
}

fn webhook_cases(url_run: &Value, setup_delivery: &str, request_id: &str) -> Vec<Case> {
    let mut completed = url_run.clone();
    completed["status"] = json!("completed");
    completed["conclusion"] = json!("success");
    let success = workflow_run_event("completed", &completed);
    let success_bytes = serde_json::to_vec(&success).unwrap();
    let good_sig = github::signature(github::WEBHOOK_SECRET, &success_bytes);
    let hex = good_sig.strip_prefix("sha256=").unwrap().to_owned();

    let mut wrong_types = success.clone();
    wrong_types["workflow_run"]["id"] = json!("abc");
    let mut unknown_file = completed.clone();
    unknown_file["id"] = json!(777777);
    unknown_file["path"] = json!(".github/workflows/evil.yml");
    unknown_file["name"] = json!("Evil");
    unknown_file["display_title"] = json!(format!("Evil ({request_id})"));
    let mut other_workflow = completed.clone();
    other_workflow["id"] = json!(777778);
    other_workflow["path"] = json!(".github/workflows/release.yml");
    other_workflow["name"] = json!("Release");
    other_workflow["display_title"] = json!(format!("Release 1.4.0 ({request_id})"));
    let mut same_run_other_file = completed.clone();
    same_run_other_file["path"] = json!(".github/workflows/rollback.yml");
    let release_no_release = json!({"action": "published", "repository": {"full_name": format!("{}/{}", github::OWNER, github::REPO)}});
    let mut release_bad_id = crate::support::github::release_published(1, "v9.9.9");
    release_bad_id["release"]["id"] = json!("abc");
    let two_mb = format!("[{}0]", "0,".repeat(1024 * 1024)).into_bytes();
    let big_array = format!("[{}0]", "0,".repeat(400 * 1024)).into_bytes();

    let raw = |body: &[u8], sig: Sig, stored: bool| Input::Hook {
        event: Some("workflow_run"),
        delivery: Some(uuid::Uuid::new_v4().to_string()),
        body: body.to_vec(),
        sig,
        stored,
    };
    let fresh = || uuid::Uuid::new_v4().to_string();
    vec![
        case(
            "no signature",
            hook("workflow_run", &fresh(), &success, Sig::None),
            Expect::Status(401),
        ),
        case(
            "signature of another body",
            hook(
                "workflow_run",
                &fresh(),
                &success,
                Sig::Raw(github::signature(github::WEBHOOK_SECRET, b"{}")),
            ),
            Expect::Status(401),
        ),
        case(
            "signature with another secret",
            hook(
                "workflow_run",
                &fresh(),
                &success,
                Sig::Raw(github::signature("guess", &success_bytes)),
            ),
            Expect::Status(401),
        ),
        case(
            "sha1= prefix",
            hook(
                "workflow_run",
                &fresh(),
                &success,
                Sig::Raw(format!("sha1={}", &hex[..40])),
            ),
            Expect::Status(401),
        ),
        case(
            "SHA256= prefix in capitals",
            hook(
                "workflow_run",
                &fresh(),
                &success,
                Sig::Raw(format!("SHA256={hex}")),
            ),
            Expect::Status(401),
        ),
        case(
            "truncated signature",
            hook(
                "workflow_run",
                &fresh(),
                &success,
                Sig::Raw(format!("sha256={}", &hex[..32])),
            ),
            Expect::Status(401),
        ),
        case(
            "empty signature",
            hook("workflow_run", &fresh(), &success, Sig::Raw(String::new())),
            Expect::Status(401),
        ),
        case(
            "signature for the body without its last byte",
            raw(
                &success_bytes[..success_bytes.len() - 1],
                Sig::Raw(good_sig.clone()),
                false,
            ),
            Expect::Status(401),
        ),
        case(
            "replayed delivery id carrying a success",
            hook("workflow_run", setup_delivery, &success, Sig::Good),
            Expect::Status(200),
        ),
        case(
            "missing X-GitHub-Event",
            Input::Hook {
                event: None,
                delivery: Some(fresh()),
                body: success_bytes.clone(),
                sig: Sig::Good,
                stored: false,
            },
            Expect::Status(400),
        ),
        case(
            "X-GitHub-Event with a path",
            Input::Hook {
                event: Some("../../workflow_run"),
                delivery: Some(fresh()),
                body: success_bytes.clone(),
                sig: Sig::Good,
                stored: false,
            },
            Expect::Status(400),
        ),
        case(
            "missing X-GitHub-Delivery",
            Input::Hook {
                event: Some("workflow_run"),
                delivery: None,
                body: success_bytes.clone(),
                sig: Sig::Good,
                stored: false,
            },
            Expect::Status(400),
        ),
        case(
            "SQL as the delivery id",
            Input::Hook {
                event: Some("workflow_run"),
                delivery: Some("x'; DROP TABLE webhook_deliveries; --".into()),
                body: success_bytes.clone(),
                sig: Sig::Good,
                stored: false,
            },
            Expect::Status(400),
        ),
        case(
            "65-character delivery id",
            Input::Hook {
                event: Some("workflow_run"),
                delivery: Some("a".repeat(65)),
                body: success_bytes.clone(),
                sig: Sig::Good,
                stored: false,
            },
            Expect::Status(400),
        ),
        case(
            "signed body that is not JSON",
            raw(b"this is not json", Sig::Good, false),
            Expect::Status(400),
        ),
        case(
            "signed body that is not UTF-8",
            raw(b"{\"action\":\"\xff\xfe\"}", Sig::Good, false),
            Expect::Status(400),
        ),
        case(
            "signed JSON null",
            raw(b"null", Sig::Good, false),
            Expect::Status(400),
        ),
        case(
            "workflow_run with a string id",
            hook("workflow_run", &fresh(), &wrong_types, Sig::Good),
            Expect::Status(400),
        ),
        case(
            "release without a release",
            hook("release", &fresh(), &release_no_release, Sig::Good),
            Expect::Status(400),
        ),
        case(
            "release with a string id",
            hook("release", &fresh(), &release_bad_id, Sig::Good),
            Expect::Status(400),
        ),
        case(
            "signed 800 KB array",
            raw(&big_array, Sig::Good, false),
            Expect::Status(400),
        ),
        case(
            "signed 2 MB array",
            raw(&two_mb, Sig::Good, false),
            Expect::Status(413),
        ),
        case(
            "30 MB body",
            raw(&vec![b' '; 30 * 1024 * 1024], Sig::Good, false),
            Expect::TooLarge,
        ),
        case(
            "run of an unknown workflow naming a request",
            stored(hook(
                "workflow_run",
                &fresh(),
                &workflow_run_event("completed", &unknown_file),
                Sig::Good,
            )),
            Expect::Status(202),
        ),
        case(
            "run of the Release workflow naming a deploy's request",
            stored(hook(
                "workflow_run",
                &fresh(),
                &workflow_run_event("completed", &other_workflow),
                Sig::Good,
            )),
            Expect::Status(202),
        ),
        case(
            "the deploy's run id in another workflow's file",
            stored(hook(
                "workflow_run",
                &fresh(),
                &workflow_run_event("completed", &same_run_other_file),
                Sig::Good,
            )),
            Expect::Status(202),
        ),
    ]
}

fn config_cases(base: &str) -> Vec<Case> {
    let check = |config: String| Input::Check { config };
    let replace = |from: &str, to: &str| {
        assert!(base.contains(from), "{from}");
        check(base.replacen(from, to, 1))
    };
    let duplicate_chat = format!("{base}\n[[chats]]\nid = -1001000000001\nname = \"again\"\n");
    let duplicate_user =
        format!("{base}\n[[users]]\nid = 100000002\nname = \"Bob2\"\nroles = [\"qa\"]\n");
    let megabyte = "a".repeat(1024 * 1024);
    vec![
        case(
            "TOML syntax error",
            check(format!("{base}\n[github\n")),
            Expect::Refused("(syntax): unclosed table"),
        ),
        case(
            "empty file",
            check(String::new()),
            Expect::Refused("missing field"),
        ),
        case(
            "unknown key",
            replace(
                "poll_timeout_secs = 1",
                "poll_timeout_secs = 1\nevil = true",
            ),
            Expect::Refused("telegram.evil: unknown field `evil`"),
        ),
        case(
            "wrong type",
            replace("poll_timeout_secs = 1", "poll_timeout_secs = \"soon\""),
            Expect::Refused("telegram.poll_timeout_secs"),
        ),
        case(
            "a token in the file",
            replace(
                "poll_timeout_secs = 1",
                "poll_timeout_secs = 1\ntoken = \"123456:TEST-telegram-token\"",
            ),
            Expect::Refused("telegram.token: unknown field `token`"),
        ),
        case(
            "requires_verified_in an unknown env",
            replace(
                "requires_verified_in = \"staging\"",
                "requires_verified_in = \"qa-land\"",
            ),
            Expect::Refused(
                "environments.prod.approval.requires_verified_in: unknown environment \"qa-land\"",
            ),
        ),
        case(
            "requires_verified_in itself",
            replace(
                "requires_verified_in = \"staging\"",
                "requires_verified_in = \"prod\"",
            ),
            Expect::Refused("environments.prod.approval.requires_verified_in"),
        ),
        case(
            "negative approvals",
            replace(
                "approvers = [\"senior\"]\napprovals = 1",
                "approvers = [\"senior\"]\napprovals = -1",
            ),
            Expect::Refused("environments.prod.approval.approvals"),
        ),
        case(
            "huge approvals",
            replace(
                "approvers = [\"senior\"]\napprovals = 1",
                "approvers = [\"senior\"]\napprovals = 99999999999",
            ),
            Expect::Refused("environments.prod.approval.approvals"),
        ),
        case(
            "more approvals than seniors",
            replace(
                "approvers = [\"senior\"]\napprovals = 1",
                "approvers = [\"senior\"]\napprovals = 3",
            ),
            Expect::Refused("environments.prod.approval.approvals"),
        ),
        case(
            "approvals with no approvers",
            replace(
                "approvers = [\"qa\"]\napprovals = 1",
                "approvers = []\napprovals = 1",
            ),
            Expect::Refused("environments.staging.approval.approvers"),
        ),
        case(
            "duplicate chat ids",
            check(duplicate_chat),
            Expect::Refused("chat id -1001000000001 is listed twice"),
        ),
        case(
            "duplicate user ids",
            check(duplicate_user),
            Expect::Refused("user id 100000002 is listed twice"),
        ),
        case(
            "negative user id",
            replace("id = 100000005", "id = -100000005"),
            Expect::Refused("is not a Telegram user id"),
        ),
        case(
            "a 1 MB workflow file name",
            replace(
                "file = \"release.yml\"",
                &format!("file = \"{megabyte}.yml\""),
            ),
            Expect::Refused("github.workflows.release.file"),
        ),
        case(
            "a duration of forever",
            replace("confirm_within = \"30s\"", "confirm_within = \"forever\""),
            Expect::Refused("aws.confirm_within"),
        ),
        case(
            "a monitor that never rests",
            replace("\ninterval = \"1h\"", "\ninterval = \"0s\""),
            Expect::Refused("monitor.interval: must not be zero"),
        ),
        case(
            "GitHub polled a thousand times a second",
            replace("poll_interval = \"1h\"", "poll_interval = \"1ms\""),
            Expect::Refused("github.poll_interval: must be at least 100ms"),
        ),
        case(
            "a wait of a hundred years",
            replace("confirm_within = \"30s\"", "confirm_within = \"100years\""),
            Expect::Refused("aws.confirm_within: must be at most 30 days"),
        ),
        case(
            "a header timeout of zero",
            replace("[server]", "[server]\nheader_timeout = \"0s\""),
            Expect::Refused("server.header_timeout: must not be zero"),
        ),
        case(
            "an approval that never expires",
            replace("expiry = \"30m\"", "expiry = \"18446744073709551615s\""),
            Expect::Refused("environments.staging.approval.expiry"),
        ),
        case(
            "a chat routed to an unknown env",
            replace("envs = [\"prod\"]", "envs = [\"pr\u{43e}d\"]"),
            Expect::Refused("chats[1].envs"),
        ),
        case(
            "mention of someone not a user",
            replace(
                "envs = [\"prod\"]",
                "envs = [\"prod\"]\nmention_on_failure = [666000666]",
            ),
            Expect::Refused("chats[1].mention_on_failure"),
        ),
        case(
            "a role nobody holds",
            replace("approvers = [\"senior\"]", "approvers = [\"admin\"]"),
            Expect::Refused("no user holds the role \"admin\""),
        ),
        case(
            "the same key twice",
            replace(
                "poll_timeout_secs = 1",
                "poll_timeout_secs = 1\npoll_timeout_secs = 2",
            ),
            Expect::Refused("(syntax): duplicate key"),
        ),
    ]
}

#[tokio::test]
async fn hostile_inputs_are_refused_and_change_nothing() {
    let started = Instant::now();
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.gh.add_release("v1.4.0");
    world.start_bot().await;

    // A little real state, by the normal paths: a prod deploy awaiting
    // approval in the team chat (#2; #1 is staging's verified 1.3.0), a
    // staging deploy running, asked in the on-call chat (#3), a lock on dev and a mute in the team chat.
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
    eventually(std::time::Duration::from_secs(10), "#3 running", || async {
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
        .until_outbox_sent(
            "the setup's alerts delivered",
            std::time::Duration::from_secs(20),
        )
        .await;
    let mut before = snapshot(&world).await;
    assert_eq!(before.operations.len(), 3);
    assert_eq!(before.locks.len(), 1);
    assert_eq!(before.mutes.len(), 1);
    assert_eq!(before.dispatches.len(), 1);

    let mut cases = Vec::new();
    let counts = {
        let chat = chat_cases();
        let taps = tap_cases();
        let hooks = webhook_cases(&run, setup_delivery, &request_id);
        let configs = config_cases(&world.config_text());
        let counts = [
            ("chat commands", chat.len()),
            ("button taps", taps.len()),
            ("webhooks", hooks.len()),
            ("config files", configs.len()),
        ];
        cases.extend(chat);
        cases.extend(taps);
        cases.extend(hooks);
        cases.extend(configs);
        counts
    };
    assert!(cases.len() >= 60, "only {} cases", cases.len());

    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let got: Result<(), String> = match (&case.input, &case.expect) {
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
                    Under::TeamPrompt => &team_prompt,
                    Under::OncallPrompt => &oncall_prompt,
                };
                let query = world.tg.user_taps(message, who.id, who.name, data);
                let (answer, alert) = world.tg.tap_answer(&query).await;
                if answer.contains(expected) && alert {
                    Ok(())
                } else {
                    Err(format!("{answer} (alert: {alert})"))
                }
            }
            (
                Input::Hook {
                    event,
                    delivery,
                    body,
                    sig,
                    ..
                },
                expect @ (Expect::Status(_) | Expect::TooLarge),
            ) => {
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
            (Input::Check { config }, Expect::Refused(expected)) => {
                let out = check(&world, &format!("case{i}"), config).await;
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
        };
        if let Err(answer) = got {
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
    let op = store
        .operation(aletheia_bot::domain::OperationId(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(op.state, OperationState::AwaitingApproval);
    world.tg.assert_all_read();
}
