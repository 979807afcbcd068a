//! Guided `/release` and `/deploy`: a bare command asks, with buttons, for
//! what it lacks, then confirms, then runs exactly the command it spelled
//! out (with every check and audit of the typed one). The state is a
//! teloxide dialogue in the bot's database, one per chat, so a restart
//! does not lose a half-finished one; `/cancel` leaves it. Buttons carry a
//! nonce and an index (`g:{nonce}:{i}`), never the version or the env: a
//! button of a finished or replaced dialogue, or one of someone else's,
//! does nothing.

mod tap;

use serde::{Deserialize, Serialize};
use teloxide::dispatching::dialogue::Dialogue;

use super::taps::{Button, TapAnswer};
use super::{App, Incoming, Reply};
use crate::domain::{Callback, Env, GuidePick, ReleaseType, Version, bump};
use crate::messages::guide as text;
use crate::store::DialogueStorage;

/// Dialogue state of one chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guide {
    /// Who started it: only they may answer.
    pub user: i64,
    /// Names this dialogue in its buttons.
    pub nonce: u32,
    pub step: Step,
}

/// Where a dialogue stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// Choose among the next versions: (version, release type).
    ReleaseVersion {
        choices: Vec<(String, String)>,
    },
    ReleaseConfirm {
        version: String,
        release_type: String,
    },
    DeployEnv {
        envs: Vec<String>,
    },
    DeployVersion {
        env: String,
        versions: Vec<String>,
    },
    DeployConfirm {
        env: String,
        version: String,
    },
    RollbackEnv {
        envs: Vec<String>,
    },
    RollbackVersion {
        env: String,
        versions: Vec<String>,
    },
    RollbackConfirm {
        env: String,
        version: String,
    },
}

pub type GuideStorage = DialogueStorage<Guide>;
type ChatDialogue = Dialogue<Guide, GuideStorage>;

/// How many released versions a guided `/deploy` offers.
const VERSIONS_OFFERED: usize = 6;

/// What a tap on a dialogue button does: the answer, the new text and
/// buttons of the message tapped, and a message to send after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapOutcome {
    pub answer: TapAnswer,
    pub edit: Option<Reply>,
    pub reply: Option<Reply>,
}

impl From<TapAnswer> for TapOutcome {
    fn from(answer: TapAnswer) -> Self {
        Self {
            answer,
            edit: None,
            reply: None,
        }
    }
}

fn cancel_row(nonce: u32) -> Vec<Button> {
    vec![Button {
        text: text::cancel_label(),
        data: Callback::guide(nonce, GuidePick::Cancel).encode(),
    }]
}

fn choice(nonce: u32, index: usize, text: String) -> Button {
    Button {
        text,
        data: Callback::guide(nonce, GuidePick::Index(index)).encode(),
    }
}

impl App {
    fn dialogue(&self, chat: i64) -> ChatDialogue {
        Dialogue::new(self.dialogues.clone(), teloxide::types::ChatId(chat))
    }

    async fn start(&self, msg: &Incoming, step: Step) -> Result<u32, String> {
        self.start_with(msg, rand::random::<u32>(), step).await
    }

    async fn start_with(&self, msg: &Incoming, nonce: u32, step: Step) -> Result<u32, String> {
        let guide = Guide {
            user: msg.user.0,
            nonce,
            step,
        };
        self.dialogue(msg.chat.0)
            .update(guide)
            .await
            .map_err(|e| e.to_string())?;
        Ok(nonce)
    }

    /// Starts a dialogue at `step` with its message, or, with no step (there
    /// is nothing to choose), just answers.
    async fn begin(
        &self,
        msg: &Incoming,
        nonce: u32,
        step: Option<Step>,
        reply: Reply,
    ) -> (String, Option<Reply>) {
        let Some(step) = step else {
            return ("answered".into(), Some(reply));
        };
        match self.start_with(msg, nonce, step).await {
            Ok(_) => ("guided".into(), Some(reply)),
            Err(e) => self.internal_error("guide: store", &std::io::Error::other(e)),
        }
    }

    /// The environments where the sender holds one of the roles `who`
    /// names, in promotion order.
    fn envs_for(
        &self,
        msg: &Incoming,
        who: impl Fn(&crate::config::EnvironmentConfig) -> Vec<crate::domain::Role>,
    ) -> Vec<String> {
        let roles = self
            .config
            .user(msg.user)
            .map(|u| u.roles.as_slice())
            .unwrap_or(&[]);
        self.config
            .environments
            .iter()
            .filter(|(_, cfg)| crate::domain::may_ask(roles, &who(cfg)))
            .map(|(name, _)| name.as_str().to_owned())
            .collect()
    }

    /// Starts a dialogue at its first step: one button per environment.
    async fn ask_env(
        &self,
        msg: &Incoming,
        step: Step,
        envs: &[String],
        question: String,
    ) -> (String, Option<Reply>) {
        let nonce = match self.start(msg, step).await {
            Ok(nonce) => nonce,
            Err(e) => return self.internal_error("guide: store", &std::io::Error::other(e)),
        };
        let row = envs
            .iter()
            .enumerate()
            .map(|(i, env)| choice(nonce, i, env.clone()))
            .collect();
        (
            "guided".into(),
            Some(Reply::with_buttons(question, vec![row, cancel_row(nonce)])),
        )
    }

    /// A bare `/release`: the next patch, minor and major versions.
    pub(super) async fn guide_release(&self, msg: &Incoming) -> (String, Option<Reply>) {
        if let Some(refusal) = self.not_a_release_requester(msg) {
            return refusal;
        }
        let latest = match self.github.highest_release().await {
            Ok(Some(release)) => release,
            Ok(None) => {
                return ("answered".into(), Some(Reply::new(text::no_release_yet())));
            }
            Err(e) => {
                return (
                    "error:github".into(),
                    Some(Reply::new(text::latest_release_unreadable(&e.to_string()))),
                );
            }
        };
        let Ok(current) = Version::parse(&latest.tag_name, true) else {
            return (
                "answered".into(),
                Some(Reply::new(text::latest_not_a_version(&latest.tag_name))),
            );
        };
        let choices: Vec<(String, String)> =
            [ReleaseType::Patch, ReleaseType::Minor, ReleaseType::Major]
                .into_iter()
                .filter_map(|kind| {
                    Some((bump(&current, kind)?.to_string(), kind.as_str().to_owned()))
                })
                .collect();
        let step = Step::ReleaseVersion {
            choices: choices.clone(),
        };
        let nonce = match self.start(msg, step).await {
            Ok(nonce) => nonce,
            Err(e) => return self.internal_error("guide: store", &std::io::Error::other(e)),
        };
        let row = choices
            .iter()
            .enumerate()
            .map(|(i, (version, kind))| choice(nonce, i, text::release_choice_label(version, kind)))
            .collect();
        (
            "guided".into(),
            Some(Reply::with_buttons(
                text::release_question(&latest.tag_name),
                vec![row, cancel_row(nonce)],
            )),
        )
    }

    /// A bare `/deploy`: where to (unless said), then which version.
    pub(super) async fn guide_deploy(
        &self,
        msg: &Incoming,
        env: Option<&Env>,
    ) -> (String, Option<Reply>) {
        let envs = self.envs_for(msg, |cfg| cfg.deploy_policy().requesters);
        if envs.is_empty() {
            return (
                "refused:not_a_requester".into(),
                Some(Reply::new(text::may_deploy_nowhere())),
            );
        }
        match env {
            Some(env) if !envs.iter().any(|e| e == env.as_str()) => (
                "refused:not_a_requester".into(),
                Some(Reply::new(text::may_not_deploy_to(env.as_str()))),
            ),
            Some(env) => {
                let nonce = rand::random::<u32>();
                match self.version_step(env.as_str(), nonce).await {
                    Ok((step, reply)) => self.begin(msg, nonce, step, reply).await,
                    Err(reply) => ("error:github".into(), Some(reply)),
                }
            }
            None => {
                let step = Step::DeployEnv { envs: envs.clone() };
                self.ask_env(msg, step, &envs, text::deploy_where()).await
            }
        }
    }

    /// The versions a guided deploy to `env` offers: the newest published
    /// releases, and for an environment that wants QA's word first only
    /// those verified there. `None` as the step: nothing to offer.
    async fn version_step(&self, env: &str, nonce: u32) -> Result<(Option<Step>, Reply), Reply> {
        let releases = self
            .github
            .recent_releases(30)
            .await
            .map_err(|e| Reply::new(text::releases_unreadable(&e.to_string())))?;
        let prior = Env::parse(env)
            .ok()
            .and_then(|e| self.config.environments.get(&e))
            .and_then(|cfg| cfg.approval.requires_verified_in.clone());
        let mut versions = Vec::new();
        for release in releases {
            if release.prerelease && !self.config.release.allow_pre_release {
                continue;
            }
            let Ok(version) = Version::parse(&release.tag_name, true) else {
                continue;
            };
            let version = version.to_string();
            if let Some(prior) = &prior {
                match self.store.is_verified(prior, &version).await {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "guide: store");
                        continue;
                    }
                }
            }
            versions.push(version);
            if versions.len() == VERSIONS_OFFERED {
                break;
            }
        }
        if versions.is_empty() {
            let prior = prior.as_ref().map(Env::as_str);
            return Ok((None, Reply::new(text::nothing_to_deploy(env, prior))));
        }
        let mut rows: Vec<Vec<Button>> = versions
            .chunks(3)
            .enumerate()
            .map(|(r, chunk)| {
                chunk
                    .iter()
                    .enumerate()
                    .map(|(i, v)| choice(nonce, r * 3 + i, v.clone()))
                    .collect()
            })
            .collect();
        rows.push(cancel_row(nonce));
        let question = text::deploy_version_question(env, prior.as_ref().map(Env::as_str));
        Ok((
            Some(Step::DeployVersion {
                env: env.to_owned(),
                versions,
            }),
            Reply::with_buttons(question, rows),
        ))
    }

    /// A bare `/rollback`: where (unless said), then which of the versions
    /// that ran there successfully before, newest first, with when.
    pub(super) async fn guide_rollback(
        &self,
        msg: &Incoming,
        env: Option<&Env>,
    ) -> (String, Option<Reply>) {
        let envs = self.envs_for(msg, |cfg| cfg.rollback_policy().requesters);
        match env {
            Some(env) if !envs.iter().any(|x| x == env.as_str()) => (
                "refused:not_a_requester".into(),
                Some(Reply::new(text::may_not_roll_back(env.as_str()))),
            ),
            None if envs.is_empty() => (
                "refused:not_a_requester".into(),
                Some(Reply::new(text::may_roll_back_nowhere())),
            ),
            Some(env) => {
                let nonce = rand::random::<u32>();
                let (step, reply) = self.rollback_version_step(env.as_str(), nonce).await;
                self.begin(msg, nonce, step, reply).await
            }
            None => {
                let step = Step::RollbackEnv { envs: envs.clone() };
                self.ask_env(msg, step, &envs, text::rollback_where()).await
            }
        }
    }

    /// The versions a guided rollback of `env` offers: those that ran
    /// there successfully, newest first, but not the one running now.
    async fn rollback_version_step(&self, env: &str, nonce: u32) -> (Option<Step>, Reply) {
        let running = match Env::parse(env)
            .ok()
            .and_then(|e| self.config.environments.get(&e))
        {
            Some(cfg) => self
                .ecs
                .service_state(cfg.first_service())
                .await
                .ok()
                .and_then(|s| {
                    s.primary()
                        .and_then(|d| d.image.as_deref())
                        .and_then(crate::adapters::ecs::image_tag)
                        .map(str::to_owned)
                }),
            None => None,
        };
        let history = match Env::parse(env) {
            Ok(env) => self.store.succeeded_in(&env, 200).await.unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        let now = chrono::Utc::now();
        let mut seen: Vec<String> = Vec::new();
        let mut labels = Vec::new();
        for op in history {
            let is_running = running
                .as_deref()
                .is_some_and(|r| crate::adapters::ecs::tag_is_version(r, &op.version));
            // A rollback goes to a release: an automatic deploy's tag
            // (`main-1a2b3c4`) is not one to offer.
            let released = crate::domain::Version::parse(&op.version, true).is_ok();
            if is_running || !released || seen.contains(&op.version) {
                continue;
            }
            let at = crate::alerts::format::from_ms(op.updated_at);
            let ago = crate::alerts::format::ago(at, now);
            labels.push(text::rollback_choice_label(&op.version, &ago));
            seen.push(op.version);
            if seen.len() == VERSIONS_OFFERED {
                break;
            }
        }
        if seen.is_empty() {
            return (None, Reply::new(text::nothing_to_roll_back_to(env)));
        }
        let mut rows: Vec<Vec<Button>> = labels
            .into_iter()
            .enumerate()
            .map(|(i, label)| vec![choice(nonce, i, label)])
            .collect();
        rows.push(cancel_row(nonce));
        let question = text::rollback_version_question(env, running.as_deref());
        (
            Some(Step::RollbackVersion {
                env: env.to_owned(),
                versions: seen,
            }),
            Reply::with_buttons(question, rows),
        )
    }

    /// `/cancel`: leaves this chat's dialogue, if it is yours.
    pub(super) async fn cancel_guide(&self, msg: &Incoming) -> (String, Option<Reply>) {
        let dialogue = self.dialogue(msg.chat.0);
        match dialogue.get().await {
            Ok(Some(guide)) if guide.user == msg.user.0 => match dialogue.exit().await {
                Ok(()) => ("cancelled".into(), Some(Reply::new(text::left()))),
                Err(e) => self.internal_error("guide: store", &std::io::Error::other(e)),
            },
            Ok(Some(guide)) => (
                "refused:not_yours".into(),
                Some(Reply::new(text::not_yours_to_cancel(
                    &self.name_of(guide.user),
                ))),
            ),
            Ok(None) => (
                "answered".into(),
                Some(Reply::new(text::nothing_to_cancel())),
            ),
            Err(e) => self.internal_error("guide: store", &std::io::Error::other(e)),
        }
    }
}
