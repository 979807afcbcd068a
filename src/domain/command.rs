//! The command parser: chat text in, a typed command or a refusal with the
//! usage line out. Pure: no I/O, no config beyond what it is handed.

use super::{Env, ReleaseType, Version};

/// A command the bot understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    WhoAmI,
    Status {
        env: Option<Env>,
    },
    Release {
        version: Version,
        release_type: ReleaseType,
        /// `--dry-run`: run every check, dispatch nothing.
        dry_run: bool,
    },
    Deploy {
        env: Env,
        version: Version,
        /// `--dry-run`: run every check, say who would approve, dispatch nothing.
        dry_run: bool,
    },
    Rollback {
        env: Env,
        version: Version,
        /// `--break-glass <reason>`: at once, alone, where policy allows.
        break_glass: Option<String>,
    },
    /// A bare `/rollback` (or `/rollback <env>`): asks for what is missing.
    GuideRollback {
        env: Option<Env>,
    },
    /// A bare `/release`: offers the next versions with buttons.
    GuideRelease,
    /// A bare `/deploy` (or `/deploy <env>`): asks for what is missing.
    GuideDeploy {
        env: Option<Env>,
    },
    /// `/cancel`: leaves the dialogue of this chat; `/cancel <id>`
    /// withdraws a pending request.
    Cancel {
        id: Option<super::OperationId>,
    },
    /// `/lock <env> <reason> [duration]`.
    Lock {
        env: Env,
        reason: String,
        duration: Option<std::time::Duration>,
    },
    /// `/unlock <env>`.
    Unlock {
        env: Env,
    },
    /// `/history [env] [n]`.
    History {
        env: Option<Env>,
        n: u32,
    },
    /// `/mute <kind|env> <duration>` in this chat.
    Mute {
        target: String,
        duration: std::time::Duration,
    },
    /// `/unmute <kind|env>` in this chat.
    Unmute {
        target: String,
    },
    /// `/stats [days]`: DORA's figures for prod.
    Stats {
        days: u32,
    },
    /// `/diagnose <env>`: the failure checklist, run now.
    Diagnose {
        env: Env,
    },
    /// `/secrets`: the ages of the GitHub Actions secrets.
    Secrets,
}

impl Command {
    /// The command's name, as typed after the slash.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Help => "help",
            Command::WhoAmI => "whoami",
            Command::Status { .. } => "status",
            Command::Release { .. } => "release",
            Command::Deploy { .. } => "deploy",
            Command::Rollback { .. } => "rollback",
            Command::GuideRelease => "release",
            Command::GuideDeploy { .. } => "deploy",
            Command::GuideRollback { .. } => "rollback",
            Command::Cancel { .. } => "cancel",
            Command::Lock { .. } => "lock",
            Command::Unlock { .. } => "unlock",
            Command::History { .. } => "history",
            Command::Mute { .. } => "mute",
            Command::Unmute { .. } => "unmute",
            Command::Stats { .. } => "stats",
            Command::Diagnose { .. } => "diagnose",
            Command::Secrets => "secrets",
        }
    }
}

/// One entry of the command menu and of `/help`.
pub struct CommandSpec {
    pub name: &'static str,
    pub usage: &'static str,
    pub description: &'static str,
    /// Available in this version: shown in `/help` and in Telegram's
    /// command menu (`setMyCommands`).
    pub available: bool,
}

/// Every command the parser knows, in the order `/help` lists them.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "status",
        usage: "/status [env]",
        description: "What runs where: version, tasks, rollout, release, CI",
        available: true,
    },
    CommandSpec {
        name: "release",
        usage: "/release [<version> <patch|minor|major>] [--dry-run]",
        description: "Cut a release (CI green, version new and fitting the bump)",
        available: true,
    },
    CommandSpec {
        name: "deploy",
        usage: "/deploy [<env> [<version>]] [--dry-run]",
        description: "Deploy a released version (approvals per environment)",
        available: true,
    },
    CommandSpec {
        name: "rollback",
        usage: "/rollback [<env> [<version>]] [--break-glass <reason>]",
        description: "Roll an environment back to a version that ran there",
        available: true,
    },
    CommandSpec {
        name: "cancel",
        usage: "/cancel [id]",
        description: "Withdraw a pending request, or leave a guided command",
        available: true,
    },
    CommandSpec {
        name: "lock",
        usage: "/lock <env> <reason> [duration, e.g. 2h]",
        description: "Stop deploys to an environment (rollbacks still go)",
        available: true,
    },
    CommandSpec {
        name: "unlock",
        usage: "/unlock <env>",
        description: "Lift an environment's lock",
        available: true,
    },
    CommandSpec {
        name: "mute",
        usage: "/mute <kind|env> <duration, e.g. 2h>",
        description: "Pause one alert kind or one environment here (prod failures still come)",
        available: true,
    },
    CommandSpec {
        name: "unmute",
        usage: "/unmute <kind|env>",
        description: "End a pause of alerts here",
        available: true,
    },
    CommandSpec {
        name: "diagnose",
        usage: "/diagnose <env>",
        description: "The failure checklist, now: run logs, AWS access, stopped tasks, health URL, rollback target",
        available: true,
    },
    CommandSpec {
        name: "secrets",
        usage: "/secrets",
        description: "How old each GitHub Actions secret is; the ones due for rotation",
        available: true,
    },
    CommandSpec {
        name: "stats",
        usage: "/stats [days]",
        description: "Delivery figures (DORA): deploy frequency, lead time, failure rate, restore time",
        available: true,
    },
    CommandSpec {
        name: "history",
        usage: "/history [env] [n]",
        description: "The last operations: who asked, who approved, result, duration",
        available: true,
    },
    CommandSpec {
        name: "whoami",
        usage: "/whoami",
        description: "Your Telegram id and roles",
        available: true,
    },
    CommandSpec {
        name: "help",
        usage: "/help",
        description: "The commands and how to use them",
        available: true,
    },
];

fn usage(name: &str) -> &'static str {
    COMMANDS
        .iter()
        .find(|c| c.name == name)
        .map(|c| c.usage)
        .unwrap_or("/help")
}

/// Why a command was refused before anything happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// `/frobnicate`: not a command of this bot.
    Unknown { name: String },
    /// A known command with wrong arguments.
    BadArguments {
        command: &'static str,
        reason: String,
    },
}

impl ParseError {
    /// The sentence shown to the user, with the usage line.
    pub fn message(&self) -> String {
        match self {
            ParseError::Unknown { name } => {
                format!("Unknown command /{name}. /help lists what I can do.")
            }
            ParseError::BadArguments { command, reason } => {
                format!("{reason}\nUsage: {}", usage(command))
            }
        }
    }
}

/// What the parser needs to know of its surroundings.
pub struct ParseContext<'a> {
    /// The bot's username, to accept `/status@ThisBot` and ignore
    /// `/status@OtherBot`.
    pub bot_username: Option<&'a str>,
    /// The configured environments.
    pub envs: &'a [Env],
    /// Whether pre-release versions may be released.
    pub allow_pre_release: bool,
}

/// Parses one message. `None`: not a command, or addressed to another bot.
pub fn parse(text: &str, ctx: &ParseContext<'_>) -> Option<Result<Command, ParseError>> {
    let text = text.trim();
    let rest = text.strip_prefix('/')?;
    if rest.starts_with(char::is_whitespace) {
        return None;
    }
    let mut words = rest.split_whitespace();
    let head = words.next()?;
    let (name, addressee) = match head.split_once('@') {
        Some((name, bot)) => (name, Some(bot)),
        None => (head, None),
    };
    if let (Some(addressee), Some(me)) = (addressee, ctx.bot_username)
        && !addressee.eq_ignore_ascii_case(me)
    {
        return None;
    }
    if name.is_empty() {
        return None;
    }
    let name = name.to_ascii_lowercase();
    let args: Vec<&str> = words.collect();
    Some(parse_args(&name, &args, ctx))
}

fn bad(command: &'static str, reason: impl Into<String>) -> ParseError {
    ParseError::BadArguments {
        command,
        reason: reason.into(),
    }
}

fn parse_args(name: &str, args: &[&str], ctx: &ParseContext<'_>) -> Result<Command, ParseError> {
    // `--dry-run` may follow /release and /deploy anywhere in the arguments.
    let dry_run = matches!(name, "release" | "deploy") && args.contains(&"--dry-run");
    let args: Vec<&str> = if dry_run {
        args.iter().copied().filter(|a| *a != "--dry-run").collect()
    } else {
        args.to_vec()
    };
    let args = args.as_slice();
    match name {
        "help" | "start" => no_args("help", args).map(|()| Command::Help),
        "whoami" => no_args("whoami", args).map(|()| Command::WhoAmI),
        "secrets" => no_args("secrets", args).map(|()| Command::Secrets),
        "cancel" => cancel_args(args),
        "lock" => lock_args(args, ctx),
        "mute" => match args {
            [target, duration] => match duration_arg(duration) {
                Some(duration) if duration.as_secs() <= 7 * 24 * 3600 => Ok(Command::Mute {
                    target: target.to_ascii_lowercase(),
                    duration,
                }),
                _ => Err(bad(
                    "mute",
                    format!(
                        "{:?} is not a duration of up to 7 days (like 30m, 2h, 1day).",
                        clip(duration)
                    ),
                )),
            },
            [] | [_] => Err(bad("mute", "Say what to mute and for how long.")),
            _ => Err(bad("mute", "Too many arguments.")),
        },
        "stats" => match args {
            [] => Ok(Command::Stats { days: 30 }),
            [days] => match days.trim_end_matches('d').parse::<u32>() {
                Ok(d) if (1..=365).contains(&d) => Ok(Command::Stats { days: d }),
                _ => Err(bad("stats", "Say a number of days from 1 to 365.")),
            },
            _ => Err(bad("stats", "Too many arguments.")),
        },
        "unmute" => match args {
            [target] => Ok(Command::Unmute {
                target: target.to_ascii_lowercase(),
            }),
            [] => Err(bad("unmute", "Say what to unmute.")),
            _ => Err(bad("unmute", "Too many arguments.")),
        },
        "diagnose" => match args {
            [env] => Ok(Command::Diagnose {
                env: env_arg("diagnose", env, ctx)?,
            }),
            [] => Err(bad("diagnose", "Say the environment.")),
            _ => Err(bad("diagnose", "Too many arguments.")),
        },
        "unlock" => match args {
            [env] => Ok(Command::Unlock {
                env: env_arg("unlock", env, ctx)?,
            }),
            [] => Err(bad("unlock", "Say the environment.")),
            _ => Err(bad("unlock", "Too many arguments.")),
        },
        "history" => history_args(args, ctx),
        "status" => match args {
            [] => Ok(Command::Status { env: None }),
            [env] => Ok(Command::Status {
                env: Some(env_arg("status", env, ctx)?),
            }),
            _ => Err(bad("status", "Too many arguments.")),
        },
        "release" => match args {
            [version, kind] => Ok(Command::Release {
                version: version_arg("release", version, ctx.allow_pre_release)?,
                release_type: ReleaseType::parse(&kind.to_ascii_lowercase()).ok_or_else(|| {
                    bad(
                        "release",
                        format!("{kind:?} is not a release type (patch, minor or major)."),
                    )
                })?,
                dry_run,
            }),
            [] if !dry_run => Ok(Command::GuideRelease),
            [] | [_] => Err(bad("release", "Say the version and the release type.")),
            _ => Err(bad("release", "Too many arguments.")),
        },
        "rollback" => rollback_args(args, ctx),
        "deploy" => {
            let command = "deploy";
            match args {
                [env, version] => Ok(Command::Deploy {
                    env: env_arg(command, env, ctx)?,
                    version: version_arg(command, version, true)?,
                    dry_run,
                }),
                [] if !dry_run => Ok(Command::GuideDeploy { env: None }),
                [env] if !dry_run => Ok(Command::GuideDeploy {
                    env: Some(env_arg(command, env, ctx)?),
                }),
                [] | [_] => Err(bad(command, "Say the environment and the version.")),
                _ => Err(bad(command, "Too many arguments.")),
            }
        }
        other => Err(ParseError::Unknown {
            name: other.chars().take(32).collect(),
        }),
    }
}

fn cancel_args(args: &[&str]) -> Result<Command, ParseError> {
    match args {
        [] => Ok(Command::Cancel { id: None }),
        [id] => {
            let digits = id.strip_prefix('#').unwrap_or(id);
            match digits.parse::<i64>() {
                Ok(n) if n > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => {
                    Ok(Command::Cancel {
                        id: Some(super::OperationId(n)),
                    })
                }
                _ => Err(bad(
                    "cancel",
                    format!("{:?} is not a request number (like 12 or #12).", clip(id)),
                )),
            }
        }
        _ => Err(bad("cancel", "Too many arguments.")),
    }
}

fn lock_args(args: &[&str], ctx: &ParseContext<'_>) -> Result<Command, ParseError> {
    match args {
        [] | [_] => Err(bad("lock", "Say the environment and why.")),
        [env, rest @ ..] => {
            let env = env_arg("lock", env, ctx)?;
            let (words, duration) = match rest.split_last() {
                Some((last, words)) if !words.is_empty() => match duration_arg(last) {
                    Some(d) => (words, Some(d)),
                    // A duration out of range is refused, not taken
                    // for the last word of the reason.
                    None if looks_like_duration(last) => {
                        return Err(bad(
                            "lock",
                            format!(
                                "{:?} is not a duration of up to 90 days (like 30m, 2h, 1day).",
                                clip(last)
                            ),
                        ));
                    }
                    None => (rest, None),
                },
                _ => (rest, None),
            };
            Ok(Command::Lock {
                env,
                reason: clip_reason(&words.join(" ")),
                duration,
            })
        }
    }
}

fn history_args(args: &[&str], ctx: &ParseContext<'_>) -> Result<Command, ParseError> {
    let mut env = None;
    let mut n = None;
    for arg in args {
        // Any integer is a count (to be refused when out of range),
        // never an environment's name.
        let number = arg.strip_prefix('-').unwrap_or(arg);
        let integer = !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit());
        match arg.parse::<u32>().or(if integer { Ok(0) } else { Err(()) }) {
            Ok(k) if n.is_none() && (1..=50).contains(&k) => n = Some(k),
            Ok(_) if n.is_none() => {
                return Err(bad("history", "Show between 1 and 50 operations."));
            }
            _ if env.is_none() => env = Some(env_arg("history", arg, ctx)?),
            _ => return Err(bad("history", "Too many arguments.")),
        }
    }
    Ok(Command::History {
        env,
        n: n.unwrap_or(10),
    })
}

fn rollback_args(args: &[&str], ctx: &ParseContext<'_>) -> Result<Command, ParseError> {
    let (args, break_glass) = match args.iter().position(|a| *a == "--break-glass") {
        Some(at) => {
            let reason = args[at + 1..].join(" ");
            if reason.trim().is_empty() {
                return Err(bad(
                    "rollback",
                    "--break-glass needs a reason: what is on fire.",
                ));
            }
            (&args[..at], Some(clip_reason(&reason)))
        }
        None => (args, None),
    };
    match (args, &break_glass) {
        ([env, version], _) => Ok(Command::Rollback {
            env: env_arg("rollback", env, ctx)?,
            version: version_arg("rollback", version, true)?,
            break_glass,
        }),
        ([], None) => Ok(Command::GuideRollback { env: None }),
        ([env], None) => Ok(Command::GuideRollback {
            env: Some(env_arg("rollback", env, ctx)?),
        }),
        ([] | [_], _) => Err(bad("rollback", "Say the environment and the version.")),
        _ => Err(bad("rollback", "Too many arguments.")),
    }
}

fn no_args(command: &'static str, args: &[&str]) -> Result<(), ParseError> {
    if args.is_empty() {
        Ok(())
    } else {
        Err(bad(command, format!("/{command} takes no arguments.")))
    }
}

fn env_arg(command: &'static str, text: &str, ctx: &ParseContext<'_>) -> Result<Env, ParseError> {
    let lower = text.to_ascii_lowercase();
    ctx.envs
        .iter()
        .find(|e| e.as_str() == lower)
        .cloned()
        .ok_or_else(|| {
            let known: Vec<&str> = ctx.envs.iter().map(Env::as_str).collect();
            bad(
                command,
                format!(
                    "Unknown environment {:?}. Known: {}.",
                    clip(text),
                    known.join(", ")
                ),
            )
        })
}

fn version_arg(command: &'static str, text: &str, allow_pre: bool) -> Result<Version, ParseError> {
    Version::parse(text, allow_pre).map_err(|_| {
        bad(
            command,
            format!(
                "{:?} is not a version: expected MAJOR.MINOR.PATCH, e.g. 1.2.3.",
                clip(text)
            ),
        )
    })
}

/// A lock's duration: `30m`, `2h`, `1day`. A bare number is none (it may
/// be part of the reason).
fn duration_arg(text: &str) -> Option<std::time::Duration> {
    if !text.starts_with(|c: char| c.is_ascii_digit()) || text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    humantime::parse_duration(text)
        .ok()
        .filter(|d| !d.is_zero() && d.as_secs() <= 90 * 24 * 3600)
}

/// Whether a word is meant as a duration (`91d`, `1000h`), in range or not.
fn looks_like_duration(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_digit())
        && !text.bytes().all(|b| b.is_ascii_digit())
        && humantime::parse_duration(text).is_ok()
}

/// A break-glass reason, kept to a size an alert and the audit log hold.
fn clip_reason(reason: &str) -> String {
    let reason = reason.trim();
    if reason.chars().count() > 300 {
        reason.chars().take(300).chain(['…']).collect()
    } else {
        reason.to_owned()
    }
}

/// Echoing user input back is fine; echoing a 4 KB paste is not.
fn clip(text: &str) -> String {
    if text.chars().count() > 32 {
        let mut s: String = text.chars().take(32).collect();
        s.push('…');
        s
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests;
