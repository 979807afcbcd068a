//! `/metrics` as Prometheus and Grafana read it: each family's type, the
//! deploy outcomes, command and dispatch latencies, the build and the
//! process's own figures; and the example dashboard asks for nothing the
//! bot does not expose.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::*;

/// One exposition, parsed: each family's `# TYPE`, and each sample's value
/// by its series (name and labels, as written).
struct Exposition {
    types: BTreeMap<String, String>,
    samples: BTreeMap<String, f64>,
}

impl Exposition {
    fn parse(text: &str) -> Self {
        let mut types = BTreeMap::new();
        let mut samples = BTreeMap::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("a TYPE line names a type");
                types.insert(name.to_owned(), kind.to_owned());
            } else if !line.starts_with('#') && !line.is_empty() {
                let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
                let value = match value {
                    "+Inf" => f64::INFINITY,
                    v => v
                        .parse()
                        .unwrap_or_else(|_| panic!("{line:?}: not a number")),
                };
                samples.insert(series.to_owned(), value);
            }
        }
        Self { types, samples }
    }

    fn value(&self, series: &str) -> f64 {
        *self
            .samples
            .get(series)
            .unwrap_or_else(|| panic!("no {series} in {:#?}", self.samples.keys()))
    }

    fn type_of(&self, family: &str) -> &str {
        self.types
            .get(family)
            .unwrap_or_else(|| panic!("no # TYPE for {family} in {:#?}", self.types))
    }

    /// The names of the samples, without their labels.
    fn sample_names(&self) -> BTreeSet<&str> {
        self.samples
            .keys()
            .map(|s| s.split('{').next().unwrap_or(s))
            .collect()
    }
}

/// Alice asks for a staging deploy, Carol approves it, its run succeeds and
/// ECS and the health URL confirm it; then `/metrics`, as scraped.
async fn scrape_after_a_deploy() -> Exposition {
    let world = world_with_release().await;
    let prompt = world.say(TEAM_CHAT, &ALICE, "/deploy staging 1.3.0").await;
    let tap = world.tg.user_taps(&prompt, CAROL.id, CAROL.name, "d:1:a");
    world.tg.tap_answer(&tap).await;
    assert_eq!(world.gh.dispatches().len(), 1);
    world.roll_out("staging", "1.3.0").await;
    world.finish_run(9001, "success", "w-1").await;
    world
        .tg
        .edited(TEAM_CHAT, Some(prompt.message_id), |s| {
            s.text.starts_with("✅ <b>staging</b>")
        })
        .await;
    let qa = world.tg.next_message(TEAM_CHAT).await;
    assert!(
        qa.text.starts_with("🧪 <b>Staging runs 1.3.0</b>"),
        "{}",
        qa.text
    );
    let text = reqwest::get(format!("{}/metrics", world.bot_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    Exposition::parse(&text)
}

#[tokio::test]
async fn a_deploy_and_a_command_show_on_metrics_as_dashboards_expect() {
    let m = scrape_after_a_deploy().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();

    for (family, kind) in [
        ("aletheia_deployments", "counter"),
        ("aletheia_commands", "counter"),
        ("aletheia_command_duration_seconds", "histogram"),
        ("aletheia_dispatch_duration_seconds", "histogram"),
        ("aletheia_build_info", "gauge"),
        ("aletheia_dora_deploys_per_week", "gauge"),
        ("aletheia_dora_lead_time_seconds", "gauge"),
        ("aletheia_dora_change_failure_ratio", "gauge"),
        ("aletheia_dora_time_to_restore_seconds", "gauge"),
        ("aletheia_leader", "gauge"),
        ("aletheia_outbox_pending", "gauge"),
        ("process_cpu_seconds", "counter"),
        ("process_resident_memory_bytes", "gauge"),
        ("process_virtual_memory_bytes", "gauge"),
        ("process_open_fds", "gauge"),
        ("process_max_fds", "gauge"),
        ("process_start_time_seconds", "gauge"),
    ] {
        assert_eq!(m.type_of(family), kind, "{family}");
    }

    // The deploy, counted once where it ran; every other outcome of the
    // configured environments is there at zero.
    assert_eq!(
        m.value(
            r#"aletheia_deployments_total{environment="staging",kind="deploy",result="succeeded"}"#
        ),
        1.0
    );
    for series in [
        r#"aletheia_deployments_total{environment="prod",kind="deploy",result="failed"}"#,
        r#"aletheia_deployments_total{environment="staging",kind="rollback",result="unhealthy"}"#,
        r#"aletheia_deployments_total{environment="",kind="release",result="succeeded"}"#,
    ] {
        assert_eq!(m.value(series), 0.0, "{series}");
    }

    // The command, in its histogram under its name, in the buckets that
    // were chosen for it.
    assert!(m.value(r#"aletheia_command_duration_seconds_count{command="deploy"}"#) >= 1.0);
    assert_eq!(
        m.value(r#"aletheia_command_duration_seconds_bucket{le="+Inf",command="deploy"}"#),
        m.value(r#"aletheia_command_duration_seconds_count{command="deploy"}"#)
    );
    m.value(r#"aletheia_command_duration_seconds_bucket{le="0.05",command="deploy"}"#);
    m.value(r#"aletheia_command_duration_seconds_bucket{le="30.0",command="deploy"}"#);
    // The dispatch Carol's approval made, once.
    assert_eq!(
        m.value(r#"aletheia_dispatch_duration_seconds_count{kind="deploy"}"#),
        1.0
    );
    assert!(m.value(r#"aletheia_dispatch_duration_seconds_sum{kind="deploy"}"#) >= 0.0);

    assert_eq!(
        m.value(&format!(
            r#"aletheia_build_info{{version="{}"}}"#,
            env!("CARGO_PKG_VERSION")
        )),
        1.0
    );

    // The process's figures, plausible for a bot that has run a minute.
    let rss = m.value("process_resident_memory_bytes");
    assert!(rss > 1e6, "RSS {rss}");
    assert!(m.value("process_virtual_memory_bytes") >= rss);
    let fds = m.value("process_open_fds");
    assert!(fds > 0.0, "{fds} open fds");
    let max_fds = m.value("process_max_fds");
    assert!(max_fds == 0.0 || max_fds >= fds, "{fds} of {max_fds}");
    let started = m.value("process_start_time_seconds");
    assert!(
        started > now - 3600.0 && started <= now + 1.0,
        "started at {started}, now {now}"
    );
    assert!(m.value("process_cpu_seconds_total") > 0.0);
}

/// The metric names a PromQL expression uses: every `aletheia_*` and
/// `process_*` identifier, a histogram's series named by its family.
fn names_in(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(at) = ["aletheia_", "process_"]
        .iter()
        .filter_map(|p| rest.find(p))
        .min()
    {
        let starts_word = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let end = rest[at..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(rest.len(), |e| at + e);
        if starts_word {
            names.push(family_of(&rest[at..end]).to_owned());
        }
        rest = &rest[end..];
    }
    names
}

fn family_of(name: &str) -> &str {
    ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .unwrap_or(name)
}

/// Every query in a dashboard: the panels' `expr`s and the template
/// variables' `query`s.
fn queries(value: &serde_json::Value, key: Option<&str>, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) if matches!(key, Some("expr" | "query")) => {
            out.push(s.clone())
        }
        serde_json::Value::Array(items) => {
            for item in items {
                queries(item, key, out);
            }
        }
        serde_json::Value::Object(fields) => {
            for (k, v) in fields {
                queries(v, Some(k), out);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn the_example_dashboard_asks_only_for_what_metrics_exposes() {
    let dashboard: serde_json::Value =
        serde_json::from_str(include_str!("../../examples/grafana-dashboard.json")).unwrap();
    assert!(dashboard["schemaVersion"].as_u64().unwrap() >= 39);
    let panels = dashboard["panels"].as_array().unwrap();
    let ids: BTreeSet<u64> = panels.iter().map(|p| p["id"].as_u64().unwrap()).collect();
    assert_eq!(ids.len(), panels.len(), "panel ids are unique");
    for panel in panels.iter().filter(|p| p["type"] != "row") {
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{} has no query", panel["title"]);
        for target in targets {
            assert_eq!(target["datasource"]["type"], "prometheus");
            assert!(target["expr"].as_str().is_some_and(|e| !e.is_empty()));
        }
    }
    let mut exprs = Vec::new();
    queries(&dashboard, None, &mut exprs);
    let asked: BTreeSet<String> = exprs.iter().flat_map(|e| names_in(e)).collect();
    for family in [
        "aletheia_deployments_total",
        "aletheia_command_duration_seconds",
        "aletheia_dispatch_duration_seconds",
        "aletheia_dora_change_failure_ratio",
        "aletheia_leader",
        "aletheia_outbox_pending",
        "process_resident_memory_bytes",
    ] {
        assert!(asked.contains(family), "the dashboard shows no {family}");
    }

    let m = scrape_after_a_deploy().await;
    let exposed: BTreeSet<&str> = m.sample_names().into_iter().map(family_of).collect();
    let unknown: Vec<&String> = asked
        .iter()
        .filter(|n| !exposed.contains(n.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "the dashboard asks for {unknown:?}, /metrics has {exposed:?}"
    );
}
