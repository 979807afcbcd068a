//! `aletheia-bot init`: the repository's workflows and the region's ECS
//! services in, a commented bot.toml out, which `check --online` and the
//! bot then take as the README's "Adopt it in ten minutes" says.

use std::path::Path;
use std::process::Output;

use crate::support::*;

/// `init` with only what it needs in its environment: GitHub's token and
/// AWS credentials (no Telegram token: there is no bot yet).
async fn init(world: &World, region: &str, output: &Path) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_aletheia-bot"))
        .args([
            "init",
            "--repo",
            "mindburn-labs/aletheia",
            "--region",
            region,
        ])
        .arg("--output")
        .arg(output)
        .args(["--api-url", &world.gh.url(), "--endpoint-url", moto::url()])
        .env_clear()
        .env("HOME", world.dir.path())
        .env("GITHUB_TOKEN", github::TOKEN)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .await
        .unwrap()
}

/// A cluster with one service whose `container` runs `image`.
async fn service(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
    container: &str,
    image: &str,
) {
    let _ = ecs.create_cluster().cluster_name(cluster).send().await;
    let family = format!("{cluster}-{service}");
    let arn = moto::register_container(ecs, &family, container, image).await;
    moto::create_service(ecs, cluster, service, &arn, moto::RUNNING).await;
}

fn text_of(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The README's step 4: the chat and the person /whoami named, put into
/// the two commented entries.
fn fill_in(written: &str, chat: i64, user: i64) -> String {
    written
        .replace("# [[chats]]\n", "[[chats]]\n")
        .replace("# id = -1001234567890\n", &format!("id = {chat}\n"))
        .replace("# name = \"team\"\n", "name = \"team\"\n")
        .replace("# alerts = [", "alerts = [")
        .replace("# [[users]]\n", "[[users]]\n")
        .replace("# id = 123456789\n", &format!("id = {user}\n"))
        .replace("# name = \"Your name\"\n", "name = \"Bob\"\n")
        .replace("# roles = [", "roles = [")
}

/// Where this world's bot listens and finds Telegram (the file's
/// defaults are the real Telegram and port 8080).
fn in_this_world(world: &World, text: &str) -> String {
    text.replace(
        "listen = \"0.0.0.0:8080\"",
        &format!("listen = \"127.0.0.1:{}\"", world.http_port),
    )
    .replace(
        "api_url = \"https://api.telegram.org\"",
        &format!("api_url = \"{}\"\npoll_timeout_secs = 1", world.tg.url()),
    )
}

#[tokio::test]
async fn init_writes_a_config_that_check_online_and_the_bot_take() {
    // A region of its own: init lists every cluster there, and the other
    // scenarios' clusters share moto's default region.
    const REGION: &str = "eu-central-1";
    let mut world = World::new().await;
    let ecs = moto::client_in(REGION).await;
    let p = world.prefix.clone();
    service(
        &ecs,
        &format!("{p}-staging"),
        "api",
        "api",
        "repo/shop:1.2.3",
    )
    .await;
    service(&ecs, &format!("{p}-prod"), "api", "api", "repo/shop:1.2.2").await;
    service(
        &ecs,
        &format!("{p}-prod"),
        "worker",
        "worker",
        "repo/shop-worker:1.2.2",
    )
    .await;
    service(
        &ecs,
        &format!("{p}-tools"),
        "grafana",
        "grafana",
        "grafana/grafana:10",
    )
    .await;
    world.gh.add_workflow("ci.yml", "CI");

    let output = world.dir.path().join("written.toml");
    let out = init(&world, REGION, &output).await;
    let (stdout, stderr) = text_of(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let expected = format!(
        "✅ workflow release: release.yml (Release)\n\
         ✅ workflow deploy: deploy.yml (Deploy)\n\
         ✅ workflow rollback: rollback.yml (Rollback)\n\
         ✅ environment staging: {p}-staging/api (container api)\n\
         ✅ environment prod: {p}-prod/api (container api), {p}-prod/worker (container worker)\n\
         ➖ left out: {p}-tools/grafana: neither its name nor its cluster's says dev, staging or prod\n\
         {} written: fill in [[chats]] and [[users]] as it says, then run `aletheia-bot check --online`\n",
        output.display()
    );
    assert_eq!(stdout, expected);

    let written = std::fs::read_to_string(&output).unwrap();
    for part in [
        format!("api_url = \"{}\"\n", world.gh.url()),
        "[github.workflows.release]\nfile = \"release.yml\"\n".to_owned(),
        "[github.workflows.deploy]\nfile = \"deploy.yml\"\n".to_owned(),
        "[github.workflows.rollback]\nfile = \"rollback.yml\"\n".to_owned(),
        format!(
            "[aws]\nregion = \"{REGION}\"\nendpoint_url = \"{}\"\n",
            moto::url()
        ),
        format!(
            "[environments.staging]\ncluster = \"{p}-staging\"\nservice = \"api\"\ncontainer = \"api\"\n"
        ),
        format!(
            "[environments.prod]\nservices = [\n  \
             {{ cluster = \"{p}-prod\", service = \"api\", container = \"api\" }},\n  \
             {{ cluster = \"{p}-prod\", service = \"worker\", container = \"worker\" }},\n]\n"
        ),
        format!("#   cluster {p}-tools, service grafana: neither"),
    ] {
        assert!(written.contains(&part), "{part}\nnot in\n{written}");
    }
    assert!(!written.contains("[environments.dev]"), "{written}");
    assert!(!written.contains("MISSING"), "{written}");

    // Never over an existing file: refused, the file untouched.
    let again = init(&world, REGION, &output).await;
    let (stdout, stderr) = text_of(&again);
    assert!(!again.status.success(), "{stdout}");
    assert!(
        stderr.contains(&format!(
            "error: {} exists: init never overwrites a file",
            output.display()
        )),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&output).unwrap(), written);

    // As written: valid, and the bot starts on it, answering only
    // /whoami, which names the ids to fill in.
    world.config_toml = Some(in_this_world(&world, &written));
    let out = world.cli(&["check", "--online"]).await;
    let (stdout, stderr) = text_of(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("no [[users]] yet: the bot answers only /whoami and /help"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "✅ ECS prod ({p}-prod/worker): container worker runs 1.2.2"
        )),
        "{stdout}"
    );
    world.start_bot().await;
    let mine = world.say(BOB.id, &BOB, "/whoami").await.text;
    assert!(
        mine.contains(&format!("Telegram id: <code>{}</code>", BOB.id)),
        "{mine}"
    );
    let group = world.say(TEAM_CHAT, &BOB, "/whoami").await.text;
    assert!(
        group.contains(&format!(
            "This chat: <code>{TEAM_CHAT}</code> (not configured)"
        )),
        "{group}"
    );
    // A group it does not know, it leaves (to be added again once listed).
    eventually(
        std::time::Duration::from_secs(10),
        "the bot leaves the unlisted group",
        || async { !world.tg.bot_in(TEAM_CHAT) },
    )
    .await;

    // Filled in as the file says: check --online passes and /status
    // answers in the team's chat.
    world.config_toml = Some(in_this_world(&world, &fill_in(&written, TEAM_CHAT, BOB.id)));
    let out = world.cli(&["check", "--online"]).await;
    let (stdout, stderr) = text_of(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("chats: 1; users: 1"), "{stdout}");
    assert!(!stdout.contains("❌"), "{stdout}");
    world.restart_bot().await;
    world.tg.add_bot_to(TEAM_CHAT);
    let status = world.say(TEAM_CHAT, &BOB, "/status").await.text;
    assert!(
        status.contains("<b>staging</b> ✅ <b>1.2.3</b>"),
        "{status}"
    );
    assert!(
        status
            .contains("<b>prod</b> <b>1.2.2</b> on 2 services\n   api ✅ <b>1.2.2</b> · 2/2 tasks"),
        "{status}"
    );
    assert!(
        status.contains("\n   worker ✅ <b>1.2.2</b> · 2/2 tasks"),
        "{status}"
    );
}

#[tokio::test]
async fn init_finds_a_workflow_by_its_name_and_names_a_missing_one() {
    const REGION: &str = "eu-north-1";
    let mut world = World::new().await;
    let ecs = moto::client_in(REGION).await;
    let p = world.prefix.clone();
    service(
        &ecs,
        &format!("{p}-shop"),
        "api-prod",
        "api",
        "repo/shop:2.0.1",
    )
    .await;
    world.gh.remove_workflow("rollback.yml");
    // The Deploy workflow under another file name, on the list's second
    // page (GitHub gives at most 100 a page).
    world.gh.remove_workflow("deploy.yml");
    for i in 0..100 {
        world
            .gh
            .add_workflow(&format!("lint-{i}.yml"), &format!("Lint {i}"));
    }
    world.gh.add_workflow("ship-it.yml", "Deploy to ECS");

    let output = world.dir.path().join("written.toml");
    let out = init(&world, REGION, &output).await;
    let (stdout, stderr) = text_of(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "✅ workflow deploy: ship-it.yml (Deploy to ECS)\n\
             ❌ workflow rollback: none found; add examples/workflows/rollback.yml to the repository\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "✅ environment prod: {p}-shop/api-prod (container api)\n"
        )),
        "{stdout}"
    );
    let written = std::fs::read_to_string(&output).unwrap();
    assert!(
        written.contains(
            "# MISSING: mindburn-labs/aletheia has no rollback workflow. Copy examples/workflows/rollback.yml\n"
        ),
        "{written}"
    );

    // Valid as written; online, the missing workflow is the one failure.
    world.config_toml = Some(in_this_world(&world, &written));
    let out = world.cli(&["check", "--online"]).await;
    let (stdout, stderr) = text_of(&out);
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("configuration is valid"), "{stdout}");
    assert!(stderr.contains("error: some probes failed"), "{stderr}");
    let failed: Vec<&str> = stdout.lines().filter(|l| l.starts_with("❌")).collect();
    assert_eq!(
        failed,
        [
            "❌ GitHub workflow rollback (rollback.yml): workflow rollback.yml not found in \
             mindburn-labs/aletheia (404): add .github/workflows/rollback.yml to the default \
             branch, or fix github.workflows"
        ],
        "{stdout}"
    );
}
