//! Approval from several groups (`approval.groups`): which recorded
//! approvals fill which group, and whether every group is full.
//!
//! One approver's word counts for ONE group only: someone holding both
//! `qa` and `senior` cannot satisfy both groups alone. Approvals are
//! placed in groups as a maximum matching (augmenting paths, approvals
//! in the order given, groups in the config's order), so an approval is
//! moved to another group it qualifies for when that lets a later one
//! count too. The request is settled exactly when every group's places
//! can be filled at once; the result is deterministic for one order.

use crate::domain::{Role, UserId};

/// `count` approvals from holders of `role` (one entry of
/// `approval.groups`, e.g. `{ role = "qa", count = 1 }`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalGroup {
    /// The role whose holders fill this group.
    pub role: Role,
    /// How many distinct approvals of them it needs (at least 1).
    pub count: u32,
}

/// How far one group has come: `given` of `count` places filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupProgress {
    pub role: Role,
    pub given: u32,
    pub count: u32,
}

impl GroupProgress {
    pub fn full(&self) -> bool {
        self.given >= self.count
    }
}

/// Each group's progress under the approvals that count (`counting`, in
/// the order given; see the module's doc for how they are placed).
pub fn group_progress<'a>(
    counting: &[UserId],
    groups: &[ApprovalGroup],
    roles_of: impl Fn(UserId) -> Option<&'a [Role]>,
) -> Vec<GroupProgress> {
    // One place per approval a group needs; `place_group[p]` its group.
    let place_group: Vec<usize> = groups
        .iter()
        .enumerate()
        .flat_map(|(g, group)| std::iter::repeat_n(g, group.count as usize))
        .collect();
    let fits: Vec<Vec<usize>> = counting
        .iter()
        .map(|&user| {
            let roles = roles_of(user).unwrap_or(&[]);
            (0..place_group.len())
                .filter(|&p| roles.contains(&groups[place_group[p]].role))
                .collect()
        })
        .collect();
    let mut holder: Vec<Option<usize>> = vec![None; place_group.len()];
    for voter in 0..counting.len() {
        let mut seen = vec![false; place_group.len()];
        place(voter, &fits, &mut holder, &mut seen);
    }
    let mut progress: Vec<GroupProgress> = groups
        .iter()
        .map(|g| GroupProgress {
            role: g.role.clone(),
            given: 0,
            count: g.count,
        })
        .collect();
    for (p, held) in holder.iter().enumerate() {
        if held.is_some() {
            progress[place_group[p]].given += 1;
        }
    }
    progress
}

/// Finds `voter` a place, moving earlier voters along when that frees
/// one (Kuhn's augmenting path).
fn place(
    voter: usize,
    fits: &[Vec<usize>],
    holder: &mut [Option<usize>],
    seen: &mut [bool],
) -> bool {
    for &p in &fits[voter] {
        if seen[p] {
            continue;
        }
        seen[p] = true;
        let free = match holder[p] {
            None => true,
            Some(other) => place(other, fits, holder, seen),
        };
        if free {
            holder[p] = Some(voter);
            return true;
        }
    }
    false
}

/// How many approvals count towards settling the request: with groups,
/// the places filled; without, every counting approval.
pub fn tally<'a>(
    counting: &[UserId],
    groups: &[ApprovalGroup],
    roles_of: impl Fn(UserId) -> Option<&'a [Role]>,
) -> i64 {
    if groups.is_empty() {
        return counting.len() as i64;
    }
    group_progress(counting, groups, roles_of)
        .iter()
        .map(|g| i64::from(g.given))
        .sum()
}

/// The roles of the groups, each once, in the config's order: who may
/// approve at all.
pub fn group_roles(groups: &[ApprovalGroup]) -> Vec<Role> {
    let mut roles: Vec<Role> = Vec::new();
    for g in groups {
        if !roles.contains(&g.role) {
            roles.push(g.role.clone());
        }
    }
    roles
}

/// When an undecided request's reminder is due: two thirds of the way
/// from its asking (`created_ms`) to its expiry (`expires_ms`).
pub fn reminder_at(created_ms: i64, expires_ms: i64) -> i64 {
    created_ms + (expires_ms - created_ms).max(0) * 2 / 3
}

/// Who the reminder mentions: each user, in the config's order, whose
/// approval would still count towards the request — an approver who has
/// not approved it yet, is not its requester under four eyes, and (with
/// groups) whose approval would fill one more place, perhaps by moving
/// an earlier approval to another group it qualifies for.
pub fn still_to_decide<'a>(
    policy: &super::EnvPolicy,
    requester: UserId,
    approved: &[UserId],
    users: impl IntoIterator<Item = (UserId, &'a [Role])>,
) -> Vec<UserId> {
    let known: Vec<(UserId, &[Role])> = users.into_iter().collect();
    let roles_of = |u: UserId| known.iter().find(|(id, _)| *id == u).map(|(_, r)| *r);
    let now = tally(approved, &policy.groups, roles_of);
    known
        .iter()
        .filter(|(id, roles)| {
            let counts = roles.iter().any(|r| policy.approvers.contains(r))
                && !approved.contains(id)
                && !(policy.four_eyes && *id == requester);
            counts && {
                let mut with = approved.to_vec();
                with.push(*id);
                tally(&with, &policy.groups, roles_of) > now
            }
        })
        .map(|(id, _)| *id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups() -> Vec<ApprovalGroup> {
        vec![
            ApprovalGroup {
                role: Role::new("qa"),
                count: 1,
            },
            ApprovalGroup {
                role: Role::new("senior"),
                count: 1,
            },
        ]
    }

    fn roles(u: UserId) -> Option<&'static [Role]> {
        use std::sync::LazyLock;
        static QA: LazyLock<Vec<Role>> = LazyLock::new(|| vec![Role::new("qa")]);
        static SENIOR: LazyLock<Vec<Role>> = LazyLock::new(|| vec![Role::new("senior")]);
        static BOTH: LazyLock<Vec<Role>> =
            LazyLock::new(|| vec![Role::new("qa"), Role::new("senior")]);
        match u.0 {
            1 => Some(QA.as_slice()),
            2 => Some(SENIOR.as_slice()),
            3 => Some(BOTH.as_slice()),
            _ => None,
        }
    }

    fn given(counting: &[i64]) -> Vec<u32> {
        let users: Vec<UserId> = counting.iter().copied().map(UserId).collect();
        group_progress(&users, &groups(), roles)
            .iter()
            .map(|g| g.given)
            .collect()
    }

    #[test]
    fn each_approval_fills_one_group() {
        assert_eq!(given(&[]), [0, 0]);
        assert_eq!(given(&[2]), [0, 1]);
        assert_eq!(given(&[2, 1]), [1, 1]);
        // Someone holding both roles fills one group only.
        assert_eq!(given(&[3]), [1, 0]);
        assert_eq!(tally(&[UserId(3)], &groups(), roles), 1);
        // Two seniors still leave QA's place empty.
        assert_eq!(given(&[2, 2]), [0, 1]);
        // Unknown users fill nothing.
        assert_eq!(given(&[9]), [0, 0]);
    }

    #[test]
    fn an_approval_moves_over_when_that_lets_a_later_one_count() {
        // Both-roles first takes QA's place; a QA after moves them to senior.
        assert_eq!(given(&[3, 1]), [1, 1]);
        assert_eq!(given(&[3, 2]), [1, 1]);
        assert_eq!(tally(&[UserId(3), UserId(1)], &groups(), roles), 2);
    }

    #[test]
    fn without_groups_every_counting_approval_tallies() {
        assert_eq!(tally(&[UserId(1), UserId(9)], &[], roles), 2);
    }

    #[test]
    fn the_reminder_comes_at_two_thirds_of_the_expiry() {
        assert_eq!(reminder_at(1_000, 4_000), 3_000);
        assert_eq!(reminder_at(0, 1_800_000), 1_200_000);
        assert_eq!(reminder_at(5, 5), 5);
    }

    #[test]
    fn the_reminder_names_who_may_still_fill_an_open_group() {
        let policy = crate::domain::EnvPolicy {
            requesters: vec![Role::new("developer")],
            four_eyes: true,
            ..crate::domain::EnvPolicy::of_groups(groups())
        };
        let users = || (1..=4).map(|id| (UserId(id), roles(UserId(id)).unwrap_or(&[])));
        // Nobody approved yet: everyone holding qa or senior but the
        // requester (3, under four eyes).
        let all = still_to_decide(&policy, UserId(3), &[], users());
        assert_eq!(all, [UserId(1), UserId(2)]);
        // The senior approved: only those who could fill QA's place.
        let qa = still_to_decide(&policy, UserId(9), &[UserId(2)], users());
        assert_eq!(qa, [UserId(1), UserId(3)]);
        // Someone holding both approved: a senior fills the other place,
        // and so does a QA (who takes QA's, moving them to senior's).
        let either = still_to_decide(&policy, UserId(9), &[UserId(3)], users());
        assert_eq!(either, [UserId(1), UserId(2)]);
        // Without groups: every approver who has not approved yet.
        let plain = crate::domain::EnvPolicy {
            approvers: vec![Role::new("senior")],
            groups: Vec::new(),
            ..policy
        };
        let seniors = still_to_decide(&plain, UserId(9), &[UserId(2)], users());
        assert_eq!(seniors, [UserId(3)]);
    }

    #[test]
    fn group_roles_are_listed_once_in_order() {
        let mut g = groups();
        g.push(ApprovalGroup {
            role: Role::new("qa"),
            count: 2,
        });
        assert_eq!(group_roles(&g), [Role::new("qa"), Role::new("senior")]);
    }
}
