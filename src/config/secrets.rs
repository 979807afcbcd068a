//! Secrets: read from the environment only, never from `bot.toml`, and
//! never printed (`Debug` shows `***`).

use std::fmt;

/// A secret string. Its `Debug` and `Display` never show the value.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The value, for the one call that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How the bot authenticates to GitHub.
#[derive(Debug, Clone)]
pub enum GithubAuth {
    /// `GITHUB_TOKEN`: a fine-grained or classic personal access token.
    Token(Secret),
    /// `GITHUB_APP_ID` + `GITHUB_APP_PRIVATE_KEY` (PEM): a GitHub App
    /// installed on the repository.
    App { app_id: u64, private_key: Secret },
}

impl GithubAuth {
    /// `GITHUB_TOKEN`, else the App's `GITHUB_APP_ID` and
    /// `GITHUB_APP_PRIVATE_KEY`, read through `get`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, SecretsError> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        match (
            get("GITHUB_TOKEN"),
            get("GITHUB_APP_ID"),
            get("GITHUB_APP_PRIVATE_KEY"),
        ) {
            (Some(token), _, _) => Ok(GithubAuth::Token(Secret::new(token))),
            (None, Some(id), Some(key)) => Ok(GithubAuth::App {
                app_id: id.trim().parse().map_err(|_| SecretsError::BadAppId)?,
                private_key: Secret::new(key),
            }),
            (None, Some(_), None) => Err(SecretsError::Missing("GITHUB_APP_PRIVATE_KEY")),
            _ => Err(SecretsError::NoGithubAuth),
        }
    }

    /// The GitHub credentials alone, from the process environment (what
    /// `init` needs: it never talks to Telegram).
    pub fn from_env() -> Result<Self, SecretsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

/// Every secret the bot needs.
#[derive(Debug, Clone)]
pub struct Secrets {
    /// `TELEGRAM_BOT_TOKEN`
    pub telegram_token: Secret,
    pub github: GithubAuth,
    /// `GITHUB_WEBHOOK_SECRET`
    pub webhook_secret: Secret,
    /// `TELEGRAM_WEBHOOK_SECRET`: the secret token Telegram sends with
    /// every update in webhook mode (16–256 of `A-Z a-z 0-9 _ -`: it is all
    /// that tells Telegram's updates from forged ones).
    pub telegram_webhook_secret: Option<Secret>,
    /// `METRICS_TOKEN`: when set, `/metrics` answers only a request with
    /// `Authorization: Bearer <it>`.
    pub metrics_token: Option<Secret>,
}

/// Which secret is missing or malformed.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("set either GITHUB_TOKEN or GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY")]
    NoGithubAuth,
    #[error("TELEGRAM_WEBHOOK_SECRET must be 16 to 256 of A-Z, a-z, 0-9, _ and -")]
    BadTelegramSecret,
    #[error("GITHUB_APP_ID is not a number")]
    BadAppId,
}

impl Secrets {
    /// Reads the secrets through `get` (the process environment in
    /// production; a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, SecretsError> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let telegram_token =
            get("TELEGRAM_BOT_TOKEN").ok_or(SecretsError::Missing("TELEGRAM_BOT_TOKEN"))?;
        let webhook_secret =
            get("GITHUB_WEBHOOK_SECRET").ok_or(SecretsError::Missing("GITHUB_WEBHOOK_SECRET"))?;
        let github = GithubAuth::from_lookup(get)?;
        let telegram_webhook_secret = match get("TELEGRAM_WEBHOOK_SECRET") {
            Some(s)
                if (16..=256).contains(&s.len())
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
            {
                Some(Secret::new(s))
            }
            Some(_) => return Err(SecretsError::BadTelegramSecret),
            None => None,
        };
        Ok(Self {
            telegram_token: Secret::new(telegram_token),
            github,
            webhook_secret: Secret::new(webhook_secret),
            telegram_webhook_secret,
            metrics_token: get("METRICS_TOKEN").map(Secret::new),
        })
    }

    /// Reads the secrets from the process environment.
    pub fn from_env() -> Result<Self, SecretsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let s = Secrets::from_lookup(lookup(&[
            ("TELEGRAM_BOT_TOKEN", "123:tg-secret"),
            ("GITHUB_TOKEN", "ghp_secret"),
            ("GITHUB_WEBHOOK_SECRET", "hook-secret"),
        ]))
        .unwrap();
        let shown = format!("{s:?}");
        for secret in ["tg-secret", "ghp_secret", "hook-secret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn missing_secrets_are_named() {
        let err = Secrets::from_lookup(lookup(&[("GITHUB_TOKEN", "x")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable TELEGRAM_BOT_TOKEN is not set"
        );
        let err = Secrets::from_lookup(lookup(&[
            ("TELEGRAM_BOT_TOKEN", "t"),
            ("GITHUB_WEBHOOK_SECRET", "w"),
            ("GITHUB_APP_ID", "12"),
        ]))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable GITHUB_APP_PRIVATE_KEY is not set"
        );
        let err = Secrets::from_lookup(lookup(&[
            ("TELEGRAM_BOT_TOKEN", "t"),
            ("GITHUB_WEBHOOK_SECRET", "w"),
        ]))
        .unwrap_err();
        assert!(matches!(err, SecretsError::NoGithubAuth));
    }

    #[test]
    fn github_app_credentials() {
        let s = Secrets::from_lookup(lookup(&[
            ("TELEGRAM_BOT_TOKEN", "t"),
            ("GITHUB_WEBHOOK_SECRET", "w"),
            ("GITHUB_APP_ID", "12345"),
            ("GITHUB_APP_PRIVATE_KEY", "-----BEGIN RSA PRIVATE KEY-----"),
        ]))
        .unwrap();
        assert!(matches!(s.github, GithubAuth::App { app_id: 12345, .. }));
    }
}
