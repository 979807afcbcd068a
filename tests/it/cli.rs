//! The command line beside `run`: `check` (offline and `--online`),
//! `migrate` and `healthcheck`, against the same fakes.

use crate::support::*;

#[tokio::test]
async fn check_accepts_the_shipped_config_and_names_a_typo() {
    let world = World::new().await;
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/bot.toml");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_aletheia-bot"))
        .args(["--config", shipped, "check"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("configuration is valid"));

    let typo = world.dir.path().join("typo.toml");
    let text = std::fs::read_to_string(shipped)
        .unwrap()
        .replace("requires_verified_in", "requires_verifed_in");
    std::fs::write(&typo, text).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_aletheia-bot"))
        .arg("--config")
        .arg(&typo)
        .arg("check")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "environments.prod.approval.requires_verifed_in: unknown field `requires_verifed_in`"
        ),
        "{stderr}"
    );
}

#[tokio::test]
async fn check_online_probes_each_service_and_says_what_is_wrong() {
    let world = World::new().await;
    world.seed().await;
    let out = world.cli(&["check", "--online"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("✅ Telegram: getMe answered: @AletheiaTestBot"),
        "{stdout}"
    );
    assert!(
        stdout.contains("✅ GitHub repository: mindburn-labs/aletheia"),
        "{stdout}"
    );
    assert!(
        stdout.contains("✅ GitHub workflow deploy (deploy.yml): Deploy"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "✅ ECS prod ({}/aletheia-api): container api runs 1.2.2",
            world.cluster("prod")
        )),
        "{stdout}"
    );

    world.gh.disable_workflow("rollback.yml");
    world.gh.remove_workflow("release.yml");
    world
        .ecs
        .delete_service()
        .cluster(world.cluster("dev"))
        .service("aletheia-api")
        .force(true)
        .send()
        .await
        .unwrap();
    let out = world.cli(&["check", "--online"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stdout.contains(
            "❌ GitHub workflow release (release.yml): workflow release.yml not found in \
             mindburn-labs/aletheia (404)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "❌ GitHub workflow rollback (rollback.yml): state is disabled_manually (not active)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "❌ ECS dev ({}/aletheia-api): ",
            world.cluster("dev")
        )),
        "{stdout}"
    );
    assert!(stdout.contains("✅ ECS prod"), "{stdout}");
}

#[tokio::test]
async fn migrate_creates_the_database_file() {
    let world = World::new().await;
    let out = world.cli(&["migrate"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(world.dir.path().join("bot.db").exists());
    // Twice is harmless.
    let out = world.cli(&["migrate"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The image's HEALTHCHECK: `aletheia-bot healthcheck` asks the bot's own
/// `/livez` on `server.listen`, failing while nothing serves there.
#[tokio::test]
async fn healthcheck_passes_only_while_the_bot_serves() {
    let mut world = World::new().await;
    world.seed().await;
    let out = world.cli(&["healthcheck"]).await;
    assert!(!out.status.success(), "nothing listens yet");
    world.start_bot().await;
    let out = world.cli(&["healthcheck"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("/livez: 200"));
}
