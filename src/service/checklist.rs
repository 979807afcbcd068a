//! The release checklist: a `/release` whose type asks items of
//! `[release] checklist` posts a prompt with GitHub's generated release
//! notes and one button per item; only its requester ticks them, each
//! tick stored with its audit line and the prompt's edit; the last tick
//! runs the checks again and dispatches the release, once.

use super::approvals::confirm_key;
use super::taps::{Button, Tap, TapAnswer};
use super::{App, Incoming, Reply};
use crate::domain::{
    AlertKind, Callback, ChatId, EditStep, NewOp, OpRef, OperationId, OperationKind,
    OperationState, ReleaseType, ReleaseVerdict, Tick, UserId, Version, may_tick_checklist,
    unticked,
};
use crate::messages::checklist::{self as say, Notes};
use crate::messages::{approvals, releases};
use crate::store::{Created, NewAlert, NewOperation, OperationRow, Ticked, Transition};

/// How long a release's checklist stays open.
const CHECKLIST_WINDOW_MS: i64 = 30 * 60 * 1000;

/// A release about to ask its checklist: what the checks found.
pub(super) struct Asked<'a> {
    pub version: &'a Version,
    pub kind: ReleaseType,
    /// The checks, rendered.
    pub checks: &'a str,
    /// The latest release's tag, which the notes start from.
    pub latest: Option<&'a str>,
    /// Only the bump does not fit: "Release anyway" decides once ticked.
    pub confirm: bool,
}

/// The prompt's buttons: one row per item, then "Release anyway" (when
/// the bump does not fit) and "Cancel".
fn buttons<O: OpRef>(op: O, items: &[String], confirm: bool) -> Vec<Vec<Button>> {
    let mut rows: Vec<Vec<Button>> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            vec![Button {
                text: say::item_label(item, false),
                data: Callback::Tick {
                    op,
                    item: u8::try_from(i).unwrap_or(u8::MAX),
                }
                .encode(),
            }]
        })
        .collect();
    let answer = |go: bool, text: String| Button {
        text,
        data: Callback::ReleaseAnyway { op, go }.encode(),
    };
    let mut last = Vec::new();
    if confirm {
        last.push(answer(true, releases::release_anyway_label()));
    }
    last.push(answer(false, releases::cancel_label()));
    rows.push(last);
    rows
}

/// The prompt's buttons as they were posted, with each item's label
/// showing whether it is ticked now.
fn relabelled(posted: &[Vec<Button>], items: &[Tick]) -> Vec<Vec<Button>> {
    posted
        .iter()
        .map(|row| {
            row.iter()
                .map(|b| match Callback::parse(&b.data) {
                    Some(Callback::Tick { item, .. }) => {
                        match items.iter().find(|i| i.position == usize::from(item)) {
                            Some(i) => Button {
                                text: say::item_label(&i.item, i.ticked_by.is_some()),
                                data: b.data.clone(),
                            },
                            None => b.clone(),
                        }
                    }
                    _ => b.clone(),
                })
                .collect()
        })
        .collect()
}

/// Whether posted buttons offer "Release anyway".
fn offers_release_anyway(posted: &[Vec<Button>]) -> bool {
    posted.iter().flatten().any(|b| {
        matches!(
            Callback::parse(&b.data),
            Some(Callback::ReleaseAnyway { go: true, .. })
        )
    })
}

impl App {
    /// Creates the release waiting for its checklist, its items stored
    /// with it, and posts the prompt: the checks, the release notes GitHub
    /// would write for the new tag, a button per item.
    pub(super) async fn ask_checklist(
        &self,
        msg: &Incoming,
        asked: &Asked<'_>,
        items: &[String],
    ) -> (String, Option<Reply>) {
        // The new tag is written as the latest one is (`v1.3.0` or `1.3.0`).
        let tag = match asked.latest {
            Some(latest) if !latest.starts_with('v') => asked.version.to_string(),
            _ => format!("v{}", asked.version),
        };
        let generated = self.github.generate_notes(&tag, asked.latest).await;
        let all_changes = asked.latest.map(|l| self.github.compare_url(l, &tag));
        let failed;
        let notes = match &generated {
            Ok(notes) => Notes::Generated {
                markdown: &notes.body,
                since: asked.latest,
                all_changes: all_changes.as_deref(),
            },
            Err(e) => {
                tracing::warn!(error = %e, tag, "release notes: GitHub could not generate them");
                failed = e.to_string();
                Notes::Unavailable(&failed)
            }
        };
        let text = say::prompt(
            asked.version,
            asked.kind,
            asked.checks,
            &notes,
            asked.confirm,
        );
        let buttons = buttons(NewOp, items, asked.confirm);
        let alert = NewAlert {
            buttons: Some(serde_json::to_string(&buttons).expect("buttons serialise")),
            ..NewAlert::message(
                confirm_key(NewOp, msg.chat.0),
                AlertKind::Approval,
                None,
                msg.chat,
                text,
            )
        };
        let op = NewOperation {
            kind: OperationKind::Release,
            env: None,
            version: asked.version.to_string(),
            release_type: Some(asked.kind),
            state: OperationState::AwaitingApproval,
            requested_by: msg.user,
            chat_id: msg.chat.0,
            request_id: uuid::Uuid::new_v4().to_string(),
            expires_in_ms: Some(CHECKLIST_WINDOW_MS),
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
            detail: format!(
                "{} ({}) · checklist: {}",
                asked.version,
                asked.kind.as_str(),
                items.join("; ")
            ),
        };
        match self
            .store
            .create_with_checklist(&op, items, &audit, std::slice::from_ref(&alert))
            .await
        {
            Ok(Created::New(_)) => {
                self.outbox.notify_one();
                ("checklist".into(), None)
            }
            Ok(Created::Busy) => ("refused:busy".into(), Some(self.release_in_flight().await)),
            Err(e) => self.internal_error("release checklist: store", &e),
        }
    }

    /// A tap on a checklist item's button.
    pub(super) async fn tick_tap(&self, tap: &Tap, id: OperationId, item: u8) -> TapAnswer {
        let op = match self.prompted(tap, id, true, false).await {
            Ok(op) => op,
            Err(answer) => return answer,
        };
        let refusal = if !may_tick_checklist(tap.user, UserId(op.requested_by)) {
            Some((
                "not_the_requester",
                releases::only_the_requester(&self.name_of(op.requested_by)),
            ))
        } else if op.state != OperationState::AwaitingApproval {
            Some(("already_decided", approvals::too_late(op.state)))
        } else if op.expires_at.is_some_and(|t| t <= crate::store::now_ms()) {
            Some(("expired", releases::question_expired()))
        } else {
            None
        };
        if let Some((code, text)) = refusal {
            return self.refuse_tap(tap, "tick", code, Some(id), text).await;
        }
        let (items, posted) = match tokio::try_join!(
            self.store.checklist(id),
            self.store.alert_content(confirm_key(id, op.chat_id))
        ) {
            Ok(found) => found,
            Err(e) => return self.tap_failure("checklist: store", &e),
        };
        let Some(ticked) = items.iter().find(|i| i.position == usize::from(item)) else {
            let text = crate::messages::common::not_my_button();
            return self.refuse_tap(tap, "tick", "forged", Some(id), text).await;
        };
        let (text, posted) = match posted {
            Some((text, buttons)) => (
                text,
                buttons
                    .and_then(|b| serde_json::from_str::<Vec<Vec<Button>>>(&b).ok())
                    .unwrap_or_default(),
            ),
            // (Its prompt pruned: the checklist goes on under a short head.)
            None => {
                let names: Vec<String> = items.iter().map(|i| i.item.clone()).collect();
                (
                    releases::asked_head(&op.version, op.release_type, op.id),
                    buttons(id, &names, false),
                )
            }
        };
        let audit = self.audit(
            Some(tap.user),
            tap.chat,
            "tap:tick",
            "ticked",
            Some(id),
            ticked.item.clone(),
        );
        let edits = |now: &[Tick]| {
            let buttons = serde_json::to_string(&relabelled(&posted, now)).expect("buttons");
            vec![NewAlert {
                buttons: Some(buttons),
                ..NewAlert::edit(
                    &confirm_key(id, op.chat_id),
                    EditStep::Tick {
                        item: usize::from(item),
                    },
                    AlertKind::Approval,
                    None,
                    ChatId(op.chat_id),
                    text.clone(),
                )
            }]
        };
        match self
            .store
            .tick(id, usize::from(item), tap.user, &audit, edits)
            .await
        {
            Ok(Ticked::New(now)) => {
                self.outbox.notify_one();
                match unticked(&now) {
                    0 => self.all_ticked(tap, &op, &now, &posted).await,
                    left => TapAnswer {
                        text: say::ticked_answer(left),
                        alert: false,
                    },
                }
            }
            // A tick again of the last item goes on where a stop left it.
            Ok(Ticked::Already(now)) if unticked(&now) == 0 => {
                self.all_ticked(tap, &op, &now, &posted).await
            }
            Ok(Ticked::Already(_)) => TapAnswer {
                text: say::already_ticked(),
                alert: false,
            },
            Ok(Ticked::Closed) => {
                let text = say::checklist_closed();
                self.refuse_tap(tap, "tick", "closed", Some(id), text).await
            }
            Err(e) => self.tap_failure("checklist: tick", &e),
        }
    }

    /// Every item is ticked: the checks run again (the ticking may have
    /// taken a while); if they pass, the release is approved and
    /// dispatched once; if only the bump does not fit, "Release anyway"
    /// decides; if they fail, the release is cancelled, saying why.
    async fn all_ticked(
        &self,
        tap: &Tap,
        op: &OperationRow,
        items: &[Tick],
        posted: &[Vec<Button>],
    ) -> TapAnswer {
        let id = OperationId(op.id);
        let who = self.name_of(op.requested_by);
        let recheck = match (Version::parse(&op.version, true).ok(), op.release_type) {
            (Some(version), Some(kind)) => match self.run_release_checks(&version, kind).await {
                Ok((_, ReleaseVerdict::Proceed)) => None,
                Ok((_, ReleaseVerdict::Confirm)) if offers_release_anyway(posted) => {
                    return TapAnswer {
                        text: say::confirm_after_ticks(),
                        alert: false,
                    };
                }
                Ok((checks, _)) => Some(checks),
                Err(e) => Some(releases::checks_could_not_run(&e)),
            },
            _ => Some(releases::request_unreadable()),
        };
        let names: Vec<String> = items.iter().map(|i| i.item.clone()).collect();
        let kind = op.release_type;
        let (to, step, text) = match &recheck {
            None => (
                OperationState::Approved,
                EditStep::Checked,
                say::checked(&op.version, kind, op.id, &who, &names),
            ),
            Some(why) => (
                OperationState::Cancelled,
                EditStep::CancelRelease,
                say::checked_but_refused(&op.version, kind, op.id, &who, why),
            ),
        };
        let edits = self.edit_prompts(op, step, text).await;
        let audit = self.audit(
            Some(tap.user),
            tap.chat,
            "tap:tick",
            to.as_str(),
            Some(id),
            names.join("; "),
        );
        let from = [OperationState::AwaitingApproval];
        match self
            .transition(id, Transition::new(&from, to), &audit, &edits)
            .await
        {
            Ok(true) if recheck.is_some() => TapAnswer {
                text: releases::not_released_answer(),
                alert: true,
            },
            Ok(true) => {
                if let Ok(Some(claim)) = self.store.claim_dispatch(id).await {
                    let _ = self.dispatch(claim).await;
                }
                TapAnswer {
                    text: say::all_ticked_answer(),
                    alert: false,
                }
            }
            Ok(false) => TapAnswer {
                text: releases::already_answered(),
                alert: true,
            },
            Err(e) => self.tap_failure("checklist: approve", &e),
        }
    }

    /// "Release anyway" while items are left to tick: the refusal.
    pub(super) async fn unticked_refusal(&self, tap: &Tap, id: OperationId) -> Option<TapAnswer> {
        let left = match self.store.checklist(id).await {
            Ok(items) => unticked(&items),
            Err(e) => return Some(self.tap_failure("checklist: store", &e)),
        };
        if left == 0 {
            return None;
        }
        let text = say::tick_first(left);
        Some(
            self.refuse_tap(tap, "release_anyway", "unticked", Some(id), text)
                .await,
        )
    }

    /// The checklist a release of `tag` was ticked through: each item and
    /// who ticked it (for its "Release created" alert).
    pub(super) async fn release_ticks(&self, tag: &str) -> Vec<(String, String)> {
        let Some(version) = Version::from_tag(tag) else {
            return Vec::new();
        };
        match self.store.ticks_of_release(&version.to_string()).await {
            Ok(ticks) => ticks
                .into_iter()
                .map(|t| (t.item, self.name_of(t.ticked_by.map_or(0, |u| u.0))))
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, tag, "release checklist unreadable");
                Vec::new()
            }
        }
    }

    fn tap_failure(&self, what: &str, e: &(dyn std::error::Error + 'static)) -> TapAnswer {
        TapAnswer {
            text: self.internal_failure(what, e),
            alert: true,
        }
    }
}
