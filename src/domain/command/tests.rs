use super::*;
use crate::domain::OperationId;

fn envs() -> Vec<Env> {
    ["dev", "staging", "prod"]
        .iter()
        .map(|e| Env::parse(e).unwrap())
        .collect()
}

fn run(text: &str) -> Option<Result<Command, ParseError>> {
    let envs = envs();
    parse(
        text,
        &ParseContext {
            bot_username: Some("AletheiaBot"),
            envs: &envs,
            allow_pre_release: false,
        },
    )
}

fn ok(text: &str) -> Command {
    match run(text) {
        Some(Ok(c)) => c,
        other => panic!("{text:?} should parse, got {other:?}"),
    }
}

fn refused(text: &str) -> String {
    match run(text) {
        Some(Err(e)) => e.message(),
        other => panic!("{text:?} should be refused, got {other:?}"),
    }
}

fn env(name: &str) -> Env {
    Env::parse(name).unwrap()
}

fn v(s: &str) -> Version {
    Version::parse(s, true).unwrap()
}

#[test]
fn accepted_inputs() {
    let table: Vec<(&str, Command)> = vec![
        ("/help", Command::Help),
        ("/start", Command::Help),
        ("/whoami", Command::WhoAmI),
        ("/secrets", Command::Secrets),
        ("  /whoami  ", Command::WhoAmI),
        ("/status", Command::Status { env: None }),
        (
            "/status prod",
            Command::Status {
                env: Some(env("prod")),
            },
        ),
        (
            "/status PROD",
            Command::Status {
                env: Some(env("prod")),
            },
        ),
        ("/status@AletheiaBot", Command::Status { env: None }),
        (
            "/status@aletheiabot staging",
            Command::Status {
                env: Some(env("staging")),
            },
        ),
        ("/STATUS", Command::Status { env: None }),
        (
            "/release 1.2.3 minor",
            Command::Release {
                version: v("1.2.3"),
                release_type: ReleaseType::Minor,
                dry_run: false,
            },
        ),
        (
            "/release v2.0.0 MAJOR",
            Command::Release {
                version: v("2.0.0"),
                release_type: ReleaseType::Major,
                dry_run: false,
            },
        ),
        (
            "/deploy prod 1.2.3",
            Command::Deploy {
                env: env("prod"),
                version: v("1.2.3"),
                dry_run: false,
            },
        ),
        (
            "/deploy prod --dry-run 1.2.3",
            Command::Deploy {
                env: env("prod"),
                version: v("1.2.3"),
                dry_run: true,
            },
        ),
        (
            "/release 1.3.0 minor --dry-run",
            Command::Release {
                version: v("1.3.0"),
                release_type: ReleaseType::Minor,
                dry_run: true,
            },
        ),
        (
            "/rollback prod v1.2.2",
            Command::Rollback {
                env: env("prod"),
                version: v("1.2.2"),
                break_glass: None,
            },
        ),
        (
            "/rollback prod 1.2.2 --break-glass  checkout   is down ",
            Command::Rollback {
                env: env("prod"),
                version: v("1.2.2"),
                break_glass: Some("checkout is down".into()),
            },
        ),
    ];
    for (text, expected) in table {
        assert_eq!(ok(text), expected, "{text}");
    }
}

#[test]
fn accepted_guides_cancels_locks_and_history() {
    let table: Vec<(&str, Command)> = vec![
        ("/rollback", Command::GuideRollback { env: None }),
        (
            "/rollback staging",
            Command::GuideRollback {
                env: Some(env("staging")),
            },
        ),
        ("/release", Command::GuideRelease),
        ("/deploy", Command::GuideDeploy { env: None }),
        (
            "/deploy Prod",
            Command::GuideDeploy {
                env: Some(env("prod")),
            },
        ),
        ("/cancel", Command::Cancel { id: None }),
        (
            "/cancel #12",
            Command::Cancel {
                id: Some(OperationId(12)),
            },
        ),
        (
            "/lock prod db failover in progress 2h",
            Command::Lock {
                env: env("prod"),
                reason: "db failover in progress".into(),
                duration: Some(std::time::Duration::from_secs(7200)),
            },
        ),
        (
            "/lock prod waiting for 2 fixes",
            Command::Lock {
                env: env("prod"),
                reason: "waiting for 2 fixes".into(),
                duration: None,
            },
        ),
        ("/unlock prod", Command::Unlock { env: env("prod") }),
        ("/history", Command::History { env: None, n: 10 }),
        (
            "/history 5 staging",
            Command::History {
                env: Some(env("staging")),
                n: 5,
            },
        ),
    ];
    for (text, expected) in table {
        assert_eq!(ok(text), expected, "{text}");
    }
}

#[test]
fn not_commands_or_not_for_us() {
    for text in [
        "hello",
        "",
        "/",
        "/@AletheiaBot",
        "/status@OtherBot",
        "status",
        " / status",
    ] {
        assert_eq!(run(text), None, "{text:?}");
    }
}

#[test]
fn refused_inputs_name_the_problem_and_show_usage() {
    let table = [
        (
            "/status qa",
            "Unknown environment \"qa\". Known: dev, staging, prod.\nUsage: /status [env]",
        ),
        (
            "/status prod now",
            "Too many arguments.\nUsage: /status [env]",
        ),
        (
            "/whoami please",
            "/whoami takes no arguments.\nUsage: /whoami",
        ),
        (
            "/secrets prod",
            "/secrets takes no arguments.\nUsage: /secrets",
        ),
        (
            "/frobnicate",
            "Unknown command /frobnicate. /help lists what I can do.",
        ),
        (
            "/release 1.2 minor",
            "\"1.2\" is not a version: expected MAJOR.MINOR.PATCH, e.g. 1.2.3.\nUsage: /release [<version> <patch|minor|major>] [--dry-run]",
        ),
        (
            "/release 1.2.3-rc.1 minor",
            "\"1.2.3-rc.1\" is not a version: expected MAJOR.MINOR.PATCH, e.g. 1.2.3.\nUsage: /release [<version> <patch|minor|major>] [--dry-run]",
        ),
        (
            "/release 1.2.3 huge",
            "\"huge\" is not a release type (patch, minor or major).\nUsage: /release [<version> <patch|minor|major>] [--dry-run]",
        ),
        (
            "/release 1.2.3",
            "Say the version and the release type.\nUsage: /release [<version> <patch|minor|major>] [--dry-run]",
        ),
        (
            "/release 1.2.3 minor now",
            "Too many arguments.\nUsage: /release [<version> <patch|minor|major>] [--dry-run]",
        ),
        (
            "/deploy prod --dry-run",
            "Say the environment and the version.\nUsage: /deploy [<env> [<version>]] [--dry-run]",
        ),
        (
            "/deploy moon 1.2.3",
            "Unknown environment \"moon\". Known: dev, staging, prod.\nUsage: /deploy [<env> [<version>]] [--dry-run]",
        ),
        (
            "/rollback prod latest",
            "\"latest\" is not a version: expected MAJOR.MINOR.PATCH, e.g. 1.2.3.\nUsage: /rollback [<env> [<version>]] [--break-glass <reason>]",
        ),
        (
            "/cancel twelve",
            "\"twelve\" is not a request number (like 12 or #12).\nUsage: /cancel [id]",
        ),
        (
            "/lock prod",
            "Say the environment and why.\nUsage: /lock <env> <reason> [duration, e.g. 2h]",
        ),
        (
            "/history 500",
            "Show between 1 and 50 operations.\nUsage: /history [env] [n]",
        ),
        (
            "/history prod staging",
            "Too many arguments.\nUsage: /history [env] [n]",
        ),
        (
            "/rollback prod 1.2.2 --break-glass",
            "--break-glass needs a reason: what is on fire.\nUsage: /rollback [<env> [<version>]] [--break-glass <reason>]",
        ),
        (
            "/rollback prod --break-glass fire",
            "Say the environment and the version.\nUsage: /rollback [<env> [<version>]] [--break-glass <reason>]",
        ),
        (
            "/rollback prod 1.2.2 1.2.1",
            "Too many arguments.\nUsage: /rollback [<env> [<version>]] [--break-glass <reason>]",
        ),
    ];
    for (text, expected) in table {
        assert_eq!(refused(text), expected, "{text}");
    }
}

#[test]
fn long_garbage_is_clipped_in_the_answer() {
    let long = "x".repeat(500);
    let message = refused(&format!("/status {long}"));
    assert!(message.len() < 120, "{message}");
    let message = refused(&format!("/{long}"));
    assert!(message.len() < 120, "{message}");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const NAMES: &[&str] = &[
        "release", "deploy", "rollback", "lock", "unlock", "cancel", "history", "mute", "unmute",
        "stats", "status", "whoami", "help", "diagnose", "secrets",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Any text at all: an answer or a refusal, never a panic.
        #[test]
        fn any_text_is_parsed_or_refused(text in "\\PC{0,300}") {
            let _ = run(&text);
        }

        /// Known commands with arbitrary arguments: what is accepted holds
        /// only configured environments, real versions and bounded values.
        #[test]
        fn accepted_commands_hold_only_sound_values(
            name in prop::sample::select(NAMES),
            args in prop::collection::vec("[^\\s]{1,16}", 0..6),
        ) {
            let text = format!("/{name} {}", args.join(" "));
            let known = envs();
            match run(&text) {
                Some(Ok(Command::Deploy { env, version, .. }))
                | Some(Ok(Command::Rollback { env, version, .. })) => {
                    prop_assert!(known.contains(&env));
                    prop_assert!(Version::parse(&version.to_string(), true).is_ok());
                }
                Some(Ok(Command::Release { version, .. })) => {
                    // Pre-releases are not allowed in this context.
                    prop_assert!(Version::parse(&version.to_string(), false).is_ok());
                }
                Some(Ok(Command::Lock { env, reason, duration })) => {
                    prop_assert!(known.contains(&env));
                    prop_assert!(!reason.is_empty() && reason.chars().count() <= 301);
                    prop_assert!(duration.is_none_or(|d| d.as_secs() <= 90 * 24 * 3600));
                }
                Some(Ok(Command::Cancel { id: Some(id) })) => prop_assert!(id.0 > 0),
                Some(Ok(Command::History { n, env })) => {
                    prop_assert!((1..=50).contains(&n));
                    prop_assert!(env.is_none_or(|e| known.contains(&e)));
                }
                Some(Ok(Command::Mute { duration, .. })) => {
                    prop_assert!(duration.as_secs() <= 7 * 24 * 3600);
                }
                Some(Ok(Command::Stats { days })) => prop_assert!((1..=365).contains(&days)),
                Some(Ok(Command::Diagnose { env })) => prop_assert!(known.contains(&env)),
                _ => {}
            }
        }
    }
}
