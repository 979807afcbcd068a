//! The data behind every inline button (`callback_data`): one enum, written
//! by `encode` and read back by `parse`. The wire format is fixed: buttons
//! already posted in chats must keep working across releases. Data carries
//! an operation id (or a dialogue nonce) and an action only, never a
//! version or an environment's name, and always fits Telegram's 64 bytes.
//! A health-monitor alert has no operation: its buttons carry the
//! environment's place in the config (`h:{index}:r|l|a`, index from 0 in
//! `[environments]` order), read against the config as it is at the tap.

use std::fmt::Write as _;

use super::OperationId;

/// Stands for the operation being created in the same transaction as the
/// message carrying the button: written `{op}`, which the store replaces
/// with the new operation's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewOp;

/// How an operation is written into button data or an alert key.
pub trait OpRef: Copy {
    fn write_to(&self, out: &mut String);
}

impl OpRef for OperationId {
    fn write_to(&self, out: &mut String) {
        let _ = write!(out, "{}", self.0);
    }
}

impl OpRef for NewOp {
    fn write_to(&self, out: &mut String) {
        out.push_str("{op}");
    }
}

/// A decision on a deploy or rollback request (`d:{op}:a|c|r`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vote {
    Approve,
    /// The fat-finger guard's second tap.
    ConfirmApprove,
    Reject,
}

/// QA's verdict on a staging deploy (`q:{op}:v|i`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QaVerdict {
    Verified,
    FoundIssues,
}

/// What a failure alert's buttons ask for (`b:{op}:r|l|a`, `op` the
/// operation that failed or ended unhealthy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertAct {
    /// Roll back to the last version healthy there before it (`r`).
    RollBack,
    /// Lock its environment (`l`).
    Lock,
    /// "I'm on it": the tapper takes the incident (`a`).
    Acknowledge,
}

impl AlertAct {
    fn code(self) -> &'static str {
        match self {
            Self::RollBack => "r",
            Self::Lock => "l",
            Self::Acknowledge => "a",
        }
    }

    fn read(code: &str) -> Option<Self> {
        Some(match code {
            "r" => Self::RollBack,
            "l" => Self::Lock,
            "a" => Self::Acknowledge,
            _ => return None,
        })
    }
}

/// A guided dialogue's button (`g:{nonce}:{index}|y|x`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuidePick {
    /// The n-th offered choice (at most two digits on the wire).
    Index(usize),
    Confirm,
    Cancel,
}

/// What a button asks for. `O` is the operation: an [`OperationId`] in
/// everything read back; [`NewOp`] under a message written with the
/// operation it asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callback<O = OperationId> {
    Decide {
        op: O,
        vote: Vote,
    },
    Qa {
        op: O,
        verdict: QaVerdict,
    },
    /// The answer to "Release anyway?" (`r:{op}:y|n`).
    ReleaseAnyway {
        op: O,
        go: bool,
    },
    /// A tick of a release's checklist item, by its place in the
    /// checklist (`c:{op}:{item}`, one digit).
    Tick {
        op: O,
        item: u8,
    },
    /// Roll back on ECS without the workflow (`e:{op}:y`).
    DirectRollback {
        op: O,
    },
    /// Open the incident report of a rollback (`i:{op}:o`).
    IncidentReport {
        op: O,
    },
    /// A failure alert's button (`b:{op}:r|l|a`).
    Alert {
        op: O,
        act: AlertAct,
    },
    /// A health-monitor alert's button (`h:{env index}:r|l|a`).
    Health {
        env: usize,
        act: AlertAct,
    },
    Guide {
        nonce: u32,
        pick: GuidePick,
    },
    /// A review of a run held by a GitHub environment's required
    /// reviewers (`v:{op}:{environment id}:a|r`: GitHub's numeric id,
    /// never the environment's name).
    Gate {
        op: O,
        environment: u64,
        approve: bool,
    },
}

impl<O: OpRef> Callback<O> {
    /// The button's `callback_data`.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(24);
        let (kind, op, action) = match self {
            Self::Decide { op, vote } => (
                "d",
                op,
                match vote {
                    Vote::Approve => "a",
                    Vote::ConfirmApprove => "c",
                    Vote::Reject => "r",
                },
            ),
            Self::Qa { op, verdict } => (
                "q",
                op,
                match verdict {
                    QaVerdict::Verified => "v",
                    QaVerdict::FoundIssues => "i",
                },
            ),
            Self::ReleaseAnyway { op, go } => ("r", op, if *go { "y" } else { "n" }),
            Self::Tick { op, item } => {
                out.push_str("c:");
                op.write_to(&mut out);
                let _ = write!(out, ":{item}");
                return out;
            }
            Self::DirectRollback { op } => ("e", op, "y"),
            Self::IncidentReport { op } => ("i", op, "o"),
            Self::Alert { op, act } => ("b", op, act.code()),
            Self::Health { env, act } => {
                let _ = write!(out, "h:{env}:{}", act.code());
                return out;
            }
            Self::Gate {
                op,
                environment,
                approve,
            } => {
                out.push_str("v:");
                op.write_to(&mut out);
                let _ = write!(out, ":{environment}:{}", if *approve { "a" } else { "r" });
                return out;
            }
            Self::Guide { nonce, pick } => {
                let _ = write!(out, "g:{nonce}:");
                match pick {
                    GuidePick::Index(i) => {
                        let _ = write!(out, "{i}");
                    }
                    GuidePick::Confirm => out.push('y'),
                    GuidePick::Cancel => out.push('x'),
                }
                return out;
            }
        };
        out.push_str(kind);
        out.push(':');
        op.write_to(&mut out);
        out.push(':');
        out.push_str(action);
        out
    }
}

impl Callback {
    /// A dialogue's button (it names no operation).
    pub fn guide(nonce: u32, pick: GuidePick) -> Self {
        Self::Guide { nonce, pick }
    }

    /// Reads button data strictly: exactly `kind:id:action` (or a dialogue's
    /// `g:nonce:pick`); anything else (forged, mangled, of another bot) is
    /// `None`.
    pub fn parse(data: &str) -> Option<Self> {
        if let Some(rest) = data.strip_prefix("v:") {
            return parse_gate(rest);
        }
        let mut parts = data.split(':');
        let (Some(kind), Some(id), Some(action), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        if kind == "g" {
            let nonce = id.parse().ok()?;
            let pick = match action {
                "y" => GuidePick::Confirm,
                "x" => GuidePick::Cancel,
                n if n.len() <= 2 => GuidePick::Index(n.parse().ok()?),
                _ => return None,
            };
            return Some(Self::Guide { nonce, pick });
        }
        if kind == "h" {
            // At most two digits, written without leading zeros.
            let canonical = !id.is_empty() && id.len() <= 2 && (id == "0" || !id.starts_with('0'));
            if !canonical || !id.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let env = id.parse().ok()?;
            return Some(Self::Health {
                env,
                act: AlertAct::read(action)?,
            });
        }
        if id.is_empty() || id.len() > 18 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let op = OperationId(id.parse().ok()?);
        Some(match (kind, action) {
            ("d", "a") => Self::Decide {
                op,
                vote: Vote::Approve,
            },
            ("d", "c") => Self::Decide {
                op,
                vote: Vote::ConfirmApprove,
            },
            ("d", "r") => Self::Decide {
                op,
                vote: Vote::Reject,
            },
            ("q", "v") => Self::Qa {
                op,
                verdict: QaVerdict::Verified,
            },
            ("q", "i") => Self::Qa {
                op,
                verdict: QaVerdict::FoundIssues,
            },
            ("r", "y") => Self::ReleaseAnyway { op, go: true },
            ("r", "n") => Self::ReleaseAnyway { op, go: false },
            ("c", n) if n.len() == 1 && n.as_bytes()[0].is_ascii_digit() => Self::Tick {
                op,
                item: n.as_bytes()[0] - b'0',
            },
            ("e", "y") => Self::DirectRollback { op },
            ("i", "o") => Self::IncidentReport { op },
            ("b", act) => Self::Alert {
                op,
                act: AlertAct::read(act)?,
            },
            _ => return None,
        })
    }
}

/// A number written in decimal without leading zeros, of at most `max`
/// digits.
fn canonical_number(s: &str, max: usize) -> Option<u64> {
    let canonical = !s.is_empty() && s.len() <= max && (s == "0" || !s.starts_with('0'));
    if !canonical || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `{op}:{environment id}:a|r`, after the `v:`.
fn parse_gate(rest: &str) -> Option<Callback> {
    let mut parts = rest.split(':');
    let (Some(op), Some(environment), Some(action), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if op.is_empty() || op.len() > 18 || !op.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let approve = match action {
        "a" => true,
        "r" => false,
        _ => return None,
    };
    Some(Callback::Gate {
        op: OperationId(op.parse().ok()?),
        environment: canonical_number(environment, 20)?,
        approve,
    })
}

/// The audit verb of a tap whose data does not parse, by the family its
/// first field claims (a mangled dialogue button is audited as one).
pub fn unread_verb(data: &str) -> &'static str {
    match data.split(':').next() {
        Some("e") => "direct",
        Some("c") => "tick",
        Some("i") => "report",
        Some("b" | "h") => "alert",
        Some("g") => "guide",
        Some("v") => "gate",
        _ => "unknown",
    }
}

#[cfg(test)]
#[path = "callback/tests.rs"]
mod tests;
