//! `/release <version> <type>`: the pre-release checks, each reported by
//! name; a confirmation when only the bump does not fit; the dispatch of
//! the Release workflow.

use super::approvals::confirm_key;
use super::{App, Incoming, Reply};
use crate::adapters::github::CiVerdict;
use crate::alerts::format::escape;
use crate::domain::{
    AlertKind, Check, Ci, OperationId, OperationKind, OperationState, ReleaseType, ReleaseVerdict,
    Version, release_checks,
};
use crate::domain::{Callback, NewOp};
use crate::service::Button;
use crate::store::{Created, NewAlert, NewOperation};

/// How long a "Release anyway?" question stays open.
const CONFIRM_WINDOW_MS: i64 = 10 * 60 * 1000;

fn render_checks(checks: &[Check]) -> String {
    checks
        .iter()
        .map(|c| {
            format!(
                "{} {}: {}",
                if c.passed { "✅" } else { "❌" },
                c.name,
                escape(&c.detail)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl App {
    /// The refusal for someone who may not cut releases, if they may not.
    pub(super) fn not_a_release_requester(
        &self,
        msg: &Incoming,
    ) -> Option<(String, Option<Reply>)> {
        let roles = self
            .config
            .user(msg.user)
            .map(|u| u.roles.as_slice())
            .unwrap_or(&[]);
        let allowed = &self.config.release.requesters;
        if roles.iter().any(|r| allowed.contains(r)) {
            return None;
        }
        let names: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
        Some((
            "refused:not_a_requester".into(),
            Some(Reply::new(format!(
                "⛔ Releases are cut by: {}. You hold none of these roles.",
                escape(&names.join(", "))
            ))),
        ))
    }

    pub(super) async fn release(
        &self,
        msg: &Incoming,
        version: &Version,
        kind: ReleaseType,
        dry_run: bool,
    ) -> (String, Option<Reply>) {
        if let Some(refusal) = self.not_a_release_requester(msg) {
            return refusal;
        }
        let (checks, verdict) = match self.run_release_checks(version, kind).await {
            Ok(result) => result,
            Err(e) => {
                return (
                    "error:github".into(),
                    Some(Reply::new(format!(
                        "⚠️ Could not read the latest release on GitHub ({}). Nothing was done.",
                        escape(&e)
                    ))),
                );
            }
        };
        let head = format!(
            "<b>Release {} ({})</b>",
            escape(&version.to_string()),
            kind.as_str()
        );
        if dry_run {
            let would = match verdict {
                ReleaseVerdict::Refuse => "It would be refused.",
                ReleaseVerdict::Confirm => "It would ask you to confirm the bump first.",
                ReleaseVerdict::Proceed => "The Release workflow would be dispatched.",
            };
            return (
                "dry_run".into(),
                Some(Reply::new(format!(
                    "🧪 Dry run of {head}:\n{checks}\n{would} Nothing was dispatched."
                ))),
            );
        }
        if verdict == ReleaseVerdict::Refuse {
            return (
                "refused:checks".into(),
                Some(Reply::new(format!("⛔ {head} refused:\n{checks}"))),
            );
        }
        let confirm = verdict == ReleaseVerdict::Confirm;
        let mut alerts = Vec::new();
        if confirm {
            let buttons = vec![vec![
                Button {
                    text: "⚠️ Release anyway".into(),
                    data: Callback::ReleaseAnyway {
                        op: NewOp,
                        go: true,
                    }
                    .encode(),
                },
                Button {
                    text: "Cancel".into(),
                    data: Callback::ReleaseAnyway {
                        op: NewOp,
                        go: false,
                    }
                    .encode(),
                },
            ]];
            alerts.push(NewAlert {
                buttons: Some(serde_json::to_string(&buttons).expect("buttons serialise")),
                ..NewAlert::message(
                    confirm_key(NewOp, msg.chat.0),
                    AlertKind::Approval,
                    None,
                    msg.chat,
                    format!("⚠️ {head} · #{{op}}\n{checks}\nRelease anyway?"),
                )
            });
        }
        let op = NewOperation {
            kind: OperationKind::Release,
            env: None,
            version: version.to_string(),
            release_type: Some(kind),
            state: if confirm {
                OperationState::AwaitingApproval
            } else {
                OperationState::Approved
            },
            requested_by: msg.user,
            chat_id: msg.chat.0,
            request_id: uuid::Uuid::new_v4().to_string(),
            expires_in_ms: confirm.then_some(CONFIRM_WINDOW_MS),
            detail: None,
            run: None,
            direct_ecs: false,
        };
        let audit = crate::store::AuditEntry {
            actor: Some(msg.user),
            chat: Some(msg.chat),
            action: "operation:release".into(),
            outcome: op.state.as_str().into(),
            operation: None,
            detail: format!("{} ({})", version, kind.as_str()),
        };
        let id = match self.create_operation(&op, &audit, &alerts).await {
            Ok(Created::New(id)) => id,
            Ok(Created::Busy) => {
                return ("refused:busy".into(), Some(self.release_in_flight().await));
            }
            Err(e) => return self.internal_error("release: store", &e),
        };
        if confirm {
            return ("confirm".into(), None);
        }
        self.dispatch_claimed(id, &format!("🚀 {head} · #{}\n{checks}", id.0))
            .await
    }

    /// The refusal of a release while another one is in flight, naming it.
    async fn release_in_flight(&self) -> Reply {
        let in_flight = self
            .store
            .live_operations()
            .await
            .ok()
            .and_then(|ops| ops.into_iter().find(|o| o.kind == OperationKind::Release))
            .map(|o| format!(" (#{} {}, {})", o.id, o.version, o.state))
            .unwrap_or_default();
        Reply::new(format!(
            "⏳ A release is already in flight{}. One release at a time.",
            escape(&in_flight)
        ))
    }

    /// The pre-release checks as of now, rendered, with their verdict.
    pub(super) async fn run_release_checks(
        &self,
        version: &Version,
        kind: ReleaseType,
    ) -> Result<(String, ReleaseVerdict), String> {
        let (latest, ci) = tokio::join!(self.github.highest_release(), self.github.ci_state());
        let latest = latest
            .map_err(|e| e.to_string())?
            .and_then(|r| Version::from_tag(&r.tag_name));
        let ci = match ci {
            Ok(state) => match state.verdict {
                CiVerdict::Green { .. } => Ci::Green,
                CiVerdict::Pending { names } => {
                    Ci::NotGreen(format!("still running: {}", names.join(", ")))
                }
                CiVerdict::Failing { names } => {
                    Ci::NotGreen(format!("failing: {}", names.join(", ")))
                }
                CiVerdict::NoChecks => Ci::NotGreen("no checks reported".into()),
            },
            Err(e) => Ci::Unknown(e.to_string()),
        };
        let git_ref = self.github.git_ref().to_owned();
        let (checks, verdict) = release_checks(version, kind, latest.as_ref(), &ci, &git_ref);
        Ok((render_checks(&checks), verdict))
    }

    /// Claims an approved operation and dispatches it; the answer says
    /// what came of it under `head`.
    pub(super) async fn dispatch_claimed(
        &self,
        id: OperationId,
        head: &str,
    ) -> (String, Option<Reply>) {
        match self.store.claim_dispatch(id).await {
            Ok(Some(claim)) => match (claim.operation().direct_ecs, self.dispatch(claim).await) {
                (_, Ok(super::dispatch::Started::Workflow)) => (
                    "dispatched".into(),
                    Some(Reply::new(format!("{head}\nThe workflow is dispatched."))),
                ),
                (_, Ok(super::dispatch::Started::OnEcs(said))) => (
                    "dispatched:ecs".into(),
                    Some(Reply::new(format!("{head}\n{}", escape(&said)))),
                ),
                (true, Err(e)) => (
                    "error:ecs".into(),
                    Some(Reply::new(format!("{head}\n❌ {}", escape(&e)))),
                ),
                (false, Err(e)) => (
                    "error:dispatch".into(),
                    Some(Reply::new(format!(
                        "{head}\n❌ Could not dispatch the workflow: {}",
                        escape(&e)
                    ))),
                ),
            },
            Ok(None) => ("error:claim".into(), None),
            Err(e) => self.internal_error("claim", &e),
        }
    }
}
