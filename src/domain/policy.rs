//! Who may do what, where: every rule of the bot's access and approval
//! policy, as plain functions over plain data, one per question.
//!
//! How to read it: each `may_*` function answers one question and returns
//! `Ok(())` or a typed refusal (with `code()` for the audit log and
//! `message()` for the chat); the service asks them and re-codes none.
//! Roles come from `[[users]]`; an environment's rules come from its
//! config as an [`EnvPolicy`] (deploys: `environments.<env>.requesters`
//! and `.approval`; rollbacks: `environments.<env>.rollback`, falling back
//! to the deploy's).
//!
//! - In which chat, by whom, may a command be run at all: [`access`].
//! - Which environments a guided command offers someone: [`may_ask`].
//! - Who may ask for a deploy, and what must hold: [`judge_deploy`]
//!   (`policy/approval.rs`, with the approval rules); who may ask for a rollback: [`may_request_rollback`];
//!   who may break the glass: [`may_break_glass`].
//! - Which rules a rollback follows (its own section, else the deploy's):
//!   [`policy_for`].
//! - Who may approve or reject a request (four eyes, expiry):
//!   [`may_decide`]; which recorded approvals still count:
//!   [`counting_approvals`]; whether a prompt reaches an approver at all:
//!   [`prompt_reaches_approver`].
//!   So "who may approve a prod rollback?": [`policy_for`] gives the
//!   roles in `environments.prod.rollback.approvers` (else
//!   `.approval.approvers`), and [`may_decide`] lets any of them but the
//!   requester (four eyes); `rollback.approvals` (else
//!   `.approval.approvals`) of them are needed.
//! - What an approval still rests on when it counts: [`recheck`].
//! - Whether a freeze stops a deploy, and who may override it (the
//!   environment's approvers, with a reason): [`judge_freeze`]; whether it
//!   still does at dispatch: [`freeze_holds_at_dispatch`].
//! - Who may lock, unlock, mute: [`may_act_in_incident`]; withdraw a
//!   request: [`may_withdraw`]; give QA's verdict: [`may_verify`]; roll back
//!   directly on ECS: [`may_roll_back_directly`]; open an incident report:
//!   [`may_open_report`]; run the failure checklist: [`may_diagnose`].
//! - Who may cut a release: [`may_release`]; answer its "Release
//!   anyway?": [`may_answer_release_question`]; tick its checklist:
//!   [`may_tick_checklist`].
//! - Who may read the secrets' ages, when one is overdue for rotation,
//!   when the weekly reminder is due: [`may_read_secret_ages`],
//!   [`is_overdue`], [`rotation_reminder_due`] (`policy/rotation.rs`).
//! - Who may review a run held by a GitHub environment's required
//!   reviewers: [`may_review_gate`] (`policy/gates.rs`).
//! - Which environment is "prod" (the last in promotion order):
//!   [`last_env`].
//! - Which failures the bot rolls back by itself, and whether that may
//!   skip approvals: [`calls_for_auto_rollback`],
//!   [`auto_rollback_skips_approvals`].

mod approval;
mod autorollback;
mod freeze;
mod gates;
mod groups;
mod rotation;

use approval::holds_any;
pub use approval::{
    DecisionFacts, DecisionRefusal, DeployFacts, DeployRefusal, DeployVerdict, EnvPolicy,
    RollbackRules, counting_approvals, judge_deploy, may_decide, policy_for,
};
pub use autorollback::{
    AUTOMATIC, AutoRollbackFacts, auto_rollback_skips_approvals, calls_for_auto_rollback,
    may_call_for_auto_rollback,
};
pub use freeze::{FreezeRefusal, freeze_holds_at_dispatch, held_by_freezes, judge_freeze};
pub use gates::{GateRefusal, may_review_gate};
pub use groups::{
    ApprovalGroup, GroupProgress, group_progress, group_roles, reminder_at, still_to_decide, tally,
};
pub use rotation::{is_overdue, may_read_secret_ages, rotation_reminder_due};

use super::{AlertKind, ChatId, Command, Env, OperationKind, Role, UserId};

/// The chat a command came from, as the config sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatKind {
    /// A chat listed in `[[chats]]`.
    Configured,
    /// A private chat (its id is the user's id).
    Private,
    /// A group or channel nobody configured.
    Unknown,
}

/// The policy's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    Allowed,
    Refused(Refusal),
}

/// Why a command is refused; each carries what the answer must say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The chat is not in `[[chats]]` (and is not a known user's private chat).
    ChatNotAllowed { chat: ChatId },
    /// The sender is not in `[[users]]`.
    UnknownUser { user: UserId },
}

impl Refusal {
    /// The sentence shown in the chat.
    pub fn message(&self) -> String {
        match self {
            Refusal::ChatNotAllowed { chat } => format!(
                "⛔ This chat (id {chat}) is not allowed to use this bot. \
                 Ask a senior to add it to [[chats]] in bot.toml."
            ),
            Refusal::UnknownUser { user } => format!(
                "⛔ You are not on this bot's list of users. Your Telegram id is {user}; \
                 ask a senior to add it to [[users]] in bot.toml."
            ),
        }
    }

    /// A short code for the audit log and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::ChatNotAllowed { .. } => "chat_not_allowed",
            Refusal::UnknownUser { .. } => "unknown_user",
        }
    }
}

/// May this sender run this command in this chat? `None` stands for a
/// command that did not parse: its usage error is for members only.
///
/// `/help` and `/whoami` answer anyone anywhere: `/whoami` is how a newcomer
/// learns the id a senior must put in `[[users]]`. Everything else needs a
/// configured chat (or a configured user's private chat) and a configured
/// user. Per-environment roles for deploys live with the approval policy.
pub fn access(
    command: Option<&Command>,
    chat: ChatId,
    chat_kind: ChatKind,
    user: UserId,
    roles: Option<&[Role]>,
) -> Access {
    if matches!(command, Some(Command::Help | Command::WhoAmI)) {
        return Access::Allowed;
    }
    if chat_kind == ChatKind::Unknown {
        return Access::Refused(Refusal::ChatNotAllowed { chat });
    }
    if roles.is_none() {
        return Access::Refused(Refusal::UnknownUser { user });
    }
    Access::Allowed
}

/// How often a stranger hears from the bot at most: a chat nobody
/// configured, or a sender not in `[[users]]`, gets one answer (a refusal,
/// `/whoami`, `/help`) in this long, then silence. A newcomer still learns
/// their id; a stranger's flood costs the team's chats nothing.
pub const STRANGER_ANSWER_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Whose answers a command is counted against when it comes from a
/// stranger, as (chat, user): a group nobody configured as one (user 0),
/// however many write in it; anyone else not in `[[users]]` on their own,
/// in a private chat or a team chat (a newcomer there does not silence
/// the next). `None`: no stranger, answered as the command deserves.
pub fn stranger_key(
    chat: ChatId,
    chat_kind: ChatKind,
    user: UserId,
    known: bool,
) -> Option<(i64, i64)> {
    match chat_kind {
        ChatKind::Unknown => Some((chat.0, 0)),
        ChatKind::Configured | ChatKind::Private if known => None,
        ChatKind::Configured | ChatKind::Private => Some((chat.0, user.0)),
    }
}

/// Whether the bot leaves a chat a command came from: a group nobody
/// configured (after its one answer, which names the chat's id for
/// `[[chats]]`). A private chat is never left; Telegram has no such thing.
pub fn leaves(chat_kind: ChatKind) -> bool {
    chat_kind == ChatKind::Unknown
}

/// Whether an alert rings the on-call: the users a chat lists in
/// `mention_on_failure` are mentioned in it there. `kinds` are the kinds
/// it is routed under (one chat may take it as any of them); `last_env`
/// is the last environment in promotion order (prod).
///
/// Every failure rings, wherever it happened: break-glass and direct ECS
/// rollbacks and QA's "found issues" are routed as failures too. Health
/// alerts ring only for the last environment: a failing staging health
/// URL can wait for the morning, prod's cannot.
pub fn rings_on_call(kinds: &[AlertKind], env: Option<&Env>, last_env: Option<&Env>) -> bool {
    kinds.contains(&AlertKind::Failure)
        || (kinds.contains(&AlertKind::Health) && env.is_some() && env == last_env)
}

/// Whether an approval prompt shown in `chats` is put before someone who
/// may approve it. A chat in `[[chats]]` is (the team reads there; who is
/// in it is Telegram's to know, not the bot's); a private chat nobody
/// configured (its id is its owner's user id) only when its owner holds
/// an approver role and, under four eyes, is not the requester.
pub fn prompt_reaches_approver<'a>(
    chats: &[(ChatId, ChatKind)],
    requester: UserId,
    policy: &EnvPolicy,
    roles_of: impl Fn(UserId) -> Option<&'a [Role]>,
) -> bool {
    chats.iter().any(|(chat, kind)| match kind {
        ChatKind::Configured => true,
        ChatKind::Unknown => false,
        ChatKind::Private => {
            let owner = UserId(chat.0);
            let may_approve = roles_of(owner)
                .is_some_and(|roles| roles.iter().any(|r| policy.approvers.contains(r)));
            may_approve && !(policy.four_eyes && owner == requester)
        }
    })
}

/// The refusal of a request whose prompt no approver would see.
pub fn no_approver_sees(env: &Env, policy: &EnvPolicy) -> String {
    let roles: Vec<&str> = policy.approvers.iter().map(Role::as_str).collect();
    format!(
        "⛔ Nobody who may approve this would see its prompt: it was asked in a private chat, \
         and no chat takes approval prompts for {env}. Ask in the team chat, or give a chat \
         of the approvers ({}) the approval alerts for {env} in bot.toml.",
        if roles.is_empty() {
            "nobody".to_owned()
        } else {
            roles.join(", ")
        }
    )
}

/// The version a Deploy or Rollback run names (`Deploy X to ENV`), if the
/// bot follows it there: a release version anywhere (`1.3.0`, `v1.3.0`),
/// and, where the environment deploys itself (`auto_deploy`), any image
/// tag (`main-1a2b3c4`, a commit SHA: Docker's tag syntax).
pub fn run_version(named: &str, auto_deploy: bool) -> Option<String> {
    if let Ok(v) = super::Version::parse(named, true) {
        return Some(v.to_string());
    }
    let tag_like = named.len() <= 128
        && named
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && named
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    (auto_deploy && tag_like).then(|| named.to_owned())
}

/// How long a webhook delivery's id is remembered at least, whatever
/// `retention.webhooks` says: GitHub redelivers (by hand, or through its
/// API) the deliveries of the past 3 days; ten times that leaves room for
/// a redelivery retried late, and still bounds the table.
pub const DELIVERY_IDS_KEPT: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// What retention prunes, as times (Unix ms): older than these goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionCutoffs {
    /// Webhook payloads received before this are emptied.
    pub payloads: i64,
    /// Webhook deliveries received before this are forgotten, id and all.
    pub delivery_ids: i64,
    /// Sent alerts (of ended operations, or of none) before this go.
    pub alerts: i64,
}

/// The cutoffs at `now_ms` for `[retention]`'s `webhooks` and `outbox`.
pub fn retention_cutoffs(
    now_ms: i64,
    webhooks: std::time::Duration,
    outbox: std::time::Duration,
) -> RetentionCutoffs {
    let ago = |d: std::time::Duration| {
        now_ms.saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    };
    RetentionCutoffs {
        payloads: ago(webhooks),
        delivery_ids: ago(webhooks.max(DELIVERY_IDS_KEPT)),
        alerts: ago(outbox),
    }
}

/// The last environment in promotion order (prod): where "delivered"
/// means, whose health rings the on-call, whose failures no mute silences.
pub fn last_env<'a>(envs: impl IntoIterator<Item = &'a Env>) -> Option<&'a Env> {
    envs.into_iter().last()
}

/// Whether someone holding `roles` is among `requesters` (an
/// environment's deploy or rollback requesters): which environments a
/// guided `/deploy` or `/rollback` offers them. The request itself is
/// judged by [`judge_deploy`] or [`may_request_rollback`].
///
pub fn may_ask(roles: &[Role], requesters: &[Role]) -> bool {
    holds_any(roles, requesters)
}

/// Why a rollback request (or its break-glass) is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollbackRefusal {
    /// The requester holds none of the rollback requester roles.
    NotARequester { env: Env, roles: Vec<Role> },
    /// Break-glass is off for this environment.
    BreakGlassOff { env: Env },
    /// Only a rollback approver may break the glass.
    NotABreaker { env: Env, roles: Vec<Role> },
}

impl RollbackRefusal {
    /// The sentence shown in the chat (plain text; `BreakGlassOff` names
    /// the config key, which the chat shows as code).
    pub fn message(&self) -> String {
        match self {
            Self::NotARequester { env, roles } => format!(
                "⛔ Rollbacks of {env} are asked for by: {}. You hold none of these roles.",
                names(roles)
            ),
            Self::BreakGlassOff { env } => format!(
                "⛔ Break-glass is off for {env} (environments.{env}.rollback.break_glass). \
                 Ask without it: the rollback waits for its approval."
            ),
            Self::NotABreaker { env, roles } => {
                format!("⛔ Only {} may break the glass on {env}.", names(roles))
            }
        }
    }

    /// A short code for the audit log.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotARequester { .. } => "not_a_requester",
            Self::BreakGlassOff { .. } => "break_glass_off",
            Self::NotABreaker { .. } => "not_an_approver",
        }
    }
}

/// The roles, comma-separated (as the config lists them).
fn names(roles: &[Role]) -> String {
    roles
        .iter()
        .map(Role::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// May someone holding `roles` ask for a rollback of `env` under its
/// rollback policy?
pub fn may_request_rollback(
    env: &Env,
    roles: &[Role],
    policy: &EnvPolicy,
) -> Result<(), RollbackRefusal> {
    if holds_any(roles, &policy.requesters) {
        Ok(())
    } else {
        Err(RollbackRefusal::NotARequester {
            env: env.clone(),
            roles: policy.requesters.clone(),
        })
    }
}

/// May someone holding `roles` roll `env` back at once, alone? Only where
/// the config turns break-glass on, and only a rollback approver (who
/// would otherwise approve it).
pub fn may_break_glass(
    env: &Env,
    enabled: bool,
    roles: &[Role],
    policy: &EnvPolicy,
) -> Result<(), RollbackRefusal> {
    if !enabled {
        return Err(RollbackRefusal::BreakGlassOff { env: env.clone() });
    }
    if !holds_any(roles, &policy.approvers) {
        return Err(RollbackRefusal::NotABreaker {
            env: env.clone(),
            roles: policy.approvers.clone(),
        });
    }
    Ok(())
}

/// A refusal for want of one of a list of roles, for a tap or a command
/// whose sentence names the roles (`message`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRefusal {
    code: &'static str,
    /// Who may.
    pub roles: Vec<Role>,
}

impl RoleRefusal {
    /// A short code for the audit log.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// Who may, comma-separated, for the sentence that refuses.
    pub fn message(&self) -> String {
        names(&self.roles)
    }
}

fn needs_role(held: &[Role], wanted: &[Role], code: &'static str) -> Result<(), RoleRefusal> {
    if holds_any(held, wanted) {
        Ok(())
    } else {
        Err(RoleRefusal {
            code,
            roles: wanted.to_vec(),
        })
    }
}

/// May someone holding `roles` cut a release? `[release] requesters`.
pub fn may_release(roles: &[Role], requesters: &[Role]) -> Result<(), RoleRefusal> {
    needs_role(roles, requesters, "not_a_requester")
}

/// May `answerer` answer a release's "Release anyway?"? Its requester
/// only: the question is whether they meant the bump.
pub fn may_answer_release_question(answerer: UserId, requester: UserId) -> bool {
    answerer == requester
}

/// May `ticker` tick a release's checklist? Its requester only: they
/// vouch for the items with the release they asked for.
pub fn may_tick_checklist(ticker: UserId, requester: UserId) -> bool {
    ticker == requester
}

/// May someone holding `roles` lock, unlock, mute, or withdraw someone
/// else's request? Those in `incident.roles` (seniors).
pub fn may_act_in_incident(roles: &[Role], incident_roles: &[Role]) -> Result<(), RoleRefusal> {
    needs_role(roles, incident_roles, "not_allowed")
}

/// May `user` (holding `roles`) withdraw (`/cancel`) a request of
/// `requester`'s? Their own, always; anyone's, in `incident.roles`.
pub fn may_withdraw(
    user: UserId,
    requester: UserId,
    roles: &[Role],
    incident_roles: &[Role],
) -> bool {
    user == requester || holds_any(roles, incident_roles)
}

/// May someone holding `roles` give QA's verdict in an environment whose
/// `verifiers` are these?
pub fn may_verify(roles: &[Role], verifiers: &[Role]) -> Result<(), RoleRefusal> {
    needs_role(roles, verifiers, "not_a_verifier")
}

/// May someone holding `roles` roll back on ECS directly (without the
/// workflow)? The environment's rollback approvers.
pub fn may_roll_back_directly(roles: &[Role], rollback: &EnvPolicy) -> Result<(), RoleRefusal> {
    needs_role(roles, &rollback.approvers, "not_an_approver")
}

/// May someone holding `roles` open the incident report of a rollback?
/// Those in `incident.roles`, and those who may ask for or approve a
/// rollback there (`rollback` is `None` for an environment no longer
/// configured).
pub fn may_open_report(
    roles: &[Role],
    incident_roles: &[Role],
    rollback: Option<&EnvPolicy>,
) -> bool {
    holds_any(roles, incident_roles)
        || rollback
            .is_some_and(|p| holds_any(roles, &p.requesters) || holds_any(roles, &p.approvers))
}

/// May someone holding `roles` run the failure checklist of an
/// environment (`/diagnose`)? Those in `incident.roles`, and those who may
/// ask for a deploy there (`requesters`, `None` for an environment no
/// longer configured): whoever answers for what runs there.
pub fn may_diagnose(
    roles: &[Role],
    incident_roles: &[Role],
    requesters: Option<&[Role]>,
) -> Result<(), RoleRefusal> {
    if requesters.is_some_and(|r| holds_any(roles, r)) {
        return Ok(());
    }
    needs_role(roles, incident_roles, "not_allowed")
}

/// What an approval rested on, read again when it is given.
#[derive(Debug, Clone)]
pub struct RecheckFacts<'a> {
    pub kind: OperationKind,
    pub env: &'a str,
    pub version: &'a str,
    /// The requester's name and their roles now.
    pub requester: &'a str,
    pub requester_roles: &'a [Role],
    /// The policy of `kind` in `env` (a rollback's for a rollback).
    pub policy: &'a EnvPolicy,
    /// Still verified in `policy.requires_verified_in` (read for deploys).
    pub verified_before: bool,
    /// Who holds a lock on the environment, and why (read for deploys).
    pub lock: Option<(String, String)>,
    /// The request is the bot's own automatic rollback and `rollback.auto`
    /// is still on in the environment: the bot may still ask for it.
    pub automatic_still_on: bool,
    /// A freeze in force on the environment now, as the chat says it.
    pub frozen: Option<String>,
    /// The requester overrode a freeze when asking.
    pub freeze_overridden: bool,
}

/// Why an approval's grounds no longer hold: the request is cancelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale(pub String);

impl Stale {
    /// What changed (plain text).
    pub fn message(&self) -> String {
        self.0.clone()
    }

    /// A short code for the audit log.
    pub fn code(&self) -> &'static str {
        "stale"
    }
}

/// Whether a request still stands when an approval counts: the requester
/// may still ask for it; for a deploy, no freeze holds the environment
/// (unless the requester overrode one), the version is still verified
/// where the policy wants it and nobody locked the environment. A
/// rollback rests on neither QA's word nor an unlocked environment.
pub fn recheck(f: &RecheckFacts<'_>) -> Result<(), Stale> {
    let env = f.env;
    if !f.automatic_still_on && !holds_any(f.requester_roles, &f.policy.requesters) {
        return Err(Stale(format!(
            "{} may no longer ask for {}s of {env}",
            f.requester, f.kind
        )));
    }
    if let Some(frozen) = &f.frozen
        && freeze_holds_at_dispatch(f.kind, true, f.freeze_overridden)
    {
        return Err(Stale(frozen.clone()));
    }
    if !rests_on_qa_and_locks(f.kind) {
        return Ok(());
    }
    if let Some(prior) = &f.policy.requires_verified_in
        && !f.verified_before
    {
        return Err(Stale(format!(
            "{} is no longer verified in {prior}",
            f.version
        )));
    }
    if let Some((by, reason)) = &f.lock {
        return Err(Stale(format!("{env} was locked by {by}: {reason}")));
    }
    Ok(())
}

/// Whether a request of `kind` rests on QA's verdict and an unlocked
/// environment (a deploy), or on neither (a rollback: a lock holds
/// deploys back, not the way out of an incident).
pub fn rests_on_qa_and_locks(kind: OperationKind) -> bool {
    kind != OperationKind::Rollback
}

#[cfg(test)]
mod tests;
