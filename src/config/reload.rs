//! A reload: the new `bot.toml` against the config in force. Most keys
//! take effect at once; those the bot reads once, when it starts (the
//! clients, the server, the database, the lease), keep their value until
//! the next start, and the reload names them.

use std::fmt::Debug;

use super::Config;

/// A validated new config, ready to be put in force, and what it changes.
#[derive(Debug)]
pub struct Reloaded {
    /// The new config, with the keys read at start kept as they are.
    pub config: Config,
    /// Keys the file changes that take effect only at the next start.
    pub restart: Vec<&'static str>,
    /// What changes now, one short phrase each (empty: nothing).
    pub changes: Vec<String>,
}

impl Reloaded {
    /// `new` as it can be put in force over `old`.
    pub fn over(old: &Config, mut new: Config) -> Self {
        let restart = keep_start_keys(old, &mut new);
        let changes = changes(old, &new);
        Self {
            config: new,
            restart,
            changes,
        }
    }

    /// The changes and the keys left for a restart, in one line for the
    /// audit log.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if self.changes.is_empty() {
            parts.push("nothing changed".to_owned());
        } else {
            parts.push(self.changes.join("; "));
        }
        if !self.restart.is_empty() {
            parts.push(format!(
                "needs a restart, kept as it was: {}",
                self.restart.join(", ")
            ));
        }
        parts.join("; ")
    }
}

/// Puts back in `new` the keys read once at start (the value the running
/// bot uses), returning those the file changed. A key listed here is one
/// whose new value the bot could not honour without a restart: the
/// database, the HTTP server, Telegram's and GitHub's clients and
/// repository, ECS's region, the leader lease, alert delivery's retry
/// policy, and the log's format (set up once, before anything is logged).
fn keep_start_keys(old: &Config, new: &mut Config) -> Vec<&'static str> {
    let mut kept = Vec::new();
    macro_rules! keep {
        ($($key:literal => $($field:ident).+;)+) => {$(
            if old.$($field).+ != new.$($field).+ {
                new.$($field).+ = old.$($field).+.clone();
                kept.push($key);
            }
        )+};
    }
    keep! {
        "server" => server;
        "database" => database;
        "telegram" => telegram;
        "leader" => leader;
        "alerts" => alerts;
        "log" => log;
        "github.owner" => github.owner;
        "github.repo" => github.repo;
        "github.api_url" => github.api_url;
        "github.ref" => github.git_ref;
        "github.timeout" => github.timeout;
        "github.workflows" => github.workflows;
        "github.deployments" => github.deployments;
        "aws.region" => aws.region;
        "aws.endpoint_url" => aws.endpoint_url;
    }
    kept
}

/// What `new` changes over `old`: people and chats by name, other
/// sections by key.
fn changes(old: &Config, new: &Config) -> Vec<String> {
    let mut changes = Vec::new();
    let added: Vec<&str> = new
        .users
        .iter()
        .filter(|u| old.user(u.id).is_none())
        .map(|u| u.name.as_str())
        .collect();
    let removed: Vec<&str> = old
        .users
        .iter()
        .filter(|u| new.user(u.id).is_none())
        .map(|u| u.name.as_str())
        .collect();
    let roles: Vec<String> = new
        .users
        .iter()
        .filter_map(|u| {
            let before = old.user(u.id)?;
            (before.roles != u.roles).then(|| {
                format!(
                    "{} [{}] → [{}]",
                    u.name,
                    joined(&before.roles),
                    joined(&u.roles)
                )
            })
        })
        .collect();
    listed(&mut changes, "users added", &added);
    listed(&mut changes, "users removed", &removed);
    listed(&mut changes, "roles changed", &roles);
    let chats_added: Vec<&str> = new
        .chats
        .iter()
        .filter(|c| old.chat(c.id).is_none())
        .map(|c| c.name.as_str())
        .collect();
    let chats_removed: Vec<&str> = old
        .chats
        .iter()
        .filter(|c| new.chat(c.id).is_none())
        .map(|c| c.name.as_str())
        .collect();
    let chats_changed: Vec<&str> = new
        .chats
        .iter()
        .filter(|c| old.chat(c.id).is_some_and(|o| differ(o, *c)))
        .map(|c| c.name.as_str())
        .collect();
    listed(&mut changes, "chats added", &chats_added);
    listed(&mut changes, "chats removed", &chats_removed);
    listed(&mut changes, "chats changed", &chats_changed);
    let envs: Vec<String> = old
        .environments
        .keys()
        .chain(
            new.environments
                .keys()
                .filter(|e| !old.environments.contains_key(*e)),
        )
        .filter(|e| differ(&old.environments.get(*e), &new.environments.get(*e)))
        .map(ToString::to_string)
        .collect();
    listed(&mut changes, "environments changed", &envs);
    let mut sections = Vec::new();
    let mut section = |key: &'static str, changed: bool| {
        if changed {
            sections.push(key);
        }
    };
    // Users' names, and chats' ids and order: beyond who and where, which
    // are told above.
    section(
        "users",
        added.is_empty()
            && removed.is_empty()
            && roles.is_empty()
            && differ(&old.users, &new.users),
    );
    section("release", differ(&old.release, &new.release));
    section("incident", differ(&old.incident, &new.incident));
    section("contacts", differ(&old.contacts, &new.contacts));
    section("monitor", differ(&old.monitor, &new.monitor));
    section("retention", differ(&old.retention, &new.retention));
    section("security", differ(&old.security, &new.security));
    section("freeze", differ(&old.freeze, &new.freeze));
    section("github", differ(&old.github, &new.github));
    section("aws", differ(&old.aws, &new.aws));
    listed(&mut changes, "changed", &sections);
    changes
}

/// Whether two values differ. Compared as the config prints them: every
/// section prints all its values, in the file's order.
fn differ<T: Debug + ?Sized>(a: &T, b: &T) -> bool {
    format!("{a:?}") != format!("{b:?}")
}

fn joined(roles: &[crate::domain::Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn listed<S: AsRef<str>>(changes: &mut Vec<String>, what: &str, items: &[S]) {
    if !items.is_empty() {
        let items: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
        changes.push(format!("{what}: {}", items.join(", ")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[server]
listen = "127.0.0.1:8080"

[github]
owner = "acme"
repo = "aletheia"
[github.workflows.release]
file = "release.yml"
[github.workflows.deploy]
file = "deploy.yml"
[github.workflows.rollback]
file = "rollback.yml"

[aws]
region = "eu-west-1"

[environments.staging]
cluster = "c"
service = "s"
container = "app"

[environments.prod]
cluster = "c"
service = "s"
container = "app"

[environments.prod.approval]
approvers = ["senior"]
approvals = 1

[[chats]]
id = -100
name = "team"
alerts = ["release"]

[[users]]
id = 1
name = "Alice"
roles = ["developer"]

[[users]]
id = 2
name = "Bob"
roles = ["senior", "developer"]
"#;

    fn config(text: &str) -> Config {
        Config::parse(text, "bot.toml").unwrap()
    }

    #[test]
    fn the_same_file_changes_nothing() {
        let reloaded = Reloaded::over(&config(BASE), config(BASE));
        assert!(reloaded.changes.is_empty());
        assert!(reloaded.restart.is_empty());
        assert_eq!(reloaded.summary(), "nothing changed");
    }

    #[test]
    fn people_chats_and_sections_are_told_by_name() {
        let new = BASE
            .replace("roles = [\"senior\", \"developer\"]", "roles = [\"senior\"]")
            .replace("name = \"Alice\"\nroles = [\"developer\"]\n", "name = \"Alice\"\nroles = [\"developer\"]\n\n[[users]]\nid = 3\nname = \"Carol\"\nroles = [\"qa\"]\n")
            .replace("alerts = [\"release\"]", "alerts = [\"release\", \"failure\"]")
            .replace("approvals = 1", "approvals = 1\nexpiry = \"1h\"")
            + "\n[monitor]\ninterval = \"1m\"\n";
        let reloaded = Reloaded::over(&config(BASE), config(&new));
        assert_eq!(
            reloaded.changes,
            [
                "users added: Carol",
                "roles changed: Bob [senior, developer] → [senior]",
                "chats changed: team",
                "environments changed: prod",
                "changed: monitor",
            ]
        );
        assert!(reloaded.restart.is_empty());
    }

    #[test]
    fn keys_read_at_start_keep_their_value_and_are_named() {
        let new = BASE
            .replace("127.0.0.1:8080", "127.0.0.1:9090")
            .replace(
                "repo = \"aletheia\"",
                "repo = \"other\"\npoll_interval = \"5s\"",
            )
            .replace("eu-west-1", "us-east-1")
            .replace("id = 1\n", "id = 4\n")
            + "\n[log]\nformat = \"json\"\n";
        let old = config(BASE);
        let reloaded = Reloaded::over(&old, config(&new));
        assert_eq!(
            reloaded.restart,
            ["server", "log", "github.repo", "aws.region"]
        );
        assert_eq!(reloaded.config.server.listen, old.server.listen);
        assert_eq!(reloaded.config.github.repo, "aletheia");
        assert_eq!(reloaded.config.aws.region, "eu-west-1");
        // The rest of those sections takes effect.
        assert_eq!(
            reloaded.config.github.poll_interval,
            std::time::Duration::from_secs(5)
        );
        assert_eq!(
            reloaded.summary(),
            "users added: Alice; users removed: Alice; changed: github; \
             needs a restart, kept as it was: server, log, github.repo, aws.region"
        );
    }
}
