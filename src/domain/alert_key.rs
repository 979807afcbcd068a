//! The outbox's keys: what an alert is about, the chat its copy went to,
//! and, for an edit, the step it shows. A key is unique per event and chat
//! (the same event enqueued twice is one message) and names the message an
//! edit rewrites. Keys are stored, so their text never changes:
//! `op:12:prompt@-100`, `op:12:dispatched@-100:jobs-2of5`,
//! `lock:prod:1700000000000:locked@-100`, …

use super::freeze::FreezeScope;
use super::rotation::IsoWeek;
use super::{ChatId, Env, OperationId, UserId};

/// The operation a key names: one stored, or the one being created in the
/// same transaction as the alert (written `{op}`, which the store replaces
/// with its id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpSlot {
    New,
    Id(OperationId),
}

impl From<OperationId> for OpSlot {
    fn from(id: OperationId) -> Self {
        Self::Id(id)
    }
}

impl From<super::NewOp> for OpSlot {
    fn from(_: super::NewOp) -> Self {
        Self::New
    }
}

/// What an alert is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A step of an operation: `op:{id}:{step}`.
    Op { op: OpSlot, step: OpStep },
    /// A GitHub release was published: `release:{id}`.
    Release { id: u64 },
    /// The health monitor's news: `health:{env}:{at}:{index}`.
    Health { env: Env, at_ms: i64, index: usize },
    /// The health monitor's alarms of one moment, posted again,
    /// unacknowledged, for the n-th contact:
    /// `health:{env}:{at}:escalated-{n}`.
    HealthEscalated { env: Env, at_ms: i64, step: u32 },
    /// A lock of an environment: `lock:{env}:{locked_at}:{event}`.
    Lock {
        env: Env,
        locked_at: i64,
        event: LockEvent,
    },
    /// The week's reminder of the secrets overdue for rotation:
    /// `secrets:{iso week}` (one a week, however often it is looked at).
    Rotation { week: IsoWeek },
    /// An ad-hoc freeze of an environment or of all (`/freeze`):
    /// `freeze:{scope}:{frozen_at}:{frozen|unfrozen}`.
    Freeze {
        scope: FreezeScope,
        frozen_at: i64,
        lifted: bool,
    },
}

/// The alerts of an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpStep {
    /// The approval prompt of a deploy or rollback (`prompt`).
    Prompt,
    /// The "Release anyway?" question of a release (`confirm`).
    Confirm,
    /// QA's verdict buttons after a staging deploy (`qa`).
    Qa,
    Dispatched,
    DispatchUnknown,
    DispatchFailed,
    NoRun,
    Failed,
    Succeeded,
    Unhealthy,
    Direct,
    DirectFailed,
    BreakGlass,
    /// A deploy asked inside a freeze, its freeze overridden
    /// (`freeze-override`).
    FreezeOverride,
    Report,
    /// The bot asked for a rollback by itself after this deploy went
    /// wrong (`auto-rollback`).
    AutoRollback,
    /// What came of that request, or why there is none
    /// (`auto-rollback-answer`).
    AutoRollbackAnswer,
    /// QA found issues (`issues:{user}`).
    Issues {
        by: UserId,
    },
    /// The reminder under a prompt at two thirds of its expiry
    /// (`remind`).
    Remind,
    /// The fat-finger guard's confirm button (`arm:{user}:{nonce}`).
    Arm {
        by: UserId,
        nonce: String,
    },
    /// The short message that rings phones after a bad step shown as an
    /// edit (`{step}:ring`).
    Ring(EditStep),
    /// A failure posted again, unacknowledged, for the n-th contact
    /// (`escalated-{n}`).
    Escalated(u32),
    /// The review prompt of the operation's run, held by the GitHub
    /// environment with this id (`gate-{id}`): one per environment.
    Gate(u64),
}

/// What happened to a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockEvent {
    Locked,
    Unlocked,
    /// Its duration ran out.
    Lifted,
    /// It is still held (`reminder:{at}`).
    Reminder {
        at_ms: i64,
    },
}

/// The step an edit shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditStep {
    // An operation's story.
    Started,
    Confirming,
    Failed,
    Succeeded,
    Unhealthy,
    Direct,
    DirectFailed,
    /// A run's progress (`jobs-{done}of{total}`): only ever an edit.
    Jobs {
        done: usize,
        total: usize,
    },
    // A prompt's outcome.
    Approve,
    /// The fat-finger guard's second tap (`confirm`).
    ConfirmApprove,
    Reject,
    ReleaseAnyway,
    /// "Release anyway?" answered no (`cancel`).
    CancelRelease,
    /// A release's checklist item ticked, by its place (`tick-{item}`).
    Tick {
        item: usize,
    },
    /// A release's checklist all ticked: the release goes ahead (`checked`).
    Checked,
    Stale,
    Withdrawn,
    Cancelled,
    /// A failure alert with the evidence gathered after it (`diagnosis`).
    Diagnosis,
    Expired,
    /// A failure alert or its escalation, once someone took it (`taken`).
    Taken,
    /// An approval no longer counts (`lapsed:{user}`).
    Lapsed {
        by: UserId,
    },
    /// An approval counted towards a request's groups, shown as their
    /// progress (`counted:{user}`).
    Counted {
        by: UserId,
    },
    // QA's verdict, under its buttons.
    Verify {
        by: UserId,
    },
    FoundIssues {
        by: UserId,
    },
}

/// An outbox key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertKey {
    pub subject: Subject,
    /// The copy of the alert in one chat (`@{chat}`).
    pub chat: Option<ChatId>,
    /// An edit of the message that copy became (`:{step}` after the chat;
    /// only a chat's copy is ever edited).
    pub edit: Option<EditStep>,
}

impl AlertKey {
    fn of(subject: Subject) -> Self {
        Self {
            subject,
            chat: None,
            edit: None,
        }
    }

    pub fn op(op: impl Into<OpSlot>, step: OpStep) -> Self {
        Self::of(Subject::Op {
            op: op.into(),
            step,
        })
    }

    pub fn release(id: u64) -> Self {
        Self::of(Subject::Release { id })
    }

    pub fn health(env: Env, at_ms: i64, index: usize) -> Self {
        Self::of(Subject::Health { env, at_ms, index })
    }

    /// Step `step` of the escalation of the health alarms raised in `env`
    /// at `at_ms`.
    pub fn health_escalated(env: Env, at_ms: i64, step: u32) -> Self {
        Self::of(Subject::HealthEscalated { env, at_ms, step })
    }

    pub fn freeze(scope: FreezeScope, frozen_at: i64, lifted: bool) -> Self {
        Self::of(Subject::Freeze {
            scope,
            frozen_at,
            lifted,
        })
    }

    pub fn lock(env: Env, locked_at: i64, event: LockEvent) -> Self {
        Self::of(Subject::Lock {
            env,
            locked_at,
            event,
        })
    }

    pub fn rotation(week: IsoWeek) -> Self {
        Self::of(Subject::Rotation { week })
    }

    /// This alert's copy in `chat`.
    pub fn in_chat(&self, chat: ChatId) -> Self {
        Self {
            chat: Some(chat),
            ..self.clone()
        }
    }

    /// The edit showing `step` of the message this key's alert became.
    pub fn edited(&self, step: EditStep) -> Self {
        Self {
            edit: Some(step),
            ..self.clone()
        }
    }

    /// The key of the message an edit rewrites; `None` for a message of
    /// its own.
    pub fn original(&self) -> Option<Self> {
        self.edit.map(|_| Self {
            edit: None,
            ..self.clone()
        })
    }

    /// The stored operation the key names.
    pub fn operation(&self) -> Option<OperationId> {
        match self.subject {
            Subject::Op {
                op: OpSlot::Id(id), ..
            } => Some(id),
            _ => None,
        }
    }

    /// Whether the alert, when the message it edits never went out, goes
    /// as a message of its own: the latest news does, progress does not
    /// (it is only ever an edit).
    pub fn stands_alone(&self) -> bool {
        !matches!(self.edit, Some(EditStep::Jobs { .. }))
    }

    /// The jobs done that a progress edit showed.
    pub fn jobs_done(&self) -> Option<usize> {
        match self.edit {
            Some(EditStep::Jobs { done, .. }) => Some(done),
            _ => None,
        }
    }

    /// The operation named by a stored key's `op:N:` prefix, read
    /// leniently (whatever follows): retention keeps an operation's alerts
    /// together by it.
    pub fn operation_in(key: &str) -> Option<OperationId> {
        let (id, _) = key.strip_prefix("op:")?.split_once(':')?;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        id.parse().ok().map(OperationId)
    }

    /// The prefix every key of an operation's alerts starts with.
    pub fn operation_prefix(op: OperationId) -> String {
        format!("op:{}:", op.0)
    }

    /// Reads a stored key; `None` for one the bot never writes.
    pub fn parse(key: &str) -> Option<Self> {
        let (subject, chat, edit) = match key.split_once('@') {
            None => (key, None, None),
            Some((subject, rest)) => match rest.split_once(':') {
                None => (subject, Some(rest), None),
                Some((chat, edit)) => (subject, Some(chat), Some(edit)),
            },
        };
        Some(Self {
            subject: parse_subject(subject)?,
            chat: match chat {
                Some(chat) => Some(ChatId(number(chat)?)),
                None => None,
            },
            edit: match edit {
                Some(edit) => Some(EditStep::parse(edit)?),
                None => None,
            },
        })
    }
}

/// A number exactly as the bot writes one (no sign but `-`, no leading
/// zeros), so that what is read writes back the same.
fn number<T: std::str::FromStr + ToString>(s: &str) -> Option<T> {
    let n: T = s.parse().ok()?;
    (n.to_string() == s).then_some(n)
}

fn parse_subject(s: &str) -> Option<Subject> {
    let (kind, rest) = s.split_once(':')?;
    match kind {
        "op" => {
            let (id, step) = rest.split_once(':')?;
            Some(Subject::Op {
                op: OpSlot::Id(OperationId(number(id)?)),
                step: OpStep::parse(step)?,
            })
        }
        "release" => Some(Subject::Release { id: number(rest)? }),
        "secrets" => Some(Subject::Rotation {
            week: IsoWeek::parse(rest)?,
        }),
        "health" => {
            let mut parts = rest.split(':');
            let (Some(env), Some(at), Some(index), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return None;
            };
            let (env, at_ms) = (Env::parse(env).ok()?, number(at)?);
            Some(match index.strip_prefix("escalated-") {
                Some(step) => Subject::HealthEscalated {
                    env,
                    at_ms,
                    step: number(step)?,
                },
                None => Subject::Health {
                    env,
                    at_ms,
                    index: number(index)?,
                },
            })
        }
        "lock" => {
            let mut parts = rest.splitn(3, ':');
            let (Some(env), Some(at), Some(event)) = (parts.next(), parts.next(), parts.next())
            else {
                return None;
            };
            let event = match event {
                "locked" => LockEvent::Locked,
                "unlocked" => LockEvent::Unlocked,
                "lifted" => LockEvent::Lifted,
                other => LockEvent::Reminder {
                    at_ms: number(other.strip_prefix("reminder:")?)?,
                },
            };
            Some(Subject::Lock {
                env: Env::parse(env).ok()?,
                locked_at: number(at)?,
                event,
            })
        }
        "freeze" => {
            let mut parts = rest.split(':');
            let (Some(scope), Some(at), Some(event), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return None;
            };
            Some(Subject::Freeze {
                scope: FreezeScope::parse(scope)?,
                frozen_at: number(at)?,
                lifted: match event {
                    "frozen" => false,
                    "unfrozen" => true,
                    _ => return None,
                },
            })
        }
        _ => None,
    }
}

impl OpStep {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "prompt" => Self::Prompt,
            "confirm" => Self::Confirm,
            "qa" => Self::Qa,
            "dispatched" => Self::Dispatched,
            "dispatch-unknown" => Self::DispatchUnknown,
            "dispatch-failed" => Self::DispatchFailed,
            "no-run" => Self::NoRun,
            "failed" => Self::Failed,
            "succeeded" => Self::Succeeded,
            "unhealthy" => Self::Unhealthy,
            "direct" => Self::Direct,
            "direct-failed" => Self::DirectFailed,
            "break-glass" => Self::BreakGlass,
            "freeze-override" => Self::FreezeOverride,
            "auto-rollback" => Self::AutoRollback,
            "auto-rollback-answer" => Self::AutoRollbackAnswer,
            "report" => Self::Report,
            "remind" => Self::Remind,
            _ => {
                if let Some(n) = s.strip_prefix("escalated-") {
                    return Some(Self::Escalated(number(n)?));
                }
                if let Some(n) = s.strip_prefix("gate-") {
                    return Some(Self::Gate(number(n)?));
                }
                if let Some(step) = s.strip_suffix(":ring") {
                    return Some(Self::Ring(EditStep::parse(step)?));
                }
                if let Some(by) = s.strip_prefix("issues:") {
                    return Some(Self::Issues {
                        by: UserId(number(by)?),
                    });
                }
                let (by, nonce) = s.strip_prefix("arm:")?.split_once(':')?;
                let hex = !nonce.is_empty()
                    && nonce
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                if !hex {
                    return None;
                }
                Self::Arm {
                    by: UserId(number(by)?),
                    nonce: nonce.to_owned(),
                }
            }
        })
    }
}

impl EditStep {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "started" => Self::Started,
            "confirming" => Self::Confirming,
            "failed" => Self::Failed,
            "succeeded" => Self::Succeeded,
            "unhealthy" => Self::Unhealthy,
            "direct" => Self::Direct,
            "direct-failed" => Self::DirectFailed,
            "approve" => Self::Approve,
            "confirm" => Self::ConfirmApprove,
            "reject" => Self::Reject,
            "release_anyway" => Self::ReleaseAnyway,
            "cancel" => Self::CancelRelease,
            "checked" => Self::Checked,
            "stale" => Self::Stale,
            "withdrawn" => Self::Withdrawn,
            "diagnosis" => Self::Diagnosis,
            "cancelled" => Self::Cancelled,
            "expired" => Self::Expired,
            "taken" => Self::Taken,
            _ => {
                if let Some(item) = s.strip_prefix("tick-") {
                    return Some(Self::Tick {
                        item: number(item)?,
                    });
                }
                if let Some(jobs) = s.strip_prefix("jobs-") {
                    let (done, total) = jobs.split_once("of")?;
                    return Some(Self::Jobs {
                        done: number(done)?,
                        total: number(total)?,
                    });
                }
                let (verb, by) = s.split_once(':')?;
                let by = UserId(number(by)?);
                match verb {
                    "lapsed" => Self::Lapsed { by },
                    "counted" => Self::Counted { by },
                    "verify" => Self::Verify { by },
                    "found_issues" => Self::FoundIssues { by },
                    _ => return None,
                }
            }
        })
    }
}

#[path = "alert_key/display.rs"]
mod display;

#[cfg(test)]
#[path = "alert_key/tests.rs"]
mod tests;
