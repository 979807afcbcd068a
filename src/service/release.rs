//! `/release <version> <type>`: the pre-release checks, each reported by
//! name; a confirmation when only the bump does not fit; the dispatch of
//! the Release workflow.

use super::approvals::confirm_key;
use super::{App, Incoming, Reply};
use crate::adapters::github::CiVerdict;
use crate::domain::{
    AlertKind, Ci, OperationKind, OperationState, ReleaseType, ReleaseVerdict, Version,
    release_checks,
};
use crate::domain::{Callback, NewOp};
use crate::domain::{checklist_for, may_release};
use crate::messages::releases;
use crate::service::Button;
use crate::store::{Created, NewAlert, NewOperation};

/// How long a "Release anyway?" question stays open.
const CONFIRM_WINDOW_MS: i64 = 10 * 60 * 1000;

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
        let refusal = may_release(roles, &self.config.release.requesters).err()?;
        Some((
            format!("refused:{}", refusal.code()),
            Some(Reply::new(releases::not_a_release_requester(
                &refusal.message(),
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
        let (checks, verdict, latest) = match self.release_checks_since(version, kind).await {
            Ok(result) => result,
            Err(e) => {
                return (
                    "error:github".into(),
                    Some(Reply::new(releases::latest_unreadable(&e))),
                );
            }
        };
        let checklist = checklist_for(&self.config.release.checklist, kind);
        if dry_run {
            let mut text = releases::dry_run(version, kind, &checks, &verdict);
            if verdict != ReleaseVerdict::Refuse && !checklist.is_empty() {
                text.push_str(&crate::messages::checklist::dry_run_asks(&checklist));
            }
            return ("dry_run".into(), Some(Reply::new(text)));
        }
        if verdict == ReleaseVerdict::Refuse {
            return (
                "refused:checks".into(),
                Some(Reply::new(releases::refused(version, kind, &checks))),
            );
        }
        let confirm = verdict == ReleaseVerdict::Confirm;
        if !checklist.is_empty() {
            let asked = super::checklist::Asked {
                version,
                kind,
                checks: &checks,
                latest: latest.as_deref(),
                confirm,
            };
            return self.ask_checklist(msg, &asked, &checklist).await;
        }
        let mut alerts = Vec::new();
        if confirm {
            let buttons = vec![vec![
                Button {
                    text: releases::release_anyway_label(),
                    data: Callback::ReleaseAnyway {
                        op: NewOp,
                        go: true,
                    }
                    .encode(),
                },
                Button {
                    text: releases::cancel_label(),
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
                    releases::release_anyway(version, kind, &checks),
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
            freeze_override: None,
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
        self.dispatch_claimed(id, &releases::release_at_once(id.0, version, kind, &checks))
            .await
    }

    /// The refusal of a release while another one is in flight, naming it.
    pub(super) async fn release_in_flight(&self) -> Reply {
        let in_flight = self
            .store
            .live_operations()
            .await
            .ok()
            .and_then(|ops| ops.into_iter().find(|o| o.kind == OperationKind::Release))
            .map(|o| (o.id, o.version, o.state));
        Reply::new(releases::in_flight(
            in_flight
                .as_ref()
                .map(|(id, v, state)| (*id, v.as_str(), *state)),
        ))
    }

    /// The pre-release checks as of now, rendered, with their verdict.
    pub(super) async fn run_release_checks(
        &self,
        version: &Version,
        kind: ReleaseType,
    ) -> Result<(String, ReleaseVerdict), String> {
        self.release_checks_since(version, kind)
            .await
            .map(|(checks, verdict, _)| (checks, verdict))
    }

    /// [`Self::run_release_checks`], with the latest release's tag.
    pub(super) async fn release_checks_since(
        &self,
        version: &Version,
        kind: ReleaseType,
    ) -> Result<(String, ReleaseVerdict, Option<String>), String> {
        let (latest, ci) = tokio::join!(self.github.highest_release(), self.github.ci_state());
        let latest_tag = latest.map_err(|e| e.to_string())?.map(|r| r.tag_name);
        let latest = latest_tag.as_deref().and_then(Version::from_tag);
        let ci = match ci {
            Ok(state) => match state.verdict {
                CiVerdict::Green { .. } => Ci::Green,
                CiVerdict::Pending { names } => Ci::NotGreen(releases::ci_pending(&names)),
                CiVerdict::Failing { names } => Ci::NotGreen(releases::ci_failing(&names)),
                CiVerdict::NoChecks => Ci::NotGreen(releases::ci_no_checks()),
            },
            Err(e) => Ci::Unknown(e.to_string()),
        };
        let git_ref = self.github.git_ref().to_owned();
        let (checks, verdict) = release_checks(version, kind, latest.as_ref(), &ci, &git_ref);
        Ok((releases::checks(&checks), verdict, latest_tag))
    }
}
