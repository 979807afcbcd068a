//! DORA's four delivery figures, from the bot's own history of one
//! environment (prod): how often it deploys, how long a release takes to
//! get there, how often a deploy goes wrong, and how long restoring takes.

use super::{OperationKind, OperationState};

/// An operation, as the figures need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub kind: OperationKind,
    pub env: Option<String>,
    pub version: String,
    pub state: OperationState,
    /// When it reached its state (ms).
    pub at: i64,
}

/// The figures over a window.
#[derive(Debug, Clone, PartialEq)]
pub struct Dora {
    pub days: u32,
    /// Deploys that reached the environment (succeeded).
    pub deploys: u32,
    /// Median release → deployed there (ms), and how many releases.
    pub lead_time_ms: Option<i64>,
    pub lead_samples: u32,
    /// Deploys that went wrong (failed, unhealthy, or rolled back before
    /// the next deploy) over the deploys that ran.
    pub failed_changes: u32,
    pub changes: u32,
    /// Median time from a change going wrong to the next good state (ms).
    pub restore_ms: Option<i64>,
    pub restores: u32,
}

impl Dora {
    /// Deploys per week.
    pub fn per_week(&self) -> f64 {
        f64::from(self.deploys) * 7.0 / f64::from(self.days.max(1))
    }

    /// The change failure rate, 0..=1; `None` without changes.
    pub fn failure_rate(&self) -> Option<f64> {
        (self.changes > 0).then(|| f64::from(self.failed_changes) / f64::from(self.changes))
    }
}

fn median(mut values: Vec<i64>) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2
    } else {
        values[mid]
    })
}

/// The figures for `env` over the `days` before `now_ms`; `facts` oldest
/// first, all environments and releases included.
pub fn dora(facts: &[Fact], env: &str, now_ms: i64, days: u32) -> Dora {
    let since = now_ms - i64::from(days) * 86_400_000;
    let here = |f: &&Fact| f.env.as_deref() == Some(env);
    let ran = |f: &Fact| f.state.ran();
    let window: Vec<&Fact> = facts
        .iter()
        .filter(here)
        .filter(|f| f.at >= since && f.at <= now_ms && ran(f))
        .collect();

    let deploys: Vec<&&Fact> = window
        .iter()
        .filter(|f| f.kind == OperationKind::Deploy && f.state == OperationState::Succeeded)
        .collect();

    let leads: Vec<i64> = deploys
        .iter()
        .filter_map(|d| {
            facts
                .iter()
                .filter(|r| {
                    r.kind == OperationKind::Release
                        && r.state == OperationState::Succeeded
                        && r.version == d.version
                })
                .map(|r| d.at - r.at)
                .find(|lead| *lead >= 0)
        })
        .collect();

    // Each deploy that ran, in order, and whether it went wrong; a wrong
    // one is restored by the next good state (a successful deploy or
    // rollback) after it.
    let changes: Vec<&&Fact> = window
        .iter()
        .filter(|f| f.kind == OperationKind::Deploy)
        .collect();
    let mut failed = 0;
    let mut restores = Vec::new();
    for (i, change) in changes.iter().enumerate() {
        let next_deploy_at = changes.get(i + 1).map_or(i64::MAX, |n| n.at);
        let rolled_back = window.iter().find(|f| {
            f.kind == OperationKind::Rollback
                && f.state == OperationState::Succeeded
                && f.at > change.at
                && f.at < next_deploy_at
        });
        let wrong = change.state != OperationState::Succeeded || rolled_back.is_some();
        if !wrong {
            continue;
        }
        failed += 1;
        let restored = match rolled_back {
            Some(r) => Some(r.at),
            None => window
                .iter()
                .find(|f| f.state == OperationState::Succeeded && f.at > change.at)
                .map(|f| f.at),
        };
        if let Some(at) = restored {
            restores.push(at - change.at);
        }
    }

    Dora {
        days,
        deploys: deploys.len() as u32,
        lead_samples: leads.len() as u32,
        lead_time_ms: median(leads),
        failed_changes: failed,
        changes: changes.len() as u32,
        restores: restores.len() as u32,
        restore_ms: median(restores),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn fact(kind: &str, env: Option<&str>, version: &str, state: &str, at_h: i64) -> Fact {
        Fact {
            kind: OperationKind::parse(kind).unwrap(),
            env: env.map(str::to_owned),
            version: version.into(),
            state: OperationState::parse(state).unwrap(),
            at: at_h * H,
        }
    }

    #[test]
    fn the_four_figures_from_a_small_history() {
        let facts = [
            fact("release", None, "1.2.0", "succeeded", 0),
            fact("deploy", Some("staging"), "1.2.0", "succeeded", 1),
            fact("deploy", Some("prod"), "1.2.0", "succeeded", 10),
            fact("release", None, "1.3.0", "succeeded", 20),
            fact("deploy", Some("prod"), "1.3.0", "succeeded", 24),
            // 1.3.0 goes wrong: rolled back two hours later.
            fact("rollback", Some("prod"), "1.2.0", "succeeded", 26),
            fact("release", None, "1.3.1", "succeeded", 30),
            // A failed deploy, restored by the next good one 1 h later.
            fact("deploy", Some("prod"), "1.3.1", "failed", 31),
            fact("deploy", Some("prod"), "1.3.1", "succeeded", 32),
            // Outside the window.
            fact("deploy", Some("prod"), "1.1.0", "succeeded", -1000),
        ];
        let d = dora(&facts, "prod", 7 * 24 * H, 7);
        assert_eq!(d.deploys, 3);
        assert!((d.per_week() - 3.0).abs() < 1e-9);
        // Leads: 10 h, 4 h, 2 h (1.3.1 released at 30, deployed at 32).
        assert_eq!(d.lead_samples, 3);
        assert_eq!(d.lead_time_ms, Some(4 * H));
        assert_eq!((d.failed_changes, d.changes), (2, 4));
        assert_eq!(d.failure_rate(), Some(0.5));
        // Restores: 2 h (rollback) and 1 h (next deploy): median 1.5 h.
        assert_eq!(d.restores, 2);
        assert_eq!(d.restore_ms, Some(3 * H / 2));
    }

    #[test]
    fn an_empty_history_has_no_figures_but_says_so() {
        let d = dora(&[], "prod", 0, 30);
        assert_eq!(d.deploys, 0);
        assert_eq!(d.failure_rate(), None);
        assert_eq!(d.lead_time_ms, None);
        assert_eq!(d.restore_ms, None);
    }
}
