//! Changing the config without a restart: on `SIGHUP` the running bot
//! reads `bot.toml` again. A valid file is put in force at once and the
//! audit log says what changed; an invalid one is refused with the key's
//! path, and the config in force stays.
//!
//! `aletheia-bot reload` sends that `SIGHUP`. It finds the bot by its
//! pidfile (`--pidfile`, `ALETHEIA_PIDFILE`): the running bot holds a lock
//! on it, so a file a stopped bot left behind is told from a live one, and
//! two instances cannot share one. Signals need no listening port and no
//! token: only the bot's own user (or root) may send them.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::config::{Config, LiveConfig, Reloaded};
use crate::store::{AuditEntry, Store};

/// The audit log's action for a reload, done or refused.
const ACTION: &str = "config:reload";

/// Reads `path` again and puts it in force if it is valid; either way the
/// audit log says so (`by` names what asked: `SIGHUP`). Returns whether
/// the new config is in force.
pub async fn reload(path: &Path, live: &LiveConfig, store: &Store, by: &str) -> bool {
    let (outcome, detail, done) = match Config::load(path) {
        Ok(new) => {
            let reloaded = Reloaded::over(&live.load(), new);
            let summary = reloaded.summary();
            if reloaded.restart.is_empty() {
                tracing::info!(by, changes = %summary, "config reloaded");
            } else {
                tracing::warn!(
                    by,
                    changes = %summary,
                    restart = %reloaded.restart.join(", "),
                    "config reloaded; some changed keys take effect only at the next start"
                );
            }
            live.replace(reloaded.config);
            ("reloaded", summary, true)
        }
        Err(e) => {
            let error = one_line(&e.to_string());
            tracing::error!(by, error = %error, "config reload refused; the config in force stays");
            ("refused", error, false)
        }
    };
    let entry = AuditEntry {
        actor: None,
        chat: None,
        action: ACTION.to_owned(),
        outcome: outcome.to_owned(),
        operation: None,
        detail: crate::alerts::format::clip(&format!("{by}: {detail}"), 1000),
    };
    if let Err(e) = store.audit(&entry).await {
        tracing::error!(error = %e, action = ACTION, "audit log write failed");
    }
    done
}

/// A config error's lines (one per issue) as one line.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The running bot's pidfile: its process id, under a lock held as long
/// as the bot runs. Removed when the bot stops.
#[derive(Debug)]
pub struct Pidfile {
    path: PathBuf,
    // Holds the lock; closed (and so unlocked) after the file is removed.
    _file: File,
}

/// Why no pidfile was made.
#[derive(Debug, thiserror::Error)]
pub enum PidfileError {
    /// Another running bot holds it: two bots on one pidfile is a mistake.
    #[error("the pidfile {0} is held by another running bot")]
    Held(String),
    /// It could not be made (a read-only file system, a symbolic link in
    /// its place…): the bot runs without it; `SIGHUP` still reloads.
    #[error("{0:#}")]
    Unusable(anyhow::Error),
}

impl Pidfile {
    /// Writes this process's id to `path` and locks it; refused while
    /// another running bot holds it.
    pub fn create(path: &Path) -> Result<Self, PidfileError> {
        Self::make(path).map_err(|e| match e.downcast::<PidfileError>() {
            Ok(e) => e,
            Err(e) => PidfileError::Unusable(e),
        })
    }

    fn make(path: &Path) -> anyhow::Result<Self> {
        let shown = path.display();
        // Never written through a link someone put in its place.
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            anyhow::bail!("the pidfile {shown} is a symbolic link: not written");
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .with_context(|| format!("creating the pidfile {shown}"))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(PidfileError::Held(shown.to_string()).into());
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking the pidfile {shown}"));
            }
        }
        // Truncated only once held: another bot's id is never erased.
        file.set_len(0)
            .and_then(|()| writeln!(file, "{}", std::process::id()))
            .with_context(|| format!("writing the pidfile {shown}"))?;
        Ok(Self {
            path: path.to_owned(),
            _file: file,
        })
    }
}

impl Drop for Pidfile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `aletheia-bot reload`: sends `SIGHUP` to the bot holding the pidfile at
/// `path`; returns its process id.
pub fn signal_running(path: &Path) -> anyhow::Result<i32> {
    let shown = path.display();
    let mut file = File::open(path)
        .with_context(|| format!("no running bot found: cannot open the pidfile {shown}"))?;
    // Only a pidfile of this user's: another's could name any process.
    {
        use std::os::unix::fs::MetadataExt;
        let owner = file
            .metadata()
            .with_context(|| format!("reading the pidfile {shown}"))?
            .uid();
        if owner != rustix::process::geteuid().as_raw() {
            anyhow::bail!("the pidfile {shown} belongs to another user: not signalled");
        }
    }
    match file.try_lock_shared() {
        Ok(()) => anyhow::bail!(
            "no running bot holds the pidfile {shown} (it was left by a bot that stopped)"
        ),
        Err(TryLockError::WouldBlock) => {}
        Err(TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("reading the pidfile {shown}"));
        }
    }
    let mut text = String::new();
    file.read_to_string(&mut text)
        .with_context(|| format!("reading the pidfile {shown}"))?;
    let pid = text
        .trim()
        .parse::<i32>()
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .with_context(|| {
            format!("the pidfile {shown} holds no process id (is the bot starting?)")
        })?;
    // Only this program: a pid reused by another process is left alone.
    let exe = std::fs::read_link(format!("/proc/{}/exe", pid.as_raw_nonzero()));
    // (A binary replaced while it runs reads "… (deleted)".)
    let name = |p: &Path| {
        p.file_name().map(|n| {
            n.to_string_lossy()
                .trim_end_matches(" (deleted)")
                .to_owned()
        })
    };
    if let (Ok(exe), Ok(me)) = (exe, std::env::current_exe())
        && name(&exe) != name(&me)
    {
        anyhow::bail!(
            "process {} named in {shown} is not aletheia-bot: not signalled",
            pid.as_raw_nonzero()
        );
    }
    rustix::process::kill_process(pid, rustix::process::Signal::HUP)
        .with_context(|| format!("signalling the bot (process {})", pid.as_raw_nonzero()))?;
    Ok(pid.as_raw_nonzero().get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_pidfile_refuses_a_second_bot_and_a_left_one_no_signal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bot.pid");
        let held = Pidfile::create(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{}\n", std::process::id())
        );
        let second = Pidfile::create(&path).unwrap_err().to_string();
        assert!(second.contains("held by another running bot"), "{second}");
        drop(held);
        assert!(!path.exists(), "removed when the bot stops");

        // A file no bot holds (a bot killed outright) is not signalled: its
        // process id may be anyone's by now.
        std::fs::write(&path, "1\n").unwrap();
        let stale = signal_running(&path).unwrap_err().to_string();
        assert!(stale.contains("no running bot holds"), "{stale}");
    }
}
