//! QA's verdict on a version that reached an environment: "verified"
//! lets it be promoted; "found issues" blocks that and is alerted like a
//! failure.

use super::App;
use super::taps::{Tap, TapAnswer};
use crate::alerts;
use crate::alerts::format::escape;
use crate::config::EnvironmentConfig;
use crate::domain::{AlertKey, EditStep, OpStep};
use crate::domain::{AlertKind, OperationId, OperationState};
use crate::store::NewAlert;

/// The alert of QA's "found issues": what, where, who, and which
/// environments now refuse it.
pub(super) fn issues_text(
    env: &str,
    version: &str,
    op: i64,
    who: &str,
    blocked: &[&str],
) -> String {
    let mut text = format!(
        "🐞 <b>{} {}</b> (#{op}): {} found issues.",
        escape(env),
        escape(version),
        escape(who)
    );
    if !blocked.is_empty() {
        text.push_str(&format!(
            "\nDeploys of {} to {} are blocked until QA verifies it.",
            escape(version),
            escape(&blocked.join(", "))
        ));
    }
    text
}

impl App {
    /// QA's verdict on a version that reached an environment.
    pub(super) async fn qa_verdict(
        &self,
        tap: &Tap,
        op: &crate::store::OperationRow,
        cfg: &EnvironmentConfig,
        verified: bool,
    ) -> TapAnswer {
        let id = OperationId(op.id);
        let verb = if verified { "verify" } else { "found_issues" };
        let roles = self
            .config
            .user(tap.user)
            .map(|u| u.roles.as_slice())
            .unwrap_or(&[]);
        if let Err(refusal) = crate::domain::may_verify(roles, &cfg.verifiers) {
            let text = format!("Only {} may give QA's verdict.", refusal.message());
            return self
                .refuse_tap(tap, verb, refusal.code(), Some(id), text)
                .await;
        }
        let (Some(deployed_in), OperationState::Succeeded) = (op.env.as_ref(), op.state) else {
            let text = format!("#{} is {}, not a finished deploy.", op.id, op.state);
            return self
                .refuse_tap(tap, verb, "not_deployed", Some(id), text)
                .await;
        };
        let env = deployed_in.as_str().to_owned();
        let who = self.name_of(tap.user.0);
        let audit = self.audit(
            Some(tap.user),
            tap.chat,
            &format!("tap:{verb}"),
            "recorded",
            Some(id),
            format!("{} in {env}", op.version),
        );
        let mut alerts = Vec::new();
        if let Some(chat) = tap.chat {
            let key = AlertKey::op(id, OpStep::Qa).in_chat(crate::domain::ChatId(chat));
            let text = if verified {
                format!(
                    "✅ <b>{} {}</b> (#{}) verified by {}",
                    escape(&env),
                    escape(&op.version),
                    op.id,
                    escape(&who)
                )
            } else {
                format!(
                    "🐞 <b>{} {}</b> (#{}): {} found issues",
                    escape(&env),
                    escape(&op.version),
                    op.id,
                    escape(&who)
                )
            };
            alerts.push(NewAlert::edit(
                &key,
                if verified {
                    EditStep::Verify { by: tap.user }
                } else {
                    EditStep::FoundIssues { by: tap.user }
                },
                AlertKind::Approval,
                op.env.clone(),
                crate::domain::ChatId(chat),
                text,
            ));
        }
        if !verified {
            // It blocks a promotion: the team hears it as loudly as a
            // failure, once per deploy and QA.
            let blocked: Vec<&str> = self
                .config
                .environments
                .iter()
                .filter(|(_, c)| {
                    c.approval
                        .requires_verified_in
                        .as_ref()
                        .is_some_and(|e| op.env.as_ref() == Some(e))
                })
                .map(|(e, _)| e.as_str())
                .collect();
            alerts.extend(alerts::route_kinds(
                &self.config,
                &[AlertKind::Failure],
                op.env.as_ref(),
                &AlertKey::op(id, OpStep::Issues { by: tap.user }),
                &issues_text(&env, &op.version, op.id, &who, &blocked),
            ));
        }
        if let Err(e) = self
            .store
            .record_verification(
                deployed_in,
                &op.version,
                verified,
                tap.user,
                &audit,
                &alerts,
            )
            .await
        {
            return TapAnswer {
                text: self.internal_failure("qa verdict: store", &e),
                alert: true,
            };
        }
        self.outbox.notify_one();
        TapAnswer {
            text: if verified {
                format!("Recorded: {} verified.", op.version)
            } else {
                format!("Recorded: issues found in {}.", op.version)
            },
            alert: false,
        }
    }
}
