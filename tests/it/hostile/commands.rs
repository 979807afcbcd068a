//! The hostile table's chat commands: strangers, impostors, arguments
//! that are too many, too long or not what they claim, each refused with
//! its answer.

use super::*;

pub(super) fn chat_cases() -> Vec<Case> {
    [
        argument_cases(),
        lock_and_mute_cases(),
        count_and_id_cases(),
        stranger_cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Arguments that are not what they claim: injected, overlong, look-alike.
fn argument_cases() -> Vec<Case> {
    let a = ALICE.id;
    let b = BOB.id;
    let c = CAROL.id;
    let d = DAVE.id;
    let q = QUINN.id;
    let not_version = Expect::Text("is not a version: expected MAJOR.MINOR.PATCH");
    let unknown_env = Expect::Text("Unknown environment");
    let too_many = Expect::Text("Too many arguments.");
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
    ]
}

/// Deploys to a busy or locked env, locks and mutes past their limits or
/// by someone without the role.
fn lock_and_mute_cases() -> Vec<Case> {
    let a = ALICE.id;
    let b = BOB.id;
    let d = DAVE.id;
    let q = QUINN.id;
    let too_many = Expect::Text("Too many arguments.");
    vec![
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
    ]
}

/// Counts and ids out of range, requests that are not the caller's, roles
/// missing for a rollback.
fn count_and_id_cases() -> Vec<Case> {
    let a = ALICE.id;
    let b = BOB.id;
    let c = CAROL.id;
    let d = DAVE.id;
    let q = QUINN.id;
    vec![
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
    ]
}

/// Unknown commands, other bots' and strangers', impostors by name.
fn stranger_cases() -> Vec<Case> {
    let a = ALICE.id;
    let b = BOB.id;
    let c = CAROL.id;
    let d = DAVE.id;
    let stranger = Expect::Text("⛔ You are not on this bot's list of users. Your Telegram id is ");
    vec![
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
