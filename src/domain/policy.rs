//! Who may do what, where. The one place a newcomer reads to answer
//! "who may ask for /status in this chat?".

use super::{AlertKind, ChatId, Command, Env, EnvPolicy, Role, UserId};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strangers_are_counted_per_unknown_group_and_per_unknown_sender() {
        let (group, team, mallory) = (ChatId(-5), ChatId(-1), UserId(666));
        // A group nobody configured: one count for all who write there.
        assert_eq!(
            stranger_key(group, ChatKind::Unknown, mallory, false),
            Some((-5, 0))
        );
        assert_eq!(
            stranger_key(group, ChatKind::Unknown, UserId(1), true),
            Some((-5, 0))
        );
        // An unknown sender in a team chat or in private: on their own.
        assert_eq!(
            stranger_key(team, ChatKind::Configured, mallory, false),
            Some((-1, 666))
        );
        assert_eq!(
            stranger_key(ChatId(666), ChatKind::Private, mallory, false),
            Some((666, 666))
        );
        // Members are no strangers.
        assert_eq!(
            stranger_key(team, ChatKind::Configured, UserId(1), true),
            None
        );
        assert_eq!(
            stranger_key(ChatId(1), ChatKind::Private, UserId(1), true),
            None
        );
        assert!(leaves(ChatKind::Unknown));
        assert!(!leaves(ChatKind::Private) && !leaves(ChatKind::Configured));
    }

    #[test]
    fn a_delivery_id_outlives_its_payload_and_githubs_redelivery_window() {
        const DAY: i64 = 86_400_000;
        let day = std::time::Duration::from_secs(86_400);
        let now = 100 * DAY;
        assert_eq!(
            retention_cutoffs(now, 14 * day, 30 * day),
            RetentionCutoffs {
                payloads: 86 * DAY,
                delivery_ids: 70 * DAY,
                alerts: 70 * DAY,
            }
        );
        // Payloads kept an hour: the id is still kept 30 days.
        let c = retention_cutoffs(now, std::time::Duration::from_secs(3600), day);
        assert_eq!(c.payloads, now - 3_600_000);
        assert_eq!(c.delivery_ids, 70 * DAY);
        assert_eq!(c.alerts, 99 * DAY);
    }

    #[test]
    fn failures_anywhere_and_the_last_environments_health_ring_the_on_call() {
        let prod = Env::parse("prod").unwrap();
        let staging = Env::parse("staging").unwrap();
        let last = Some(&prod);
        for (kinds, env, rings) in [
            (&[AlertKind::Failure][..], Some(&staging), true),
            (&[AlertKind::Failure], None, true),
            (
                &[AlertKind::Rollback, AlertKind::Failure],
                Some(&prod),
                true,
            ),
            (&[AlertKind::Health], Some(&prod), true),
            (&[AlertKind::Health], Some(&staging), false),
            (&[AlertKind::Health], None, false),
            (&[AlertKind::Rollback], Some(&prod), false),
            (&[AlertKind::Deployment], Some(&prod), false),
            (&[AlertKind::Release], None, false),
            (&[AlertKind::Approval], Some(&prod), false),
        ] {
            assert_eq!(rings_on_call(kinds, env, last), rings, "{kinds:?} {env:?}");
        }
        assert!(!rings_on_call(&[AlertKind::Health], Some(&prod), None));
    }

    const CHAT: ChatId = ChatId(-100);
    const USER: UserId = UserId(7);

    fn status() -> Command {
        Command::Status { env: None }
    }

    #[test]
    fn help_and_whoami_answer_anyone_anywhere() {
        for kind in [ChatKind::Configured, ChatKind::Private, ChatKind::Unknown] {
            for cmd in [Command::Help, Command::WhoAmI] {
                assert_eq!(access(Some(&cmd), CHAT, kind, USER, None), Access::Allowed);
            }
        }
    }

    #[test]
    fn unknown_chat_is_refused_even_for_known_users() {
        let roles = [Role::new("senior")];
        assert_eq!(
            access(Some(&status()), CHAT, ChatKind::Unknown, USER, Some(&roles)),
            Access::Refused(Refusal::ChatNotAllowed { chat: CHAT })
        );
    }

    #[test]
    fn unknown_user_is_refused_in_a_configured_chat_and_in_private() {
        for kind in [ChatKind::Configured, ChatKind::Private] {
            assert_eq!(
                access(Some(&status()), CHAT, kind, USER, None),
                Access::Refused(Refusal::UnknownUser { user: USER })
            );
        }
    }

    #[test]
    fn usage_errors_are_for_members_only() {
        assert_eq!(
            access(None, CHAT, ChatKind::Unknown, USER, None),
            Access::Refused(Refusal::ChatNotAllowed { chat: CHAT })
        );
        assert_eq!(
            access(None, CHAT, ChatKind::Configured, USER, None),
            Access::Refused(Refusal::UnknownUser { user: USER })
        );
        assert_eq!(
            access(None, CHAT, ChatKind::Configured, USER, Some(&[])),
            Access::Allowed
        );
    }

    #[test]
    fn known_user_may_ask_status_in_configured_and_private_chats() {
        let roles: [Role; 0] = [];
        for kind in [ChatKind::Configured, ChatKind::Private] {
            let cmd = Command::Status {
                env: Some(Env::parse("prod").unwrap()),
            };
            assert_eq!(
                access(Some(&cmd), CHAT, kind, USER, Some(&roles)),
                Access::Allowed
            );
        }
    }

    fn prod_policy() -> EnvPolicy {
        EnvPolicy {
            requesters: vec![Role::new("developer")],
            approvers: vec![Role::new("senior")],
            approvals: 1,
            four_eyes: true,
            requires_verified_in: None,
        }
    }

    #[test]
    fn a_prompt_reaches_an_approver_in_a_group_or_an_approvers_private_chat() {
        let senior = [Role::new("senior")];
        let dev = [Role::new("developer")];
        let (alice, bob) = (UserId(1), UserId(2));
        let roles_of = |u: UserId| match u.0 {
            1 => Some(&dev[..]),
            2 => Some(&senior[..]),
            _ => None,
        };
        let policy = prod_policy();
        let reaches = |chats: &[(i64, ChatKind)], requester| {
            let chats: Vec<(ChatId, ChatKind)> =
                chats.iter().map(|(c, k)| (ChatId(*c), *k)).collect();
            prompt_reaches_approver(&chats, requester, &policy, roles_of)
        };
        use ChatKind::{Configured, Private, Unknown};
        // Alice's private chat alone: she may not approve.
        assert!(!reaches(&[(1, Private)], alice));
        // Bob's own request in his private chat: four eyes.
        assert!(!reaches(&[(2, Private)], bob));
        // A private chat of an approver does.
        assert!(reaches(&[(2, Private)], alice));
        // A configured chat does, whatever its id.
        assert!(reaches(&[(1, Private), (-100, Configured)], alice));
        assert!(reaches(&[(501, Configured)], alice));
        // A chat nobody configured does not; nor does no chat.
        assert!(!reaches(&[(-100, Unknown)], alice));
        assert!(!reaches(&[], alice));
        let no_four_eyes = EnvPolicy {
            four_eyes: false,
            ..prod_policy()
        };
        assert!(prompt_reaches_approver(
            &[(ChatId(2), Private)],
            bob,
            &no_four_eyes,
            roles_of
        ));
    }

    #[test]
    fn a_run_names_a_release_anywhere_and_any_tag_where_the_env_deploys_itself() {
        use super::run_version;
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(run_version("v1.3.0", false), some("1.3.0"));
        assert_eq!(run_version("1.3.0", true), some("1.3.0"));
        assert_eq!(run_version("main-1a2b3c4", false), None);
        assert_eq!(run_version("main-1a2b3c4", true), some("main-1a2b3c4"));
        assert_eq!(
            run_version("1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b", true),
            some("1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b")
        );
        for bad in ["", "-x", ".x", "a b", "a/b", "a:b", "<b>", &"x".repeat(129)] {
            assert_eq!(run_version(bad, true), None, "{bad:?}");
        }
    }
}
