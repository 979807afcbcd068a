//! The hostile table's button taps: forged, stale, someone else's or by
//! someone who may not decide, each refused with an alert.

use super::*;

pub(super) fn tap_cases() -> Vec<Case> {
    [forged_cases(), misplaced_cases()]
        .into_iter()
        .flatten()
        .collect()
}

/// Data that is no button of the bot's: unknown, malformed, overlong.
fn forged_cases() -> Vec<Case> {
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
    ]
}

/// Buttons of another kind or another chat, or tapped by someone who may
/// not decide.
fn misplaced_cases() -> Vec<Case> {
    use Under::*;
    let not_mine = Expect::Text("This button is not one of mine.");
    vec![
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
