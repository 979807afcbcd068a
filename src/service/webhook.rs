//! GitHub webhook deliveries, once verified by the HTTP layer: stored once
//! per delivery id with their audit line and alerts, in one transaction.

use serde::Deserialize;

use super::App;
use crate::alerts::{self, Event};
use crate::domain::runs::is_our_repository;
use crate::store::{AuditEntry, Delivery, Recorded, StoreError};

/// A delivery whose signature the HTTP layer has checked.
#[derive(Debug, Clone)]
pub struct WebhookRequest {
    pub delivery_id: String,
    pub event: String,
    pub body: String,
}

/// What became of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOutcome {
    Accepted,
    /// Stored, but not the bot's (another repository's): it changes nothing.
    Ignored,
    Duplicate,
    /// Signed, but not JSON we can read.
    Malformed(String),
}

#[derive(Deserialize)]
struct RunEvent {
    workflow_run: crate::adapters::github::WorkflowRun,
}

#[derive(Deserialize)]
struct Envelope {
    action: Option<String>,
    #[serde(default)]
    repository: Option<RepositoryRef>,
}

#[derive(Deserialize)]
struct RepositoryRef {
    full_name: String,
}

/// Events whose effects (a run followed, a job counted, a release
/// announced) belong to one repository.
const REPOSITORY_EVENTS: [&str; 3] = ["workflow_run", "workflow_job", "release"];

#[derive(Deserialize)]
struct ReleasePayload {
    release: ReleaseBody,
}

#[derive(Deserialize)]
struct ReleaseBody {
    id: u64,
    tag_name: String,
    name: Option<String>,
    html_url: String,
    draft: Option<bool>,
    author: Option<Login>,
}

#[derive(Deserialize)]
struct Login {
    login: String,
}

/// The alert-worthy event a delivery carries, if any.
fn event_of(event: &str, action: Option<&str>, body: &str) -> Result<Option<Event>, String> {
    match (event, action) {
        ("release", Some("published")) => {
            let p: ReleasePayload = serde_json::from_str(body).map_err(|e| e.to_string())?;
            if p.release.draft == Some(true) {
                return Ok(None);
            }
            Ok(Some(Event::ReleasePublished {
                release_id: p.release.id,
                tag: p.release.tag_name,
                name: p.release.name,
                url: p.release.html_url,
                author: p.release.author.map(|a| a.login),
                checklist: Vec::new(),
            }))
        }
        _ => Ok(None),
    }
}

impl App {
    /// Stores a verified delivery (once) with its alerts.
    pub async fn accept_webhook(&self, req: WebhookRequest) -> Result<WebhookOutcome, StoreError> {
        let envelope: Envelope = match serde_json::from_str(&req.body) {
            Ok(e) => e,
            Err(e) => return Ok(WebhookOutcome::Malformed(e.to_string())),
        };
        // An organisation-wide webhook sends every repository's events:
        // only the configured repository's change anything.
        let github = &self.config.github;
        let foreign = match &envelope.repository {
            Some(r) if !is_our_repository(&github.owner, &github.repo, &r.full_name) => {
                Some(format!(
                    "repository {} is not the configured one",
                    crate::alerts::format::clip(&r.full_name, 200)
                ))
            }
            None if REPOSITORY_EVENTS.contains(&req.event.as_str()) => {
                Some("it names no repository".to_owned())
            }
            _ => None,
        };
        if let Some(why) = foreign {
            return self.ignore_webhook(req, envelope.action, why).await;
        }
        let mut event = match event_of(&req.event, envelope.action.as_deref(), &req.body) {
            Ok(e) => e,
            Err(e) => return Ok(WebhookOutcome::Malformed(e)),
        };
        if let Some(Event::ReleasePublished { tag, checklist, .. }) = &mut event {
            *checklist = self.release_ticks(tag).await;
        }
        // A workflow run we cannot read is refused, not stored and ignored.
        let run = if req.event == "workflow_run" {
            match serde_json::from_str::<RunEvent>(&req.body) {
                Ok(e) => Some(e.workflow_run),
                Err(e) => return Ok(WebhookOutcome::Malformed(e.to_string())),
            }
        } else {
            None
        };
        // A run of a workflow the bot does not drive (CI, most of what a
        // repository sends) has nothing to apply: stored as processed, one
        // write instead of two.
        let ours = run.as_ref().is_some_and(|r| {
            self.config
                .github
                .workflows
                .kind_of_file(r.file())
                .is_some()
        });
        let alerts = event
            .as_ref()
            .map(|e| alerts::route(&self.config, &alerts::render(e)))
            .unwrap_or_default();
        let action = envelope.action.clone();
        let audit = AuditEntry {
            actor: None,
            chat: None,
            action: format!("webhook:{}", req.event),
            outcome: "stored".into(),
            operation: None,
            detail: format!(
                "delivery {}{}",
                req.delivery_id,
                action
                    .as_deref()
                    .map(|a| format!(" action {a}"))
                    .unwrap_or_default()
            ),
        };
        let delivery = Delivery {
            id: req.delivery_id,
            event: req.event,
            action,
            payload: req.body,
            ignored: None,
        };
        let alerted = alerts.len() as u64;
        let recorded = self
            .deliveries
            .record(delivery.clone(), !ours, audit, alerts)
            .await?;
        // A delivery stored but not applied (the bot failed or stopped in
        // between) is applied when GitHub redelivers it.
        let apply =
            ours && (recorded == Recorded::New || !self.store.is_processed(&delivery.id).await?);
        tracing::debug!(delivery = %delivery.id, ?recorded, "webhook stored");
        if let Some(run) = run.as_ref().filter(|_| apply) {
            // Stored first: a crash here leaves the run to the poller.
            self.apply_run(run).await?;
            tracing::debug!(delivery = %delivery.id, run = run.id, "webhook applied");
            self.store.mark_processed(&delivery.id).await?;
        }
        // A job started or finished: the operation's message shows it.
        if delivery.event == "workflow_job" && recorded == Recorded::New {
            #[derive(Deserialize)]
            struct Job {
                run_id: u64,
            }
            #[derive(Deserialize)]
            struct JobEvent {
                workflow_job: Job,
            }
            if let Ok(event) = serde_json::from_str::<JobEvent>(&delivery.payload) {
                self.job_changed(event.workflow_job.run_id).await?;
            }
        }
        Ok(match recorded {
            Recorded::New => {
                if alerted > 0 {
                    self.metrics.alert("queued", alerted);
                    self.outbox.notify_one();
                }
                WebhookOutcome::Accepted
            }
            Recorded::Duplicate => WebhookOutcome::Duplicate,
        })
    }
}

impl App {
    /// Stores a delivery that is not the bot's as ignored (processed, with
    /// why, its audit line and no alert), and does nothing else with it.
    async fn ignore_webhook(
        &self,
        req: WebhookRequest,
        action: Option<String>,
        why: String,
    ) -> Result<WebhookOutcome, StoreError> {
        tracing::info!(delivery = %req.delivery_id, event = %req.event, why, "webhook ignored");
        let audit = AuditEntry {
            actor: None,
            chat: None,
            action: format!("webhook:{}", req.event),
            outcome: "ignored".into(),
            operation: None,
            detail: format!("delivery {}: {why}", req.delivery_id),
        };
        let delivery = Delivery {
            id: req.delivery_id,
            event: req.event,
            action,
            payload: req.body,
            ignored: Some(why),
        };
        Ok(
            match self
                .deliveries
                .record(delivery, true, audit, vec![])
                .await?
            {
                Recorded::New => WebhookOutcome::Ignored,
                Recorded::Duplicate => WebhookOutcome::Duplicate,
            },
        )
    }
}
