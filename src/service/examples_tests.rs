//! The shipped examples checked against the code: the workflows in
//! `examples/workflows/` take exactly the inputs the bot dispatches and
//! have `run-name`s the bot reads back, and `examples/iam-policy.json`
//! allows exactly the ECS actions the bot calls.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

use super::dispatch::workflow_inputs;
use crate::config::WorkflowConfig;
use crate::domain::runs::{request_id_in, run_fits, run_name_says};
use crate::domain::{Env, OperationKind, OperationState, ReleaseType};
use crate::store::OperationRow;

const REQUEST_ID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `describe_services` → `ecs:DescribeServices`.
fn iam_action(sdk_method: &str) -> String {
    let pascal: String = sdk_method
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    format!("ecs:{pascal}")
}

/// The aws-sdk-ecs operations a source text calls on its `client`
/// (`self.client.describe_services()` or `client.list_clusters()`,
/// however the chain is wrapped).
fn ecs_calls(source: &str) -> BTreeSet<String> {
    let code: String = source
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .flat_map(str::chars)
        .filter(|c| !c.is_whitespace())
        .collect();
    code.match_indices("client.")
        .filter(|(at, _)| {
            !code[..*at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .filter_map(|(at, needle)| {
            let rest = &code[at + needle.len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            (!name.is_empty() && rest[name.len()..].starts_with("()")).then_some(name)
        })
        .collect()
}

/// The actions an IAM policy allows, from all its statements.
fn policy_actions(policy: &serde_json::Value) -> BTreeSet<String> {
    let statements = policy["Statement"].as_array().expect("Statement list");
    let mut actions = BTreeSet::new();
    for statement in statements {
        assert_eq!(statement["Effect"], "Allow", "{statement}");
        assert!(statement.get("NotAction").is_none(), "{statement}");
        match &statement["Action"] {
            serde_json::Value::String(one) => {
                actions.insert(one.clone());
            }
            serde_json::Value::Array(many) => {
                actions.extend(many.iter().map(|a| a.as_str().expect("action").to_owned()));
            }
            other => panic!("Action is {other}"),
        }
    }
    actions
}

#[test]
fn the_iam_policy_allows_exactly_the_ecs_actions_the_bot_calls() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut called = BTreeSet::new();
    let mut callers = Vec::new();
    // `aletheia-bot init` runs once, with the operator's credentials, not
    // the bot's: it lists clusters and services to write bot.toml, which
    // the running bot never does (the README names what init needs).
    let operators = root().join("src/init");
    let mut init_calls = BTreeSet::new();
    for file in &files {
        let source = read(file);
        if !source.contains("aws_sdk_ecs") {
            continue;
        }
        let calls = ecs_calls(&source);
        if file.starts_with(&operators) {
            init_calls.extend(calls.iter().map(|m| iam_action(m)));
            continue;
        }
        if !calls.is_empty() {
            callers.push(file.strip_prefix(root()).unwrap_or(file).to_owned());
        }
        called.extend(calls.iter().map(|m| iam_action(m)));
    }
    // The scan must find the calls where they are (a reformatting that
    // hides them from it fails here rather than passing vacuously).
    assert!(
        callers.iter().any(|f| f.ends_with("adapters/ecs.rs"))
            && callers
                .iter()
                .any(|f| f.ends_with("adapters/ecs/evidence.rs")),
        "ECS calls found only in {callers:?}"
    );
    assert!(called.contains("ecs:UpdateService"), "{called:?}");
    assert!(init_calls.contains("ecs:ListClusters"), "{init_calls:?}");
    let policy: serde_json::Value =
        serde_json::from_str(&read(&root().join("examples/iam-policy.json")))
            .expect("examples/iam-policy.json is JSON");
    assert_eq!(policy["Version"], "2012-10-17");
    let allowed = policy_actions(&policy);
    assert_eq!(
        allowed, called,
        "examples/iam-policy.json must allow exactly the ECS actions the code calls"
    );
}

#[test]
fn scans_sdk_calls_and_names_their_iam_actions() {
    let source = "let out = self\n    .client\n    .describe_task_definition()\n    .send();\n\
                  // self.client.delete_service() in a comment\n\
                  self.client.update_service().cluster(c);\nclient: aws_sdk_ecs::Client::new(&c),\n\
                  let page = client\n.list_services().send();\nself.ecs_client.delete_cluster();";
    assert_eq!(
        ecs_calls(source),
        BTreeSet::from([
            "describe_task_definition".into(),
            "list_services".into(),
            "update_service".into()
        ])
    );
    assert_eq!(
        iam_action("list_task_definitions"),
        "ecs:ListTaskDefinitions"
    );
}

fn load_yaml(path: &Path) -> Yaml {
    let mut docs = YamlLoader::load_from_str(&read(path))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(docs.len(), 1, "{}: one document", path.display());
    docs.remove(0)
}

/// `${{ inputs.x }}` replaced by the input's value; any other expression
/// is left for the assertion that none remain.
fn render(run_name: &str, inputs: &[(&str, String)]) -> String {
    let mut out = run_name.to_owned();
    for (name, value) in inputs {
        for spelling in [
            format!("${{{{ inputs.{name} }}}}"),
            format!("${{{{inputs.{name}}}}}"),
        ] {
            out = out.replace(&spelling, value);
        }
    }
    assert!(!out.contains("${{"), "run-name {run_name:?} left {out:?}");
    out
}

/// The environments of the shipped `bot.toml`, in its order.
fn shipped_environments() -> Vec<String> {
    let config: toml::Table = read(&root().join("bot.toml")).parse().expect("bot.toml");
    config["environments"]
        .as_table()
        .expect("[environments]")
        .keys()
        .cloned()
        .collect()
}

fn operation(kind: OperationKind, env: Option<&str>, version: &str) -> OperationRow {
    OperationRow {
        id: 1,
        kind,
        env: env.map(|e| Env::parse(e).expect("env name")),
        version: version.into(),
        release_type: (kind == OperationKind::Release).then_some(ReleaseType::Minor),
        state: OperationState::Approved,
        requested_by: 1,
        chat_id: -1,
        request_id: REQUEST_ID.into(),
        run_id: None,
        run_url: None,
        detail: None,
        created_at: 0,
        updated_at: 0,
        expires_at: None,
        dispatched_at: None,
        direct_ecs: false,
    }
}

/// Checks one example workflow against what the bot sends for `op` and
/// what it reads back from the run-name.
fn check_workflow(file: &str, op: &OperationRow) {
    let path = root().join("examples/workflows").join(file);
    let doc = load_yaml(&path);
    let wf = WorkflowConfig {
        file: file.into(),
        inputs: Default::default(),
    };
    let sent = workflow_inputs(&wf, op);
    let declared = doc["on"]["workflow_dispatch"]["inputs"]
        .as_hash()
        .unwrap_or_else(|| panic!("{file}: no on.workflow_dispatch.inputs"));
    let declared_names: BTreeSet<&str> = declared
        .keys()
        .map(|k| k.as_str().expect("input name"))
        .collect();
    let sent_names: BTreeSet<&str> = sent.iter().map(|(name, _)| *name).collect();
    assert_eq!(declared_names, sent_names, "{file}: inputs");
    for (name, value) in &sent {
        let input = &declared[&Yaml::String((*name).into())];
        if input["type"].as_str() == Some("choice") {
            let options: Vec<&str> = input["options"]
                .as_vec()
                .unwrap_or_else(|| panic!("{file}: {name} has no options"))
                .iter()
                .filter_map(Yaml::as_str)
                .collect();
            assert!(options.contains(&value.as_str()), "{file}: {name}={value}");
        }
    }
    let run_name = doc["run-name"]
        .as_str()
        .unwrap_or_else(|| panic!("{file}: no run-name"));
    let title = render(run_name, &sent);
    let env = op.env_name().map(str::to_owned);
    assert_eq!(
        run_name_says(op.kind, &title),
        Some((op.version.clone(), env.clone())),
        "{file}: {title}"
    );
    assert_eq!(
        run_fits(op.kind, env.as_deref(), &op.version, Some(&title)),
        Ok(())
    );
    assert_eq!(request_id_in(&title), Some(REQUEST_ID), "{file}: {title}");
    for other in [
        OperationKind::Release,
        OperationKind::Deploy,
        OperationKind::Rollback,
    ] {
        if other != op.kind {
            assert_eq!(run_name_says(other, &title), None, "{file} read as {other}");
        }
    }
}

#[test]
fn the_example_workflows_take_what_the_bot_sends_and_name_their_runs_as_it_reads() {
    for release_type in [ReleaseType::Patch, ReleaseType::Minor, ReleaseType::Major] {
        let mut release = operation(OperationKind::Release, None, "1.4.0");
        release.release_type = Some(release_type);
        check_workflow("release.yml", &release);
    }
    let environments = shipped_environments();
    assert!(!environments.is_empty());
    for (file, kind) in [
        ("deploy.yml", OperationKind::Deploy),
        ("rollback.yml", OperationKind::Rollback),
    ] {
        for env in &environments {
            check_workflow(file, &operation(kind, Some(env), "1.3.0"));
        }
        // No environment the bot does not know.
        let doc = load_yaml(&root().join("examples/workflows").join(file));
        let options: Vec<&str> = doc["on"]["workflow_dispatch"]["inputs"]["environment"]["options"]
            .as_vec()
            .map(|o| o.iter().filter_map(Yaml::as_str).collect())
            .unwrap_or_default();
        assert_eq!(options, environments, "{file}: environment options");
    }
}

#[test]
fn the_release_workflow_deploys_to_staging_under_a_run_name_the_bot_follows() {
    let release = read(&root().join("examples/workflows/release.yml"));
    let dispatch = "gh workflow run deploy.yml";
    assert!(
        release.contains(dispatch),
        "release.yml must run deploy.yml"
    );
    assert!(release.contains("-f environment=staging"));
    // That run carries no request id: its name is still read as a deploy.
    let doc = load_yaml(&root().join("examples/workflows/deploy.yml"));
    let inputs = [
        ("environment", "staging".to_owned()),
        ("version", "1.4.0".to_owned()),
        ("request_id", String::new()),
    ];
    let title = render(doc["run-name"].as_str().expect("run-name"), &inputs);
    assert_eq!(
        run_name_says(OperationKind::Deploy, &title),
        Some(("1.4.0".into(), Some("staging".into()))),
        "{title}"
    );
}
