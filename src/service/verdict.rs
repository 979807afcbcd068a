//! QA's verdict on a version that reached an environment: the prompt
//! with its Verified / Found issues buttons after a deploy there, and the
//! verdict. "Verified" lets the version be promoted; "found issues"
//! blocks that and is alerted like a failure.

use super::App;
use super::taps::{Tap, TapAnswer};
use crate::alerts::{self, Rendered};
use crate::config::EnvironmentConfig;
use crate::domain::{AlertKey, EditStep, OpStep};
use crate::domain::{AlertKind, Callback, Env, OperationId, OperationState, QaVerdict};
use crate::messages::qa;
use crate::service::Button;
use crate::store::{NewAlert, OperationRow};

impl App {
    /// Whether another environment promotes only what was verified here.
    pub(super) fn needs_verification(&self, env: Option<&Env>) -> bool {
        env.is_some_and(|env| {
            self.config
                .environments
                .values()
                .any(|c| c.approval.requires_verified_in.as_ref() == Some(env))
        })
    }

    /// "Staging runs 1.3.0 — QA: [Verified] [Found issues]".
    pub(super) fn qa_prompt(&self, op: &OperationRow) -> Vec<NewAlert> {
        let env = op.env_name().unwrap_or_default().to_owned();
        let text = qa::prompt(&env, &op.version, op.id);
        let buttons = vec![vec![
            Button {
                text: qa::verified_button(),
                data: Callback::Qa {
                    op: OperationId(op.id),
                    verdict: QaVerdict::Verified,
                }
                .encode(),
            },
            Button {
                text: qa::found_issues_button(),
                data: Callback::Qa {
                    op: OperationId(op.id),
                    verdict: QaVerdict::FoundIssues,
                }
                .encode(),
            },
        ]];
        let buttons = serde_json::to_string(&buttons).expect("buttons serialise");
        alerts::route(
            &self.config,
            &Rendered {
                kind: AlertKind::Approval,
                env: op.env.clone(),
                key: AlertKey::op(OperationId(op.id), OpStep::Qa),
                text,
            },
        )
        .into_iter()
        .map(|a| NewAlert {
            buttons: Some(buttons.clone()),
            ..a
        })
        .collect()
    }

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
            let names: Vec<&str> = cfg.verifiers.iter().map(|r| r.as_str()).collect();
            let text = qa::not_a_verifier(&names);
            return self
                .refuse_tap(tap, verb, refusal.code(), Some(id), text)
                .await;
        }
        let (Some(deployed_in), OperationState::Succeeded) = (op.env.as_ref(), op.state) else {
            let text = qa::not_deployed(op.id, &op.state.to_string());
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
                qa::verified(&env, &op.version, op.id, &who)
            } else {
                qa::found_issues(&env, &op.version, op.id, &who)
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
                &qa::issues_alert(&env, &op.version, op.id, &who, &blocked),
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
            text: qa::recorded(&op.version, verified),
            alert: false,
        }
    }
}
