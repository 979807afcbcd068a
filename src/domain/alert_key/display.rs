//! How keys are written: the stored text [`AlertKey::parse`] reads back.

use std::fmt;

use super::*;

impl fmt::Display for OpSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::New => f.write_str("{op}"),
            Self::Id(id) => write!(f, "{}", id.0),
        }
    }
}

impl fmt::Display for OpStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Prompt => "prompt",
            Self::Confirm => "confirm",
            Self::Qa => "qa",
            Self::Dispatched => "dispatched",
            Self::DispatchUnknown => "dispatch-unknown",
            Self::DispatchFailed => "dispatch-failed",
            Self::NoRun => "no-run",
            Self::Failed => "failed",
            Self::Succeeded => "succeeded",
            Self::Unhealthy => "unhealthy",
            Self::Direct => "direct",
            Self::DirectFailed => "direct-failed",
            Self::BreakGlass => "break-glass",
            Self::FreezeOverride => "freeze-override",
            Self::AutoRollback => "auto-rollback",
            Self::AutoRollbackAnswer => "auto-rollback-answer",
            Self::Report => "report",
            Self::Remind => "remind",
            Self::Issues { by } => return write!(f, "issues:{}", by.0),
            Self::Arm { by, nonce } => return write!(f, "arm:{}:{nonce}", by.0),
            Self::Ring(step) => return write!(f, "{step}:ring"),
            Self::Escalated(n) => return write!(f, "escalated-{n}"),
            Self::Gate(id) => return write!(f, "gate-{id}"),
        };
        f.write_str(name)
    }
}

impl fmt::Display for EditStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Started => "started",
            Self::Confirming => "confirming",
            Self::Failed => "failed",
            Self::Succeeded => "succeeded",
            Self::Unhealthy => "unhealthy",
            Self::Direct => "direct",
            Self::DirectFailed => "direct-failed",
            Self::Approve => "approve",
            Self::ConfirmApprove => "confirm",
            Self::Reject => "reject",
            Self::ReleaseAnyway => "release_anyway",
            Self::CancelRelease => "cancel",
            Self::Checked => "checked",
            Self::Stale => "stale",
            Self::Withdrawn => "withdrawn",
            Self::Diagnosis => "diagnosis",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
            Self::Taken => "taken",
            Self::Jobs { done, total } => return write!(f, "jobs-{done}of{total}"),
            Self::Tick { item } => return write!(f, "tick-{item}"),
            Self::Lapsed { by } => return write!(f, "lapsed:{}", by.0),
            Self::Counted { by } => return write!(f, "counted:{}", by.0),
            Self::Verify { by } => return write!(f, "verify:{}", by.0),
            Self::FoundIssues { by } => return write!(f, "found_issues:{}", by.0),
        };
        f.write_str(name)
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Op { op, step } => write!(f, "op:{op}:{step}"),
            Self::Release { id } => write!(f, "release:{id}"),
            Self::Rotation { week } => write!(f, "secrets:{week}"),
            Self::Health { env, at_ms, index } => write!(f, "health:{env}:{at_ms}:{index}"),
            Self::HealthEscalated { env, at_ms, step } => {
                write!(f, "health:{env}:{at_ms}:escalated-{step}")
            }
            Self::Lock {
                env,
                locked_at,
                event,
            } => {
                write!(f, "lock:{env}:{locked_at}:")?;
                match event {
                    LockEvent::Locked => f.write_str("locked"),
                    LockEvent::Unlocked => f.write_str("unlocked"),
                    LockEvent::Lifted => f.write_str("lifted"),
                    LockEvent::Reminder { at_ms } => write!(f, "reminder:{at_ms}"),
                }
            }
            Self::Freeze {
                scope,
                frozen_at,
                lifted,
            } => {
                let event = if *lifted { "unfrozen" } else { "frozen" };
                write!(f, "freeze:{scope}:{frozen_at}:{event}")
            }
        }
    }
}

impl fmt::Display for AlertKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.subject)?;
        if let Some(chat) = self.chat {
            write!(f, "@{}", chat.0)?;
        }
        if let Some(step) = &self.edit {
            write!(f, ":{step}")?;
        }
        Ok(())
    }
}
