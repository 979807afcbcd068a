//! `check --online` and the start of `run` as a newcomer meets them: each
//! failure one line saying what to fix, no client's error dump, no
//! warning repeated per environment.

use crate::support::*;

const NO_AWS_CREDENTIALS: &str = "no AWS credentials found (tried the environment, the profile, \
     the container/instance role): set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE";

const TELEGRAM_TOKEN_REJECTED: &str =
    "Telegram: token rejected (401): set TELEGRAM_BOT_TOKEN to a valid token";

/// No credentials anywhere: the environment holds none, HOME has no
/// `~/.aws`, and the instance metadata service is not asked.
const NO_CREDENTIALS: &[(&str, Option<&str>)] = &[
    ("AWS_ACCESS_KEY_ID", None),
    ("AWS_SECRET_ACCESS_KEY", None),
    ("RUST_LOG", None),
];

/// `run` as it stops by itself on a fault it cannot wait out (a bound,
/// so that a bot that would wait forever fails the test instead).
async fn run_until_it_stops(world: &World, env: &[(&str, Option<&str>)]) -> std::process::Output {
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        world.cli_with(&["run"], |c| c, env),
    )
    .await
    .expect("run stops by itself")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Nothing a client's error dump is made of.
fn assert_no_dump(stdout: &str) {
    for dump in [
        "DispatchFailure",
        "dispatch failure",
        "Some(",
        "Attempted:",
        "source:",
    ] {
        assert!(!stdout.contains(dump), "{dump:?} in:\n{stdout}");
    }
}

#[tokio::test]
async fn check_online_without_aws_credentials_says_so_in_one_line_per_environment() {
    let world = World::new().await;
    world.seed().await;
    let out = world
        .cli_with(&["check", "--online"], |c| c, NO_CREDENTIALS)
        .await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success(), "{stdout}");
    assert_no_dump(&stdout);
    for env in ["dev", "staging", "prod"] {
        let lines: Vec<&str> = stdout
            .lines()
            .filter(|l| l.contains(&format!("ECS {env} ")))
            .collect();
        assert_eq!(
            lines,
            [format!(
                "❌ ECS {env} ({}/aletheia-api): {NO_AWS_CREDENTIALS}",
                world.cluster(env)
            )],
            "{stdout}"
        );
    }
    // Telegram and GitHub still pass; every line is a probe's or the summary's.
    assert!(stdout.contains("✅ Telegram"), "{stdout}");
    assert!(stdout.contains("✅ GitHub repository"), "{stdout}");
    assert_eq!(stdout.lines().count(), 2 + 1 + 4 + 3, "{stdout}");
    // Nothing on stderr but the verdict: no warning per environment.
    assert_eq!(stderr.trim(), "error: some probes failed", "{stderr}");

    // The provider chain's own account is in the log, at debug.
    let out = world
        .cli_with(
            &["check", "--online"],
            |c| c,
            &[
                ("AWS_ACCESS_KEY_ID", None),
                ("AWS_SECRET_ACCESS_KEY", None),
                ("RUST_LOG", Some("aletheia_bot=debug")),
            ],
        )
        .await;
    assert_no_dump(&text(&out.stdout));
    assert!(
        text(&out.stderr).contains("no credentials found in chain"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn run_without_aws_credentials_stops_at_once_saying_so() {
    let world = World::new().await;
    let out = run_until_it_stops(&world, NO_CREDENTIALS).await;
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert_eq!(
        stderr.trim(),
        format!("error: ECS: {NO_AWS_CREDENTIALS}"),
        "{stderr}"
    );
}

#[tokio::test]
async fn check_online_names_a_github_host_that_does_not_resolve() {
    let world = World::new().await;
    world.seed().await;
    let fake = world.gh.url();
    let out = world
        .cli_with(
            &["check", "--online"],
            |c| c.replace(&fake, "https://github.invalid/"),
            &[("RUST_LOG", None)],
        )
        .await;
    let stdout = text(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert_no_dump(&stdout);
    let github: Vec<&str> = stdout.lines().filter(|l| l.contains("GitHub")).collect();
    // The workflows are not asked of a host that is not there.
    assert_eq!(
        github,
        ["❌ GitHub repository: host not found (github.api_url = https://github.invalid/)"],
        "{stdout}"
    );
    assert!(
        !text(&out.stderr).contains("ERROR"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn check_online_and_run_say_telegram_rejected_the_token() {
    let world = World::new().await;
    world.seed().await;
    let wrong = &[
        ("TELEGRAM_BOT_TOKEN", Some("123456:not-the-token")),
        ("RUST_LOG", None),
    ];
    let out = world.cli_with(&["check", "--online"], |c| c, wrong).await;
    let stdout = text(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    let telegram: Vec<&str> = stdout.lines().filter(|l| l.contains("Telegram")).collect();
    assert_eq!(
        telegram,
        [format!("❌ {TELEGRAM_TOKEN_REJECTED}")],
        "{stdout}"
    );
    assert!(!stdout.contains("not-the-token"), "{stdout}");

    let out = run_until_it_stops(&world, wrong).await;
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert_eq!(
        stderr.trim(),
        format!("error: {TELEGRAM_TOKEN_REJECTED}"),
        "{stderr}"
    );
}
