//! The `bot.toml` `init` writes: what it found, commented, and the
//! placeholders for chats and users. Valid as written (`aletheia-bot
//! check` passes): until `[[users]]` is filled in, the bot answers only
//! `/whoami` and `/help`, which is how the team learns the ids to fill in.

use std::fmt::Write;

use super::plan::{KINDS, Plan, PlannedService};

/// A TOML basic string (JSON's escapes are TOML's).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

/// Text from GitHub or ECS, safe on one comment line.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Where the examples of the three workflows are.
const EXAMPLES: &str = "examples/workflows/";

const HEADER: &str = "\
# Secrets never go in this file. They come from the environment:
#   TELEGRAM_BOT_TOKEN      the bot's token from @BotFather
#   GITHUB_TOKEN            a fine-grained token (or GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY)
#   GITHUB_WEBHOOK_SECRET   the secret set on the repository's webhook
#   AWS credentials         the standard provider chain (env, profile, task role)
# Every other key, with its default, is in the README's configuration
# reference and in the bot.toml shipped with aletheia-bot.

[server]
# Where the HTTP server listens: POST /github/webhook, GET /livez, GET /readyz.
listen = \"0.0.0.0:8080\"

[database]
# sqlite://PATH (created on first start) or postgres://USER@HOST/DB.
# DATABASE_URL, when set, wins.
url = \"sqlite://aletheia.db\"

[telegram]
api_url = \"https://api.telegram.org\"
";

const PEOPLE: &str = "
# Chats and people. Until [[users]] lists someone, the bot answers only
# /whoami and /help (once an hour per chat), which tells you what to write:
#   1. Start the bot: `aletheia-bot run`.
#   2. Write /whoami to the bot in a private chat: it answers
#      \"Telegram id: 123456789\".
#   3. Add the bot to the team's group and send /whoami there: it also
#      answers \"This chat: -1001234567890 (not configured)\", then leaves
#      the group, which it does not know yet.
#   4. Uncomment the two entries below, put those ids in, restart the bot
#      and add it to the group again.
# Roles: developer (asks for deploys and releases), qa (verifies), senior
# (approves, rolls back, locks). Give each teammate a [[users]] entry.
#
# [[chats]]
# id = -1001234567890
# name = \"team\"
# alerts = [\"release\", \"deployment\", \"rollback\", \"failure\", \"health\", \"approval\"]
#
# [[users]]
# id = 123456789
# name = \"Your name\"
# roles = [\"senior\", \"developer\"]
";

/// The whole file.
pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# aletheia-bot configuration for {}/{} in {}, written by `aletheia-bot init`.",
        plan.owner, plan.repo, plan.region
    );
    out.push_str(
        "# Validate it with `aletheia-bot check`; probe Telegram, GitHub and ECS\n\
         # with `aletheia-bot check --online`.\n#\n",
    );
    out.push_str(HEADER);
    github(&mut out, plan);
    aws(&mut out, plan);
    environments(&mut out, plan);
    out.push_str(PEOPLE);
    out
}

fn github(out: &mut String, plan: &Plan) {
    let _ = writeln!(
        out,
        "\n[github]\nowner = {}\nrepo = {}",
        quoted(&plan.owner),
        quoted(&plan.repo)
    );
    if let Some(api) = &plan.api_url {
        let _ = writeln!(out, "api_url = {}", quoted(api));
    }
    let _ = writeln!(
        out,
        "# The branch releases are cut from (the repository's default).\nref = {}",
        quoted(&plan.git_ref)
    );
    out.push_str(
        "\n# The three workflows of the process, dispatched with the inputs\n\
         # version, release_type, environment and request_id (map other names with\n\
         # `inputs = { version = \"tag\" }`). The examples fit: examples/workflows/.\n",
    );
    for (kind, found) in KINDS.iter().zip(&plan.workflows) {
        out.push('\n');
        match found {
            Some(w) => {
                let _ = writeln!(out, "# Found: \"{}\".", one_line(&w.name));
                if w.state != "active" {
                    let _ = writeln!(
                        out,
                        "# Its state on GitHub is {}: enable it (`check --online` fails until then).",
                        one_line(&w.state)
                    );
                }
                let _ = writeln!(out, "[github.workflows.{kind}]\nfile = {}", quoted(&w.file));
            }
            None => {
                let _ = writeln!(
                    out,
                    "# MISSING: {}/{} has no {kind} workflow. Copy {EXAMPLES}{kind}.yml\n\
                     # into its .github/workflows/, or name yours here\n\
                     # (`check --online` fails until it exists).\n\
                     [github.workflows.{kind}]\nfile = \"{kind}.yml\"",
                    plan.owner, plan.repo
                );
            }
        }
    }
}

fn aws(out: &mut String, plan: &Plan) {
    out.push_str("\n# The bot's least privileges on ECS: examples/iam-policy.json.\n[aws]\n");
    let _ = writeln!(out, "region = {}", quoted(&plan.region));
    if let Some(endpoint) = &plan.endpoint_url {
        let _ = writeln!(out, "endpoint_url = {}", quoted(endpoint));
    }
}

/// `cluster`, `service` and `container` of one service, or `services`.
fn services(out: &mut String, services: &[PlannedService]) {
    for s in services {
        if let Some(note) = &s.note {
            let _ = writeln!(out, "# Check {}: {}.", one_line(&s.service), one_line(note));
        }
    }
    match services {
        [one] => {
            let _ = writeln!(
                out,
                "cluster = {}\nservice = {}\ncontainer = {}",
                quoted(&one.cluster),
                quoted(&one.service),
                quoted(&one.container)
            );
        }
        many => {
            out.push_str("services = [\n");
            for s in many {
                let _ = writeln!(
                    out,
                    "  {{ cluster = {}, service = {}, container = {} }},",
                    quoted(&s.cluster),
                    quoted(&s.service),
                    quoted(&s.container)
                );
            }
            out.push_str("]\n");
        }
    }
}

fn environments(out: &mut String, plan: &Plan) {
    out.push_str(
        "\n# Environments, in promotion order, one per environment's ECS services\n\
         # (found by dev, staging or prod in the service's or cluster's name). The\n\
         # running version is the image tag of `container`.\n",
    );
    if plan.environments.is_empty() {
        let _ = writeln!(
            out,
            "# NONE FOUND: no ECS service in {} has dev, staging or prod in its\n\
             # name or its cluster's. Name yours (the bot needs at least one):\n\
             # [environments.prod]\n\
             # cluster = \"my-cluster\"\n\
             # service = \"my-service\"\n\
             # container = \"app\"",
            plan.region
        );
    }
    for (env, listed) in &plan.environments {
        let _ = writeln!(out, "\n[environments.{env}]");
        services(out, listed);
        let _ = writeln!(
            out,
            "# Probed between operations and after each deploy (2xx = healthy):\n\
             # health_url = \"https://{env}.example.com/healthz\"\n\
             # Who may ask for a deploy here.\n\
             requesters = [\"developer\", \"senior\"]\n\
             [environments.{env}.approval]"
        );
        if *env == "dev" {
            out.push_str("# Deploys to dev need no approval.\napprovals = 0\n");
        } else {
            out.push_str(
                "# A senior approves, never the one who asked (four eyes).\n\
                 approvers = [\"senior\"]\napprovals = 1\nfour_eyes = true\n",
            );
        }
        if *env == "prod" {
            out.push_str(
                "[environments.prod.rollback]\n\
                 # Rollbacks: asked for and approved by seniors; prod then locks\n\
                 # itself until a senior runs /unlock prod.\n\
                 requesters = [\"senior\"]\nlock_after = true\n",
            );
        }
    }
    if !plan.left_out.is_empty() {
        out.push_str(
            "\n# Left out (add one to an environment above if the bot should watch it):\n",
        );
        for l in &plan.left_out {
            let _ = writeln!(
                out,
                "#   cluster {}, service {}: {}",
                one_line(&l.cluster),
                one_line(&l.service),
                one_line(&l.why)
            );
        }
    }
}
