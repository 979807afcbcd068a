use super::*;
use crate::domain::OperationKind;

mod log;
mod nobody_yet;
mod services;

const SHIPPED: &str = include_str!("../../bot.toml");

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, "bot.toml")
}

fn error(text: &str) -> String {
    parse(text)
        .expect_err("config should be refused")
        .to_string()
}

#[test]
fn shipped_config_is_valid() {
    let config = parse(SHIPPED).unwrap();
    let envs: Vec<&str> = config.environments.keys().map(Env::as_str).collect();
    assert_eq!(envs, ["dev", "staging", "prod"], "promotion order is kept");
    assert_eq!(config.github.git_ref, "main");
    assert!(!config.github.deployments, "off unless asked for");
    assert_eq!(config.github.deployment_retry, Duration::from_secs(2));
    let prod = &config.environments[&Env::parse("prod").unwrap()];
    assert_eq!(prod.approval.approvals, 1);
    assert!(prod.approval.four_eyes);
    assert_eq!(prod.approval.expiry, Duration::from_secs(1800));
    assert_eq!(
        prod.approval.requires_verified_in,
        Some(Env::parse("staging").unwrap())
    );
    assert_eq!(
        config
            .github
            .workflows
            .deploy
            .input_name(WorkflowInput::Environment),
        "environment"
    );
}

#[test]
fn a_typo_in_a_key_is_named_with_its_path() {
    let text = SHIPPED.replace("four_eyes = true\nrequires", "four_eye = true\nrequires");
    let message = error(&text);
    assert!(
        message
            .starts_with("bot.toml: environments.prod.approval.four_eye: unknown field `four_eye`"),
        "{message}"
    );
    assert!(message.contains("(line "), "{message}");
}

#[test]
fn unknown_top_level_section_is_refused() {
    let message = error(&format!("{SHIPPED}\n[telegramm]\napi_url = \"x\"\n"));
    assert!(message.contains("telegramm"), "{message}");
}

#[test]
fn unknown_alert_kind_is_refused() {
    let text = SHIPPED.replace(
        "alerts = [\"rollback\", \"failure\", \"health\"]",
        "alerts = [\"rollback\", \"failures\"]",
    );
    let message = error(&text);
    assert!(message.contains("chats[1].alerts[1]"), "{message}");
    assert!(message.contains("unknown variant `failures`"), "{message}");
}

#[test]
fn duplicate_user_ids_are_refused() {
    let text = SHIPPED.replace("id = 100000004", "id = 100000001");
    assert_eq!(
        error(&text),
        "bot.toml: users[3].id: user id 100000001 is listed twice\n  \
         contacts.devops: 100000004 is not in [[users]]\n  \
         chats[1].mention_on_failure: 100000004 is not in [[users]]"
    );
}

#[test]
fn contacts_must_be_known_users() {
    let text = SHIPPED.replace("technical_lead = 100000002", "technical_lead = 42");
    assert_eq!(
        error(&text),
        "bot.toml: contacts.technical_lead: 42 is not in [[users]]"
    );
}

#[test]
fn ack_within_is_bounded_and_defaults_to_ten_minutes() {
    let text = SHIPPED.replace("ack_within = \"10m\"", "ack_within = \"0s\"");
    assert!(
        error(&text).contains("incident.ack_within"),
        "{}",
        error(&text)
    );
    let text = SHIPPED.replace("ack_within = \"10m\"\n", "");
    let config = parse(&text).unwrap();
    assert_eq!(
        config.incident.ack_within,
        std::time::Duration::from_secs(600)
    );
}

#[test]
fn approvals_without_approvers_are_refused() {
    let text = SHIPPED.replace("approvers = [\"qa\"]\n", "");
    assert_eq!(
        error(&text),
        "bot.toml: environments.staging.approval.approvers: 1 approval(s) needed but no approver role is named"
    );
}

#[test]
fn an_approver_role_nobody_holds_is_refused() {
    let text = SHIPPED.replacen("approvers = [\"senior\"]", "approvers = [\"seniour\"]", 1);
    assert_eq!(
        error(&text),
        "bot.toml: environments.prod.approval.approvers: no user holds the role \"seniour\""
    );
}

#[test]
fn more_approvals_than_approvers_is_refused() {
    let text = SHIPPED.replacen(
        "approvers = [\"senior\"]\napprovals = 1",
        "approvers = [\"senior\"]\napprovals = 3",
        1,
    );
    assert_eq!(
        error(&text),
        "bot.toml: environments.prod.approval.approvals: 3 approvals needed but only 2 user(s) hold an approver role"
    );
}

#[test]
fn verification_in_an_unknown_env_is_refused() {
    let text = SHIPPED.replace(
        "requires_verified_in = \"staging\"",
        "requires_verified_in = \"stage\"",
    );
    assert_eq!(
        error(&text),
        "bot.toml: environments.prod.approval.requires_verified_in: unknown environment \"stage\""
    );
}

#[test]
fn chat_routed_to_unknown_env_is_refused() {
    let text = SHIPPED.replace("envs = [\"prod\"]", "envs = [\"production\"]");
    assert_eq!(
        error(&text),
        "bot.toml: chats[1].envs: unknown environment \"production\""
    );
}

#[test]
fn bad_values_name_their_key() {
    let cases = [
        (
            SHIPPED.replace(
                "\"staging\"\nexpiry = \"30m\"",
                "\"staging\"\nexpiry = \"soon\"",
            ),
            "environments.prod.approval.expiry",
        ),
        (
            SHIPPED.replace("listen = \"0.0.0.0:8080\"", "listen = \"everywhere\""),
            "server.listen",
        ),
        (
            SHIPPED.replace("id = 100000003", "id = \"carol\""),
            "users[2].id",
        ),
        (
            SHIPPED.replace("[environments.dev]", "[environments.Dev]"),
            "environments",
        ),
        (
            SHIPPED.replace("file = \"deploy.yml\"", "file = \"deploy\""),
            "github.workflows.deploy.file",
        ),
    ];
    for (text, key) in cases {
        let message = error(&text);
        assert!(
            message.starts_with(&format!("bot.toml: {key}")),
            "{key}: {message}"
        );
    }
}

#[test]
fn several_issues_are_all_reported() {
    let text = SHIPPED
        .replace("id = 100000004", "id = 100000001")
        .replace("envs = [\"prod\"]", "envs = [\"production\"]");
    let message = error(&text);
    assert!(message.contains("users[3].id"), "{message}");
    assert!(message.contains("chats[1].envs"), "{message}");
}

#[test]
fn workflows_are_found_by_kind_and_by_file() {
    let config = parse(SHIPPED).unwrap();
    let workflows = &config.github.workflows;
    for (kind, file) in [
        (OperationKind::Release, "release.yml"),
        (OperationKind::Deploy, "deploy.yml"),
        (OperationKind::Rollback, "rollback.yml"),
    ] {
        assert_eq!(workflows.of_kind(kind).file, file);
        assert_eq!(workflows.kind_of_file(file), Some(kind));
    }
    assert_eq!(workflows.kind_of_file("ci.yml"), None);
    assert_eq!(workflows.kind_of_file(""), None);
}

#[test]
fn durations_are_bounded_and_named_by_their_path() {
    for (from, to, expect) in [
        (
            "[monitor]\ninterval = \"30s\"",
            "[monitor]\ninterval = \"0s\"",
            "monitor.interval: must not be zero",
        ),
        (
            "[monitor]\ninterval = \"30s\"",
            "[monitor]\ninterval = \"10ms\"",
            "monitor.interval: must be at least 100ms",
        ),
        (
            "expiry = \"30m\"",
            "expiry = \"31days\"",
            "approval.expiry: must be at most 30 days",
        ),
        (
            "backoff = \"1s\"",
            "backoff = \"0s\"",
            "alerts.backoff: must not be zero",
        ),
        (
            "header_timeout = \"10s\"",
            "header_timeout = \"0s\"",
            "server.header_timeout: must not be zero",
        ),
        (
            "poll_interval = \"30s\"",
            "poll_interval = \"36500days\"",
            "github.poll_interval: must be at most 30 days",
        ),
        (
            "deployment_retry = \"2s\"",
            "deployment_retry = \"10ms\"",
            "github.deployment_retry: must be at least 100ms",
        ),
        (
            "outbox = \"30days\"",
            "outbox = \"31days\"",
            "retention.outbox: must be at most 30 days",
        ),
        (
            "webhooks = \"14days\"",
            "webhooks = \"0s\"",
            "retention.webhooks: must not be zero",
        ),
    ] {
        assert!(SHIPPED.contains(from), "{from}");
        let message = error(&SHIPPED.replacen(from, to, 1));
        assert!(message.contains(expect), "{expect}: {message}");
    }
}

#[test]
fn the_shipped_checklist_is_the_release_process_one() {
    let config = parse(SHIPPED).unwrap();
    assert_eq!(config.release.checklist, crate::domain::process_checklist());
    // Left out, it is the same.
    let text = SHIPPED.replace("checklist = [", "checklist_ = [");
    let start = text.find("checklist_ = [").unwrap();
    let end = start + text[start..].find("]\n").unwrap() + 2;
    let without = format!("{}{}", &text[..start], &text[end..]);
    assert_eq!(
        parse(&without).unwrap().release.checklist,
        crate::domain::process_checklist()
    );
}

#[test]
fn a_checklist_takes_strings_and_major_only_items() {
    use crate::domain::{ChecklistItem, ChecklistWhen};
    let text = SHIPPED.replace(
        "checklist = [",
        "checklist = [\n    { item = \"Runbook read\" },\n    { item = \"Migration plan\", when = \"always\" },",
    );
    let checklist = parse(&text).unwrap().release.checklist;
    assert_eq!(checklist[0], ChecklistItem::always("Runbook read"));
    assert_eq!(checklist[1].when, ChecklistWhen::Always);
    assert_eq!(
        checklist[4],
        ChecklistItem::major("Breaking changes documented")
    );
    let empty = SHIPPED.replace("checklist = [", "checklist = [] # [");
    let empty = empty.replace(
        "    \"Documentation updated\",\n    \"Dependencies reviewed\",\n    { item = \"Breaking changes documented\", when = \"major\" },\n]\n",
        "",
    );
    assert!(parse(&empty).unwrap().release.checklist.is_empty());
}

#[test]
fn a_bad_checklist_is_refused_with_its_path() {
    let with = |items: &str| {
        let text = SHIPPED.replace("checklist = [", &format!("checklist = [{items}] # ["));
        text.replace(
            "    \"Documentation updated\",\n    \"Dependencies reviewed\",\n    { item = \"Breaking changes documented\", when = \"major\" },\n]\n",
            "",
        )
    };
    assert_eq!(
        error(&with("\"\", \"Docs\", \"Docs\", \" Spaced\"")),
        "bot.toml: release.checklist[0]: must not be empty\n  \
         release.checklist[2]: \"Docs\" is listed twice\n  \
         release.checklist[3]: must be one line without leading or trailing spaces"
    );
    let nine: Vec<String> = (1..=9).map(|i| format!("\"item {i}\"")).collect();
    assert_eq!(
        error(&with(&nine.join(", "))),
        "bot.toml: release.checklist: 9 items; at most 8 (each is a button)"
    );
    let long = format!("\"{}\"", "x".repeat(61));
    assert_eq!(
        error(&with(&long)),
        "bot.toml: release.checklist[0]: is longer than 60 characters (it is a button's label)"
    );
    let message = error(&with("{ item = \"Docs\", when = \"minor\" }"));
    assert!(
        message.starts_with("bot.toml: release.checklist[0]: each item is a string or"),
        "{message}"
    );
    let message = error(&with("42"));
    assert!(
        message.starts_with("bot.toml: release.checklist[0]: each item"),
        "{message}"
    );
}

#[test]
fn security_defaults_and_the_shipped_schedule() {
    let config = parse(SHIPPED).unwrap();
    let security = &config.security;
    assert_eq!(
        security.rotate_every,
        Some(Duration::from_secs(90 * 86_400))
    );
    assert_eq!(security.remind_weekday, chrono::Weekday::Mon);
    assert_eq!(security.remind_hour, 9);
    assert_eq!(config.security_chat().unwrap().name, "aletheia-team");
    let prod = Env::parse("prod").unwrap();
    let dev = Env::parse("dev").unwrap();
    assert_eq!(
        config.environments[&prod].github_environment_of(&prod),
        "production"
    );
    assert_eq!(config.environments[&dev].github_environment_of(&dev), "dev");
    // Without the section: no schedule, /secrets for the incident roles.
    let start = SHIPPED.find("[security]").unwrap();
    let end = start + SHIPPED[start..].find("remind_hour = 9\n").unwrap() + 16;
    let config = parse(&format!("{}{}", &SHIPPED[..start], &SHIPPED[end..])).unwrap();
    assert_eq!(config.security.rotate_every, None);
    assert_eq!(config.secrets_roles(), config.incident.roles.as_slice());
}

#[test]
fn bad_security_keys_name_their_path() {
    for (from, to, path, says) in [
        (
            "rotate_every = \"90days\"",
            "rotate_every = \"1h\"",
            "security.rotate_every",
            "from 1 day to 3 years",
        ),
        (
            "rotate_every = \"90days\"",
            "rotate_every = \"soon\"",
            "security.rotate_every",
            "",
        ),
        (
            "remind_hour = 9",
            "remind_hour = 24",
            "security.remind_hour",
            "not an hour",
        ),
        (
            "remind_weekday = \"mon\"",
            "remind_weekday = \"someday\"",
            "security.remind_weekday",
            "weekday",
        ),
        (
            "# chat = -1001000000001",
            "chat = -1009",
            "security.chat",
            "not in [[chats]]",
        ),
        (
            "roles = [\"senior\"]\n# The chat",
            "roles = [\"auditor\"]\n# The chat",
            "security.roles",
            "no user holds the role \"auditor\"",
        ),
        (
            "github_environment = \"production\"",
            "github_environment = \" \"",
            "environments.prod.github_environment",
            "1–255 characters",
        ),
    ] {
        assert!(SHIPPED.contains(from), "{from}");
        let message = error(&SHIPPED.replacen(from, to, 1));
        assert!(message.contains(path), "{to}: {message}");
        assert!(message.contains(says), "{to}: {message}");
    }
}

/// The shipped config with its commented `[[freeze]]` examples on.
fn with_freezes() -> String {
    let at = SHIPPED
        .find("# [[freeze]]")
        .expect("bot.toml shows [[freeze]] examples");
    let examples: String = SHIPPED[at..]
        .lines()
        .map(|l| {
            l.strip_prefix("# ")
                .unwrap_or(l.strip_prefix('#').unwrap_or(l))
        })
        .collect::<Vec<_>>()
        .join("\n");
    format!("{SHIPPED}\n{examples}\n")
}

#[test]
fn the_shipped_freeze_examples_are_valid_windows() {
    let config = parse(&with_freezes()).unwrap();
    let windows = config.freeze_windows();
    assert_eq!(windows.len(), 2);
    assert_eq!(windows[0].reason, "Weekend: nobody around to watch prod");
    assert_eq!(windows[0].envs, Some(vec![Env::parse("prod").unwrap()]));
    assert_eq!(
        windows[0].schedule.to_string(),
        "Fri 15:00 – Mon 08:00 Europe/Berlin"
    );
    assert_eq!(windows[1].envs, None);
    assert!(parse(SHIPPED).unwrap().freeze.is_empty());
}

#[test]
fn bad_freeze_windows_are_named_by_their_path() {
    let base = with_freezes();
    let weekly =
        "weekly = { from = \"Fri 15:00\", until = \"Mon 08:00\", time_zone = \"Europe/Berlin\" }";
    let dated = "dated = { from = \"2026-12-24 00:00\", until = \"2027-01-02 08:00\", time_zone = \"Europe/Berlin\" }";
    let cases = [
        (
            weekly.replace("Fri 15:00", "Fry 15:00"),
            "freeze[0].weekly.from: \"Fry 15:00\" is not a day and a time, like \"Fri 15:00\"",
        ),
        (
            weekly.replace("Mon 08:00", "Mon 8"),
            "freeze[0].weekly.until: \"Mon 8\" is not a day and a time, like \"Fri 15:00\"",
        ),
        (
            weekly.replace("Europe/Berlin", "Europe/Berln"),
            "freeze[0].weekly.time_zone: \"Europe/Berln\" is not a time zone (an IANA name, like \"Europe/Berlin\")",
        ),
        (
            weekly.replace("Mon 08:00", "Fri 15:00"),
            "freeze[0].weekly.until: is the same as from",
        ),
        (
            dated.replace("2027-01-02 08:00", "2026-12-01 08:00"),
            "freeze[1].dated.until: is not after from",
        ),
        (
            dated.replace("2026-12-24 00:00", "2026-12-24"),
            "freeze[1].dated.from: \"2026-12-24\" is not a date and a time, like \"2026-12-24 00:00\"",
        ),
    ];
    for (replacement, expected) in cases {
        let original = if replacement.starts_with("weekly") {
            weekly
        } else {
            dated
        };
        let message = error(&base.replace(original, &replacement));
        assert!(message.contains(expected), "{expected}\nnot in: {message}");
    }
    let message = error(&base.replace("environments = [\"prod\"]", "environments = [\"qa\"]"));
    assert!(
        message.contains("freeze[0].environments[0]: \"qa\" is not in [environments]"),
        "{message}"
    );
    let message = error(&base.replace("reason = \"Year-end holidays\"", "reason = \" \""));
    assert!(
        message.contains("freeze[1].reason: must say why deploys stop"),
        "{message}"
    );
    let message = error(&base.replace(&format!("{dated}\n"), ""));
    assert!(
        message.contains("freeze[1]: needs a weekly or a dated window"),
        "{message}"
    );
}

const PROD_APPROVAL: &str = "approvers = [\"senior\"]\napprovals = 1\n";

fn with_prod_approval(keys: &str) -> String {
    assert!(SHIPPED.contains(PROD_APPROVAL));
    SHIPPED.replacen(PROD_APPROVAL, keys, 1)
}

#[test]
fn approval_groups_are_read_into_the_policy() {
    let text = with_prod_approval(
        "groups = [{ role = \"qa\", count = 1 }, { role = \"senior\", count = 1 }]\n",
    );
    let config = parse(&text).unwrap();
    let prod = &config.environments[&crate::domain::Env::parse("prod").unwrap()];
    let policy = prod.deploy_policy();
    let roles = [
        crate::domain::Role::new("qa"),
        crate::domain::Role::new("senior"),
    ];
    assert_eq!(
        (policy.approvers.as_slice(), policy.approvals),
        (&roles[..], 2)
    );
    assert_eq!(policy.groups.len(), 2);
    // The shipped rollback names its own approvers: plain, no groups.
    assert!(prod.rollback_policy().groups.is_empty());
}

#[test]
fn approval_groups_with_approvers_are_refused() {
    let text = with_prod_approval(
        "approvers = [\"senior\"]\napprovals = 1\ngroups = [{ role = \"qa\", count = 1 }]\n",
    );
    assert_eq!(
        error(&text),
        "bot.toml: environments.prod.approval.groups: set either environments.prod.approval.groups or environments.prod.approval.approvers/approvals, not both"
    );
    let text = SHIPPED.replacen(
        "break_glass = false\n",
        "break_glass = false\ngroups = [{ role = \"senior\", count = 1 }]\n",
        1,
    );
    assert_eq!(
        error(&text),
        "bot.toml: environments.prod.rollback.groups: set either environments.prod.rollback.groups or environments.prod.rollback.approvers/approvals, not both"
    );
}

#[test]
fn approval_groups_that_cannot_be_filled_are_refused() {
    let cases = [
        (
            "groups = []\n",
            "environments.prod.approval.groups: must name at least one group",
        ),
        (
            "groups = [{ role = \"qa\", count = 0 }]\n",
            "environments.prod.approval.groups[0].count: must be at least 1",
        ),
        (
            "groups = [{ role = \"qa\", count = 1 }, { role = \"sre\", count = 1 }]\n",
            "environments.prod.approval.groups[1].role: no user holds the role \"sre\"",
        ),
        (
            // Carol is the only QA: two QA approvals cannot be had.
            "groups = [{ role = \"qa\", count = 2 }, { role = \"senior\", count = 1 }]\n",
            "environments.prod.approval.groups: 3 approvals needed across the groups but only 2 can be given by distinct users holding their roles",
        ),
        (
            "groups = [{ role = \"qa\", count = 1, extra = 1 }]\n",
            "unknown field `extra`",
        ),
    ];
    for (keys, expected) in cases {
        let got = error(&with_prod_approval(keys));
        assert!(got.contains(expected), "{keys}: {got}");
    }
}
