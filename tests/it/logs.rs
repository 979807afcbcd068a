//! `log.format = "json"`: the log for machines, one JSON object per line,
//! each carrying the operation it is about.

use std::time::Duration;

use serde_json::Value;

use crate::support::*;

/// The complete lines of the bot's log so far (a line being written as
/// it is read is left for later).
fn complete_lines(log: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = log.split('\n').collect();
    lines.pop();
    lines
}

/// Whether a JSON log line was written inside the span of operation `id`.
fn about_operation(line: &Value, id: i64) -> bool {
    line["spans"]
        .as_array()
        .into_iter()
        .flatten()
        .chain([&line["span"]])
        .any(|span| span["operation_id"] == id)
}

#[tokio::test]
async fn a_json_log_is_one_object_per_line_naming_the_deploy_it_is_about() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.log_toml = "\n[log]\nformat = \"json\"\n";
    world.start_bot().await;

    world
        .say_and_read(TEAM_CHAT, &ALICE, "/deploy dev 1.3.0", 2)
        .await;
    let op = world.store().await.all_operations().await.unwrap()[0].clone();
    eventually(
        Duration::from_secs(10),
        "a log line about the deploy",
        || async {
            complete_lines(&world.bot_log()).iter().any(|line| {
                serde_json::from_str::<Value>(line).is_ok_and(|l| about_operation(&l, op.id))
            })
        },
    )
    .await;

    let log = world.bot_log();
    let lines = complete_lines(&log);
    assert!(lines.len() > 3, "{log}");
    for line in &lines {
        let parsed: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON object ({e}): {line}"));
        assert!(parsed.is_object(), "{line}");
        assert!(parsed["level"].is_string(), "{line}");
        assert!(parsed["timestamp"].is_string(), "{line}");
    }
    let about: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| about_operation(l, op.id))
        .collect();
    // The operation's request id, its workflow run's key, rides along.
    assert!(
        about
            .iter()
            .any(|l| l["span"]["request_id"] == op.request_id.as_str()),
        "{about:?}"
    );
}
