//! The process's post-rollback step ("Document the issues, Create incident
//! report, Plan fixes"): one tap on a completed rollback's alert opens a
//! GitHub issue whose timeline comes from the audit log and the alerts —
//! the deploy that was rolled back, who approved it, what was alerted, the
//! rollback itself — with links to the runs.

use super::App;
use super::taps::{Tap, TapAnswer};
use crate::alerts::{self, Rendered};
use crate::domain::{AlertKey, OpStep};
use crate::domain::{AlertKind, OperationId, OperationKind, OperationState};
use crate::messages::{
    self,
    incident::{Moment, Recovery, Report, Taken},
};
use crate::store::{OperationRow, ReportClaim};

impl App {
    /// A tap on "Open incident report" (`i:{op}:o`).
    pub(super) async fn incident_report_tap(&self, tap: &Tap, id: OperationId) -> TapAnswer {
        let refuse = |text: String| TapAnswer { text, alert: true };
        let op = self.store.operation(id).await.ok().flatten();
        let Some(op) = op.filter(|op| {
            op.kind == OperationKind::Rollback
                && matches!(
                    op.state,
                    OperationState::Succeeded | OperationState::Unhealthy
                )
        }) else {
            let text = messages::common::not_my_button();
            return self.refuse_tap(tap, "report", "forged", None, text).await;
        };
        let id = OperationId(op.id);
        let cfg = op
            .env
            .as_ref()
            .and_then(|e| self.config.environments.get(e));
        let rollback = cfg.map(crate::config::EnvironmentConfig::rollback_policy);
        let allowed = self.config.user(tap.user).is_some_and(|u| {
            crate::domain::may_open_report(&u.roles, &self.config.incident.roles, rollback.as_ref())
        });
        if !allowed {
            let text = messages::incident::report_not_allowed();
            return self
                .refuse_tap(tap, "report", "not_allowed", Some(id), text)
                .await;
        }
        match self.store.claim_report(id, tap.user).await {
            Ok(ReportClaim::Mine) => {}
            Ok(ReportClaim::Opened(number, url)) => {
                return TapAnswer {
                    text: messages::incident::report_already_opened(number, &url),
                    alert: true,
                };
            }
            Ok(ReportClaim::Underway) => {
                return TapAnswer {
                    text: messages::incident::report_underway(),
                    alert: true,
                };
            }
            Err(e) => return refuse(self.internal_failure("incident report: store", &e)),
        }
        let (title, body) = self.incident_report(&op).await;
        let labels = &self.config.github.incident_labels;
        match self.github.create_issue(&title, &body, labels).await {
            Ok((number, url)) => {
                let by = self.name_of(tap.user.0);
                let text = messages::incident::report_opened(&op, number, &url, &by);
                let alerts = alerts::route(
                    &self.config,
                    &Rendered {
                        kind: AlertKind::Rollback,
                        env: op.env.clone(),
                        key: AlertKey::op(OperationId(op.id), OpStep::Report),
                        text,
                    },
                );
                let number = i64::try_from(number).unwrap_or(i64::MAX);
                if let Err(e) = self.store.report_opened(id, number, &url, &alerts).await {
                    tracing::error!(error = %e, operation = op.id, "report not recorded");
                }
                self.audit_quietly(self.audit(
                    Some(tap.user),
                    tap.chat,
                    "report:open",
                    "opened",
                    Some(id),
                    url.clone(),
                ))
                .await;
                self.outbox.notify_one();
                TapAnswer {
                    text: messages::incident::report_opened_answer(number),
                    alert: false,
                }
            }
            Err(e) => {
                let _ = self.store.release_report(id).await;
                refuse(messages::incident::report_not_opened(&e.to_string()))
            }
        }
    }

    /// The issue's title and Markdown body.
    async fn incident_report(&self, rollback: &OperationRow) -> (String, String) {
        let from = rollback.ran_before();
        // The deploy that brought the bad version, if the bot ran it.
        let deploy = match (from, &rollback.env) {
            (Some(from), Some(in_env)) => self
                .store
                .succeeded_in(in_env, 1000)
                .await
                .unwrap_or_default()
                .into_iter()
                .find(|o| {
                    o.id < rollback.id
                        && o.kind == OperationKind::Deploy
                        && crate::adapters::ecs::tag_is_version(from, &o.version)
                }),
            _ => None,
        };
        let failures = self.failures_before(rollback).await;
        let mut runs: Vec<&OperationRow> = deploy.iter().collect();
        runs.extend(
            failures
                .iter()
                .filter(|f| deploy.as_ref().is_none_or(|d| d.id != f.id)),
        );
        runs.push(rollback);
        let mut taken = Vec::new();
        for failure in &failures {
            if let Ok(Some(ack)) = self.store.acknowledgement(OperationId(failure.id)).await {
                taken.push(Taken {
                    op: failure.id,
                    by: self.name_of(ack.by.0),
                    after_secs: (ack.at - failure.updated_at) / 1000,
                });
            }
        }
        let mut diagnoses = Vec::new();
        for failure in &failures {
            if let Some(html) = self.diagnosis_of(OperationId(failure.id)).await {
                diagnoses.push((failure.id, html));
            }
        }
        let ids: Vec<i64> = runs.iter().map(|o| o.id).collect();
        let audit = self.store.audit_of(&ids).await.unwrap_or_default();
        let alerts = self.store.alerts_of(&ids).await.unwrap_or_default();
        // Audit lines before alerts of the same moment (a stable sort).
        let mut timeline: Vec<(i64, Moment<'_>)> = audit
            .iter()
            .filter(|row| !row.action.starts_with("tap:") || row.outcome == "recorded")
            .map(|row| {
                let who = row.actor.map(|a| self.name_of(a));
                (row.at, Moment::Audit { row, who })
            })
            .collect();
        timeline.extend(alerts.iter().map(|a| (a.at, Moment::Alert(a))));
        timeline.sort_by_key(|(at, _)| *at);
        let asked_by = self.name_of(rollback.requested_by);
        let report = Report {
            rollback,
            from,
            asked_by: &asked_by,
            timeline: timeline.into_iter().map(|(_, m)| m).collect(),
            runs,
            recovery: self.recovery(rollback).await,
            taken,
            diagnoses,
        };
        (
            messages::incident::incident_report_title(&report),
            messages::incident::incident_report_body_md(&report),
        )
    }

    /// The first copy of `op`'s failure alert that carries its diagnosis.
    async fn diagnosis_of(&self, op: OperationId) -> Option<String> {
        let rows = self.store.outbox_of(op).await.ok()?;
        rows.into_iter()
            .find(|row| {
                AlertKey::parse(&row.dedup_key)
                    .is_some_and(|k| k.edit == Some(crate::domain::EditStep::Diagnosis))
            })
            .map(|row| row.text)
    }

    /// How long the environment was down: from the first failure alert of
    /// the deploy rolled back (the newest deploy of the version rolled
    /// back from, whatever its end) to the next operation there confirmed
    /// healthy. `None` when the bot alerted no failure of it.
    async fn recovery(&self, rollback: &OperationRow) -> Option<Recovery> {
        let (from, env) = (rollback.ran_before()?, rollback.env.as_ref()?);
        let history = self.store.history(Some(env), 1000).await.ok()?;
        let failed = history.iter().find(|o| {
            o.id < rollback.id
                && o.kind == OperationKind::Deploy
                && crate::adapters::ecs::tag_is_version(from, &o.version)
        })?;
        let alerts = self.store.alerts_of(&[failed.id]).await.ok()?;
        let alerted_at = alerts
            .iter()
            .filter(|a| a.kind == AlertKind::Failure.as_str())
            .map(|a| a.at)
            .min()?;
        // The store gives them newest first: the oldest after the failed
        // deploy is the first to recover.
        let recovered = self
            .store
            .succeeded_in(env, 1000)
            .await
            .ok()?
            .into_iter()
            .rev()
            .find(|o| o.id > failed.id)
            .map(|o| (o.id, o.updated_at));
        Some(Recovery {
            failed: failed.id,
            alerted_at,
            recovered,
            automatic: rollback.requested_by == crate::domain::AUTOMATIC.0,
        })
    }

    /// The failures in the rollback's environment since it was last
    /// healthy (what the rollback answers), oldest first.
    async fn failures_before(&self, rollback: &OperationRow) -> Vec<OperationRow> {
        let recent = self
            .store
            .history(rollback.env.as_ref(), 50)
            .await
            .unwrap_or_default();
        let mut failures: Vec<OperationRow> = recent
            .into_iter()
            .filter(|o| o.id < rollback.id && o.kind != OperationKind::Release)
            .take_while(|o| o.state != OperationState::Succeeded)
            .filter(|o| matches!(o.state, OperationState::Failed | OperationState::Unhealthy))
            .collect();
        failures.reverse();
        failures
    }
}
