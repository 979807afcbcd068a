//! `/secrets` and the weekly rotation reminder (`[security]`): the ages
//! of the repository's and its environments' GitHub Actions secrets, read
//! from GitHub's listings (names and dates; never a value).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::{App, Incoming, Reply};
use crate::adapters::github::{GithubError, SecretListed};
use crate::domain::rotation::{IsoWeek, ListedSecret, SecretScope, secret_ages};
use crate::domain::{AlertKey, AlertKind};
use crate::messages::secrets as text;
use crate::store::NewAlert;

/// How often the leader looks whether this week's reminder is due.
const REMINDER_CHECK_EVERY: Duration = Duration::from_secs(600);

/// Why the secrets could not be listed.
#[derive(Debug)]
enum ListingError {
    /// GitHub answered 403: the token lacks this repository permission.
    Forbidden(&'static str),
    /// Anything else (down, timing out, bad credentials): logged.
    Unreadable(GithubError),
}

/// The secrets found, and the bot environments' GitHub environments that
/// GitHub does not have (by their GitHub name).
struct Listing {
    secrets: Vec<ListedSecret>,
    absent: Vec<String>,
}

fn failed(permission: &'static str, e: GithubError) -> ListingError {
    match e {
        GithubError::Status { status: 403, .. } => ListingError::Forbidden(permission),
        other => ListingError::Unreadable(other),
    }
}

fn scoped(scope: &SecretScope, listed: Vec<SecretListed>) -> impl Iterator<Item = ListedSecret> {
    listed.into_iter().map(move |s| ListedSecret {
        scope: scope.clone(),
        name: s.name,
        updated_at: s.updated_at,
    })
}

impl App {
    /// The repository's secrets, then each environment's.
    async fn list_secrets(&self) -> Result<Listing, ListingError> {
        let repository = self
            .github
            .repository_secrets()
            .await
            .map_err(|e| failed("Secrets", e))?;
        let mut secrets: Vec<ListedSecret> = scoped(&SecretScope::Repository, repository).collect();
        let mut absent = Vec::new();
        for (env, cfg) in &self.config.environments {
            let name = cfg.github_environment_of(env);
            match self.github.environment_secrets(name).await {
                Ok(Some(listed)) => {
                    secrets.extend(scoped(&SecretScope::Environment(env.clone()), listed))
                }
                Ok(None) => absent.push(name.to_owned()),
                Err(e) => return Err(failed("Environments", e)),
            }
        }
        Ok(Listing { secrets, absent })
    }

    fn rotate_days(&self) -> Option<u64> {
        self.config
            .security
            .rotate_every
            .map(|d| d.as_secs() / 86_400)
    }

    /// `/secrets`: every secret's age, oldest first, the overdue marked.
    pub(super) async fn secrets(&self, msg: &Incoming) -> (String, Option<Reply>) {
        let allowed = self.config.secrets_roles();
        let roles = self
            .config
            .user(msg.user)
            .map(|u| u.roles.as_slice())
            .unwrap_or_default();
        if let Err(refusal) = crate::domain::may_read_secret_ages(roles, allowed) {
            let names: Vec<&str> = refusal.roles.iter().map(|r| r.as_str()).collect();
            return (
                format!("refused:{}", refusal.code()),
                Some(Reply::new(crate::messages::incident::not_your_role(
                    "Reading the secrets' ages",
                    &names,
                ))),
            );
        }
        match self.list_secrets().await {
            Ok(listing) => {
                let ages = secret_ages(
                    &listing.secrets,
                    Utc::now(),
                    self.config.security.rotate_every,
                );
                let answer = text::secret_ages(&ages, self.rotate_days(), &listing.absent);
                ("answered".into(), Some(Reply::new(answer)))
            }
            Err(ListingError::Forbidden(permission)) => {
                tracing::warn!(permission, "secrets: GitHub refused the listing (403)");
                (
                    "error:github_forbidden".into(),
                    Some(Reply::new(text::secrets_forbidden(permission))),
                )
            }
            Err(ListingError::Unreadable(e)) => {
                tracing::warn!(error = %e, "secrets: GitHub did not list them");
                (
                    "error:github".into(),
                    Some(Reply::new(text::secrets_unreadable())),
                )
            }
        }
    }

    /// One look at the week's rotation reminder: when due and not sent
    /// yet this week, names the overdue secrets to the security chat.
    /// Returns whether this week is settled (sent, found sent, or nothing
    /// overdue); not when GitHub could not say.
    pub async fn remind_rotation(&self, now: DateTime<Utc>) -> bool {
        let security = &self.config.security;
        let (Some(every), Some(chat)) = (security.rotate_every, self.config.security_chat()) else {
            return true;
        };
        let key = AlertKey::rotation(IsoWeek::of(now)).in_chat(chat.id);
        match self.store.has_alert(&key).await {
            Ok(true) => {
                tracing::debug!(key = %key, "rotation reminder: this week's is out already");
                return true;
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %e, "rotation reminder: store unreadable");
                return false;
            }
        }
        let listing = match self.list_secrets().await {
            Ok(listing) => listing,
            Err(ListingError::Forbidden(permission)) => {
                tracing::warn!(
                    permission,
                    "rotation reminder: GitHub refused the secrets' listing (403); the token needs this permission (read)"
                );
                return false;
            }
            Err(ListingError::Unreadable(e)) => {
                tracing::warn!(error = %e, "rotation reminder: GitHub did not list the secrets");
                return false;
            }
        };
        let overdue: Vec<_> = secret_ages(&listing.secrets, now, Some(every))
            .into_iter()
            .filter(|a| a.overdue)
            .collect();
        if overdue.is_empty() {
            return true;
        }
        let message = text::rotation_reminder(&overdue, every.as_secs() / 86_400);
        let alert = NewAlert {
            thread_id: chat.thread_id,
            ..NewAlert::message(&key, AlertKind::Deployment, None, chat.id, message)
        };
        match self.store.enqueue_alerts(&[alert]).await {
            Ok(0) => {
                // Muted there (or another leader's, fenced out): looked
                // at again next time.
                tracing::debug!("rotation reminder: not taken by the outbox");
                false
            }
            Ok(_) => {
                tracing::info!(overdue = overdue.len(), "rotation reminder enqueued");
                self.outbox.notify_one();
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "rotation reminder: not stored");
                false
            }
        }
    }
}

/// The leader's rotation reminder: looks at once, then every ten
/// minutes, while `security.rotate_every` is set (a reload may set or
/// unset it). Once a week is settled it is not looked at again (the
/// outbox's key keeps it to one reminder a week across restarts and
/// instances; this spares GitHub the calls).
pub async fn rotation_loop(app: Arc<App>, stop: CancellationToken) {
    let mut settled: Option<IsoWeek> = None;
    loop {
        let app = app.current();
        let now = Utc::now();
        let week = IsoWeek::of(now);
        let security = &app.config.security;
        if security.rotate_every.is_some()
            && settled != Some(week)
            && crate::domain::rotation_reminder_due(
                now,
                security.remind_weekday,
                security.remind_hour,
            )
            && app.remind_rotation(now).await
        {
            settled = Some(week);
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(REMINDER_CHECK_EVERY) => {}
        }
    }
}
