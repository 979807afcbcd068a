//! Consistency checks that the schema alone cannot express: every issue
//! names the key's path and says in one line what is wrong.

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use super::Config;
use crate::domain::Role;

/// One inconsistency in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// Dotted path of the key, e.g. `environments.prod.approval.approvers`.
    pub path: String,
    /// What is wrong, in one line.
    pub reason: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

/// The issues found so far.
#[derive(Default)]
struct Issues {
    found: Vec<ConfigIssue>,
    /// No `[[users]]` yet: the first start, where the bot answers only
    /// `/whoami` and `/help` so the team learns the ids to list (what
    /// `init` writes). Nobody can hold a role, so whether each named role
    /// is held is asked once there is somebody.
    nobody_yet: bool,
}

impl Issues {
    fn add(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.found.push(ConfigIssue {
            path: path.into(),
            reason: reason.into(),
        });
    }

    /// Each role in `roles` that nobody holds, said at `path`; whether all are held.
    fn unheld<'a>(
        &mut self,
        held: &BTreeSet<&Role>,
        path: &str,
        roles: impl IntoIterator<Item = &'a Role>,
    ) -> bool {
        if self.nobody_yet {
            return false;
        }
        let mut all = true;
        for role in roles {
            if !held.contains(role) {
                all = false;
                self.add(path, format!("no user holds the role \"{role}\""));
            }
        }
        all
    }
}

impl Config {
    /// Every inconsistency found; empty when the config is sound.
    pub(super) fn validate(&self) -> Vec<ConfigIssue> {
        let mut issues = Issues {
            nobody_yet: self.users.is_empty(),
            ..Issues::default()
        };
        self.github_issues(&mut issues);
        self.telegram_issues(&mut issues);
        if self.leader.lease < std::time::Duration::from_secs(1) {
            issues.add(
                "leader.lease",
                "must be at least 1s (it is renewed every third of it)",
            );
        }
        self.user_issues(&mut issues);
        for (key, id) in self.contacts.in_order() {
            if self.user(id).is_none() {
                issues.add(
                    format!("contacts.{key}"),
                    format!("{} is not in [[users]]", id.0),
                );
            }
        }
        let held: BTreeSet<&Role> = self.users.iter().flat_map(|u| &u.roles).collect();
        issues.unheld(&held, "release.requesters", &self.release.requesters);
        if self.environments.is_empty() {
            issues.add("environments", "at least one environment is needed");
        }
        for (env, cfg) in &self.environments {
            self.environment_issues(&mut issues, &held, env, cfg);
        }
        self.chat_issues(&mut issues);
        for (i, freeze) in self.freeze.iter().enumerate() {
            let known = |env: &crate::domain::Env| self.environments.contains_key(env);
            for (path, reason) in freeze.issues(&format!("freeze[{i}]"), known) {
                issues.add(path, reason);
            }
        }
        if self.environments.keys().any(|e| e.as_str() == "all") {
            issues.add(
                "environments.all",
                "\"all\" stands for every environment in /freeze and /unfreeze: name it otherwise",
            );
        }
        if self.alerts.max_attempts == 0 {
            issues.add("alerts.max_attempts", "must be at least 1");
        }
        if self.alerts.backoff > self.alerts.max_backoff {
            issues.add("alerts.backoff", "is longer than alerts.max_backoff");
        }
        let mut issues = issues.found;
        issues.extend(self.duration_issues());
        issues.extend(super::checklist::issues(&self.release.checklist));
        issues.extend(self.security_issues());
        issues
    }

    /// How many users hold one of `roles`.
    fn holders(&self, roles: &[Role]) -> usize {
        self.users
            .iter()
            .filter(|u| u.roles.iter().any(|r| roles.contains(r)))
            .count()
    }

    fn github_issues(&self, issues: &mut Issues) {
        if self.github.owner.trim().is_empty() {
            issues.add("github.owner", "must not be empty");
        }
        if self.github.repo.trim().is_empty() {
            issues.add("github.repo", "must not be empty");
        }
        for (name, wf) in [
            ("release", &self.github.workflows.release),
            ("deploy", &self.github.workflows.deploy),
            ("rollback", &self.github.workflows.rollback),
        ] {
            let file = &wf.file;
            if !(file.ends_with(".yml") || file.ends_with(".yaml"))
                || file.contains('/')
                || file.len() > 255
            {
                let shown: String = file.chars().take(64).collect();
                let shown = if shown.len() < file.len() {
                    format!("{shown:?}…")
                } else {
                    format!("{shown:?}")
                };
                issues.add(
                    format!("github.workflows.{name}.file"),
                    format!("{shown} is not a workflow file name (like release.yml)"),
                );
            }
        }
    }

    fn telegram_issues(&self, issues: &mut Issues) {
        match (&self.telegram.mode, &self.telegram.webhook_url) {
            (super::UpdateMode::Webhook, None) => issues.add(
                "telegram.webhook_url",
                "webhook mode needs the public address Telegram posts updates to",
            ),
            (super::UpdateMode::Webhook, Some(url)) => {
                let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
                if url.scheme() != "https" && !local {
                    issues.add(
                        "telegram.webhook_url",
                        format!(
                            "Telegram posts only to https addresses, not {}",
                            url.scheme()
                        ),
                    );
                }
            }
            (super::UpdateMode::Polling, Some(_)) => {
                issues.add("telegram.webhook_url", "set only with mode = \"webhook\"")
            }
            (super::UpdateMode::Polling, None) => {}
        }
    }

    fn user_issues(&self, issues: &mut Issues) {
        let mut seen_users = HashSet::new();
        for (i, user) in self.users.iter().enumerate() {
            if user.id.0 <= 0 {
                issues.add(
                    format!("users[{i}].id"),
                    format!("{} is not a Telegram user id (they are positive)", user.id),
                );
            }
            if !seen_users.insert(user.id) {
                issues.add(
                    format!("users[{i}].id"),
                    format!("user id {} is listed twice", user.id),
                );
            }
        }
    }

    fn environment_issues(
        &self,
        issues: &mut Issues,
        held: &BTreeSet<&Role>,
        env: &crate::domain::Env,
        cfg: &super::EnvironmentConfig,
    ) {
        let at = format!("environments.{env}");
        for (path, reason) in cfg.service_issues(&at) {
            issues.add(path, reason);
        }
        issues.unheld(held, &format!("{at}.requesters"), &cfg.requesters);
        let policy = &cfg.approval;
        let approvers_held =
            issues.unheld(held, &format!("{at}.approval.approvers"), &policy.approvers);
        if policy.approvals > 0 && policy.approvers.is_empty() {
            issues.add(
                format!("{at}.approval.approvers"),
                format!(
                    "{} approval(s) needed but no approver role is named",
                    policy.approvals
                ),
            );
        } else if approvers_held
            && policy.approvals > 0
            && self.holders(&policy.approvers) < policy.approvals as usize
        {
            issues.add(
                format!("{at}.approval.approvals"),
                format!(
                    "{} approvals needed but only {} user(s) hold an approver role",
                    policy.approvals,
                    self.holders(&policy.approvers)
                ),
            );
        }
        if policy.approvals == 0 && !policy.approvers.is_empty() {
            issues.add(
                format!("{at}.approval.approvals"),
                "approvers are named but approvals = 0; set how many are needed",
            );
        }
        let plain = !policy.approvers.is_empty() || policy.approvals > 0;
        self.group_issues(
            issues,
            held,
            &format!("{at}.approval"),
            &policy.groups,
            plain,
        );
        let rb = &cfg.rollback;
        let plain = rb.approvers.is_some() || rb.approvals.is_some();
        self.group_issues(issues, held, &format!("{at}.rollback"), &rb.groups, plain);
        self.rollback_issues(issues, held, &at, cfg);
        self.verified_in_issues(issues, held, env, cfg);
        if policy.expiry.is_zero() {
            issues.add(format!("{at}.approval.expiry"), "must be longer than zero");
        }
    }

    /// Rollback keys left unset follow the deploy policy, already checked:
    /// only what is set here is checked again.
    fn rollback_issues(
        &self,
        issues: &mut Issues,
        held: &BTreeSet<&Role>,
        at: &str,
        cfg: &super::EnvironmentConfig,
    ) {
        let rollback = cfg.rollback_policy();
        let (rb_approvers, rb_approvals) = (rollback.approvers.as_slice(), rollback.approvals);
        let named = cfg
            .rollback
            .requesters
            .iter()
            .chain(&cfg.rollback.approvers)
            .flatten();
        let rb_held = issues.unheld(held, &format!("{at}.rollback"), named);
        let explicit = cfg.rollback.approvers.is_some() || cfg.rollback.approvals.is_some();
        if !explicit || !rb_held {
            // Nothing of its own to check, or already said.
        } else if rb_approvals > 0 && rb_approvers.is_empty() {
            issues.add(
                format!("{at}.rollback.approvers"),
                format!(
                    "{rb_approvals} approval(s) needed for a rollback but no approver role is named"
                ),
            );
        } else if rb_approvals > 0 && self.holders(rb_approvers) < rb_approvals as usize {
            issues.add(
                format!("{at}.rollback.approvals"),
                format!(
                    "{rb_approvals} approvals needed for a rollback but only {} user(s) hold an approver role",
                    self.holders(rb_approvers)
                ),
            );
        }
        if cfg.rollback.break_glass && rb_approvers.is_empty() {
            issues.add(
                format!("{at}.rollback.break_glass"),
                "break-glass is for approvers acting alone, but no approver role is named",
            );
        }
    }

    /// `{at}.groups`: not with `approvers`/`approvals` (`plain`), each
    /// group held and counting, and enough distinct people to fill them
    /// all at once (one person fills one group).
    fn group_issues(
        &self,
        issues: &mut Issues,
        held: &BTreeSet<&Role>,
        at: &str,
        groups: &Option<Vec<crate::domain::ApprovalGroup>>,
        plain: bool,
    ) {
        let Some(groups) = groups else { return };
        let key = format!("{at}.groups");
        if plain {
            issues.add(
                &key,
                format!("set either {at}.groups or {at}.approvers/approvals, not both"),
            );
        }
        if groups.is_empty() {
            issues.add(&key, "must name at least one group");
            return;
        }
        let mut sound = true;
        for (i, group) in groups.iter().enumerate() {
            if group.count == 0 {
                sound = false;
                issues.add(format!("{key}[{i}].count"), "must be at least 1");
            }
            sound &= issues.unheld(held, &format!("{key}[{i}].role"), [&group.role]);
        }
        let everyone: Vec<crate::domain::UserId> = self.users.iter().map(|u| u.id).collect();
        let roles_of = |id| self.user(id).map(|u| u.roles.as_slice());
        let fillable = crate::domain::tally(&everyone, groups, roles_of);
        let needed: i64 = groups.iter().map(|g| i64::from(g.count)).sum();
        if sound && fillable < needed {
            issues.add(
                &key,
                format!(
                    "{needed} approvals needed across the groups but only {fillable} can be given by distinct users holding their roles"
                ),
            );
        }
    }

    /// The environment a deploy must first be verified in: known, not this
    /// one, and with someone who can verify there.
    fn verified_in_issues(
        &self,
        issues: &mut Issues,
        held: &BTreeSet<&Role>,
        env: &crate::domain::Env,
        cfg: &super::EnvironmentConfig,
    ) {
        let Some(prior) = &cfg.approval.requires_verified_in else {
            return;
        };
        if let Some(prior_cfg) = self.environments.get(prior).filter(|_| !issues.nobody_yet) {
            for role in &prior_cfg.verifiers {
                if !held.contains(role) {
                    issues.add(
                        format!("environments.{prior}.verifiers"),
                        format!(
                            "no user holds the role \"{role}\", so nothing can be verified for {env}"
                        ),
                    );
                }
            }
        }
        let at = format!("environments.{env}.approval.requires_verified_in");
        if prior == env {
            issues.add(at, "an environment cannot require itself");
        } else if !self.environments.contains_key(prior) {
            issues.add(at, format!("unknown environment \"{prior}\""));
        }
    }

    fn chat_issues(&self, issues: &mut Issues) {
        let mut seen_chats = HashSet::new();
        for (i, chat) in self.chats.iter().enumerate() {
            if chat.id.0 == 0 {
                issues.add(format!("chats[{i}].id"), "0 is not a Telegram chat id");
            }
            if !seen_chats.insert(chat.id) {
                issues.add(
                    format!("chats[{i}].id"),
                    format!("chat id {} is listed twice", chat.id),
                );
            }
            for user in &chat.mention_on_failure {
                if self.user(*user).is_none() {
                    issues.add(
                        format!("chats[{i}].mention_on_failure"),
                        format!("{user} is not in [[users]]"),
                    );
                }
            }
            for env in chat.envs.iter().flatten() {
                if !self.environments.contains_key(env) {
                    issues.add(
                        format!("chats[{i}].envs"),
                        format!("unknown environment \"{env}\""),
                    );
                }
            }
        }
    }
}
