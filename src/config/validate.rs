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

impl Config {
    /// Every inconsistency found; empty when the config is sound.
    pub(super) fn validate(&self) -> Vec<ConfigIssue> {
        let mut issues = Vec::new();
        let mut issue = |path: String, reason: String| issues.push(ConfigIssue { path, reason });

        if self.github.owner.trim().is_empty() {
            issue("github.owner".into(), "must not be empty".into());
        }
        if self.github.repo.trim().is_empty() {
            issue("github.repo".into(), "must not be empty".into());
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
                issue(
                    format!("github.workflows.{name}.file"),
                    format!("{shown} is not a workflow file name (like release.yml)"),
                );
            }
        }

        match (&self.telegram.mode, &self.telegram.webhook_url) {
            (super::UpdateMode::Webhook, None) => issue(
                "telegram.webhook_url".into(),
                "webhook mode needs the public address Telegram posts updates to".into(),
            ),
            (super::UpdateMode::Webhook, Some(url)) => {
                let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
                if url.scheme() != "https" && !local {
                    issue(
                        "telegram.webhook_url".into(),
                        format!(
                            "Telegram posts only to https addresses, not {}",
                            url.scheme()
                        ),
                    );
                }
            }
            (super::UpdateMode::Polling, Some(_)) => issue(
                "telegram.webhook_url".into(),
                "set only with mode = \"webhook\"".into(),
            ),
            (super::UpdateMode::Polling, None) => {}
        }
        if self.leader.lease < std::time::Duration::from_secs(1) {
            issue(
                "leader.lease".into(),
                "must be at least 1s (it is renewed every third of it)".into(),
            );
        }

        let mut seen_users = HashSet::new();
        for (i, user) in self.users.iter().enumerate() {
            if user.id.0 <= 0 {
                issue(
                    format!("users[{i}].id"),
                    format!("{} is not a Telegram user id (they are positive)", user.id),
                );
            }
            if !seen_users.insert(user.id) {
                issue(
                    format!("users[{i}].id"),
                    format!("user id {} is listed twice", user.id),
                );
            }
        }
        let held: BTreeSet<&Role> = self.users.iter().flat_map(|u| &u.roles).collect();
        let holders = |roles: &[Role]| {
            self.users
                .iter()
                .filter(|u| u.roles.iter().any(|r| roles.contains(r)))
                .count()
        };

        for role in &self.release.requesters {
            if !held.contains(role) {
                issue(
                    "release.requesters".into(),
                    format!("no user holds the role \"{role}\""),
                );
            }
        }
        if self.environments.is_empty() {
            issue(
                "environments".into(),
                "at least one environment is needed".into(),
            );
        }
        for (env, cfg) in &self.environments {
            let at = format!("environments.{env}");
            for role in &cfg.requesters {
                if !held.contains(role) {
                    issue(
                        format!("{at}.requesters"),
                        format!("no user holds the role \"{role}\""),
                    );
                }
            }
            let policy = &cfg.approval;
            let mut approvers_held = true;
            for role in &policy.approvers {
                if !held.contains(role) {
                    approvers_held = false;
                    issue(
                        format!("{at}.approval.approvers"),
                        format!("no user holds the role \"{role}\""),
                    );
                }
            }
            if policy.approvals > 0 && policy.approvers.is_empty() {
                issue(
                    format!("{at}.approval.approvers"),
                    format!(
                        "{} approval(s) needed but no approver role is named",
                        policy.approvals
                    ),
                );
            } else if approvers_held
                && policy.approvals > 0
                && holders(&policy.approvers) < policy.approvals as usize
            {
                issue(
                    format!("{at}.approval.approvals"),
                    format!(
                        "{} approvals needed but only {} user(s) hold an approver role",
                        policy.approvals,
                        holders(&policy.approvers)
                    ),
                );
            }
            if policy.approvals == 0 && !policy.approvers.is_empty() {
                issue(
                    format!("{at}.approval.approvals"),
                    "approvers are named but approvals = 0; set how many are needed".into(),
                );
            }
            // Rollback keys left unset follow the deploy policy, already
            // checked above: only what is set here is checked again.
            let (rb_approvers, rb_approvals) = (cfg.rollback_approvers(), cfg.rollback_approvals());
            let mut rb_held = true;
            for role in cfg
                .rollback
                .requesters
                .iter()
                .chain(&cfg.rollback.approvers)
                .flatten()
            {
                if !held.contains(role) {
                    rb_held = false;
                    issue(
                        format!("{at}.rollback"),
                        format!("no user holds the role \"{role}\""),
                    );
                }
            }
            let explicit = cfg.rollback.approvers.is_some() || cfg.rollback.approvals.is_some();
            if !explicit || !rb_held {
                // Nothing of its own to check, or already said.
            } else if rb_approvals > 0 && rb_approvers.is_empty() {
                issue(
                    format!("{at}.rollback.approvers"),
                    format!(
                        "{rb_approvals} approval(s) needed for a rollback but no approver role is named"
                    ),
                );
            } else if rb_approvals > 0 && holders(rb_approvers) < rb_approvals as usize {
                issue(
                    format!("{at}.rollback.approvals"),
                    format!(
                        "{rb_approvals} approvals needed for a rollback but only {} user(s) hold an approver role",
                        holders(rb_approvers)
                    ),
                );
            }
            if cfg.rollback.break_glass && rb_approvers.is_empty() {
                issue(
                    format!("{at}.rollback.break_glass"),
                    "break-glass is for approvers acting alone, but no approver role is named"
                        .into(),
                );
            }
            if let Some(prior) = &policy.requires_verified_in
                && let Some(prior_cfg) = self.environments.get(prior)
            {
                for role in &prior_cfg.verifiers {
                    if !held.contains(role) {
                        issue(
                            format!("environments.{prior}.verifiers"),
                            format!(
                                "no user holds the role \"{role}\", so nothing can be verified for {env}"
                            ),
                        );
                    }
                }
            }
            if let Some(prior) = &policy.requires_verified_in {
                if prior == env {
                    issue(
                        format!("{at}.approval.requires_verified_in"),
                        "an environment cannot require itself".into(),
                    );
                } else if !self.environments.contains_key(prior) {
                    issue(
                        format!("{at}.approval.requires_verified_in"),
                        format!("unknown environment \"{prior}\""),
                    );
                }
            }
            if policy.expiry.is_zero() {
                issue(
                    format!("{at}.approval.expiry"),
                    "must be longer than zero".into(),
                );
            }
        }

        let mut seen_chats = HashSet::new();
        for (i, chat) in self.chats.iter().enumerate() {
            if chat.id.0 == 0 {
                issue(
                    format!("chats[{i}].id"),
                    "0 is not a Telegram chat id".into(),
                );
            }
            if !seen_chats.insert(chat.id) {
                issue(
                    format!("chats[{i}].id"),
                    format!("chat id {} is listed twice", chat.id),
                );
            }
            for user in &chat.mention_on_failure {
                if self.user(*user).is_none() {
                    issue(
                        format!("chats[{i}].mention_on_failure"),
                        format!("{user} is not in [[users]]"),
                    );
                }
            }
            for env in chat.envs.iter().flatten() {
                if !self.environments.contains_key(env) {
                    issue(
                        format!("chats[{i}].envs"),
                        format!("unknown environment \"{env}\""),
                    );
                }
            }
        }

        if self.alerts.max_attempts == 0 {
            issue("alerts.max_attempts".into(), "must be at least 1".into());
        }
        if self.alerts.backoff > self.alerts.max_backoff {
            issue(
                "alerts.backoff".into(),
                "is longer than alerts.max_backoff".into(),
            );
        }
        issues.extend(self.duration_issues());
        issues
    }
}
