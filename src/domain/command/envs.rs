//! The arguments of the commands that act on environments: deploys,
//! rollbacks, locks and freezes.

use super::{Command, ParseContext, ParseError};
use super::{bad, clip, clip_reason, duration_arg, env_arg, looks_like_duration, version_arg};
use crate::domain::freeze::FreezeScope;

pub(super) fn deploy_args(
    args: &[&str],
    dry_run: bool,
    ctx: &ParseContext<'_>,
) -> Result<Command, ParseError> {
    let command = "deploy";
    let (args, override_freeze) = match args.iter().position(|a| *a == "--override-freeze") {
        Some(at) => {
            let reason = args[at + 1..].join(" ");
            if reason.trim().is_empty() {
                return Err(bad(
                    command,
                    "--override-freeze needs a reason: why this cannot wait.",
                ));
            }
            (&args[..at], Some(clip_reason(&reason)))
        }
        None => (args, None),
    };
    let guided = !dry_run && override_freeze.is_none();
    match args {
        [env, version] => Ok(Command::Deploy {
            env: env_arg(command, env, ctx)?,
            version: version_arg(command, version, true)?,
            dry_run,
            override_freeze,
        }),
        [] if guided => Ok(Command::GuideDeploy { env: None }),
        [env] if guided => Ok(Command::GuideDeploy {
            env: Some(env_arg(command, env, ctx)?),
        }),
        [] | [_] => Err(bad(command, "Say the environment and the version.")),
        _ => Err(bad(command, "Too many arguments.")),
    }
}

pub(super) fn freeze_args(args: &[&str], ctx: &ParseContext<'_>) -> Result<Command, ParseError> {
    match args {
        [] | [_] | [_, _] => Err(bad(
            "freeze",
            "Say the environment (or all), for how long, and why.",
        )),
        [scope, duration, reason @ ..] => {
            let scope = scope_arg("freeze", scope, ctx)?;
            let duration = duration_arg(duration).ok_or_else(|| {
                bad(
                    "freeze",
                    format!(
                        "{:?} is not a duration of up to 90 days (like 30m, 2h, 1day).",
                        clip(duration)
                    ),
                )
            })?;
            Ok(Command::Freeze {
                scope,
                duration,
                reason: clip_reason(&reason.join(" ")),
            })
        }
    }
}

/// `all`, or one of the configured environments.
pub(super) fn scope_arg(
    command: &'static str,
    text: &str,
    ctx: &ParseContext<'_>,
) -> Result<FreezeScope, ParseError> {
    if text.eq_ignore_ascii_case("all") {
        return Ok(FreezeScope::All);
    }
    env_arg(command, text, ctx).map(FreezeScope::Env)
}

pub(super) fn lock_args(args: &[&str], ctx: &ParseContext<'_>) -> Result<Command, ParseError> {
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

pub(super) fn rollback_args(args: &[&str], ctx: &ParseContext<'_>) -> Result<Command, ParseError> {
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
