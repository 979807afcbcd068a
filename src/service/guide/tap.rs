//! Taps on a dialogue's buttons: each moves the dialogue one step, and
//! the last runs the command it spelled out.

use super::{ChatDialogue, Guide, Step, TapOutcome, cancel_row};
use crate::alerts::format::escape;
use crate::domain::{Callback, GuidePick, UserId};
use crate::service::taps::{Button, Tap, TapAnswer};
use crate::service::{App, Incoming, Reply};

impl App {
    /// A tap on a dialogue button: only its starter may answer, and only
    /// the dialogue's current buttons (by nonce) do anything.
    pub(in crate::service) async fn guide_tap(
        &self,
        tap: &Tap,
        nonce: u32,
        pick: GuidePick,
    ) -> TapOutcome {
        let refuse = |text: &str| -> TapOutcome {
            TapAnswer {
                text: text.to_owned(),
                alert: true,
            }
            .into()
        };
        let Some(chat) = tap.chat else {
            return refuse("This dialogue is over. Start again with /release or /deploy.");
        };
        let dialogue = self.dialogue(chat);
        let guide = match dialogue.get().await {
            Ok(Some(guide)) if guide.nonce == nonce => guide,
            Ok(_) => {
                return refuse("This dialogue is over. Start again with /release or /deploy.");
            }
            Err(e) => {
                return refuse(&self.internal_failure("guide: store", &e));
            }
        };
        if guide.user != tap.user.0 {
            let text = format!(
                "This is {}'s dialogue; start your own with /release or /deploy.",
                self.name_of(guide.user)
            );
            return self
                .refuse_tap(tap, "guide", "not_yours", None, text)
                .await
                .into();
        }
        let done = |text: &str| TapAnswer {
            text: text.to_owned(),
            alert: false,
        };
        let next = match (pick, &guide.step) {
            (GuidePick::Cancel, _) => {
                if let Err(e) = dialogue.exit().await {
                    tracing::error!(error = %e, "guide: store");
                }
                return TapOutcome {
                    answer: done("Cancelled."),
                    edit: Some(Reply::new("✖ Cancelled. Nothing was done.".into())),
                    reply: None,
                };
            }
            (GuidePick::Index(i), Step::ReleaseVersion { choices }) => match choices.get(i) {
                Some((version, kind)) => Step::ReleaseConfirm {
                    version: version.clone(),
                    release_type: kind.clone(),
                },
                None => return refuse("This button is not one of mine."),
            },
            (GuidePick::Index(i), Step::DeployEnv { envs }) => match envs.get(i) {
                Some(env) => {
                    let next = match self.version_step(env, nonce).await {
                        Ok(next) => next,
                        Err(reply) => (None, reply),
                    };
                    return self.version_choice(&dialogue, guide, next).await;
                }
                None => return refuse("This button is not one of mine."),
            },
            (GuidePick::Index(i), Step::RollbackEnv { envs }) => match envs.get(i) {
                Some(env) => {
                    let next = self.rollback_version_step(env, nonce).await;
                    return self.version_choice(&dialogue, guide, next).await;
                }
                None => return refuse("This button is not one of mine."),
            },
            (GuidePick::Index(i), Step::RollbackVersion { env, versions }) => {
                match versions.get(i) {
                    Some(version) => Step::RollbackConfirm {
                        env: env.clone(),
                        version: version.clone(),
                    },
                    None => return refuse("This button is not one of mine."),
                }
            }
            (GuidePick::Index(i), Step::DeployVersion { env, versions }) => match versions.get(i) {
                Some(version) => Step::DeployConfirm {
                    env: env.clone(),
                    version: version.clone(),
                },
                None => return refuse("This button is not one of mine."),
            },
            (GuidePick::Confirm, step) => {
                return match confirmed(step, &self.name_of(tap.user.0)) {
                    Some((command, edit)) => self.finish(tap, chat, &command, edit).await,
                    None => refuse("This button is not one of mine."),
                };
            }
            _ => return refuse("This button is not one of mine."),
        };
        match confirm_reply(&next, nonce) {
            Some(reply) => self.advance_guide(&dialogue, guide, next, reply).await,
            None => refuse("This button is not one of mine."),
        }
    }

    /// After the environment: the versions to choose from, or, when there
    /// is nothing to offer, the dialogue ends saying so.
    async fn version_choice(
        &self,
        dialogue: &ChatDialogue,
        guide: Guide,
        (step, reply): (Option<Step>, Reply),
    ) -> TapOutcome {
        match step {
            Some(step) => self.advance_guide(dialogue, guide, step, reply).await,
            None => {
                let _ = dialogue.exit().await;
                TapOutcome {
                    answer: TapAnswer {
                        text: "Nothing to offer.".into(),
                        alert: false,
                    },
                    edit: Some(reply),
                    reply: None,
                }
            }
        }
    }

    async fn advance_guide(
        &self,
        dialogue: &ChatDialogue,
        guide: Guide,
        step: Step,
        reply: Reply,
    ) -> TapOutcome {
        let guide = Guide { step, ..guide };
        if let Err(e) = dialogue.update(guide).await {
            return TapAnswer {
                text: self.internal_failure("guide: store", &e),
                alert: true,
            }
            .into();
        }
        TapOutcome {
            answer: TapAnswer {
                text: String::new(),
                alert: false,
            },
            edit: Some(reply),
            reply: None,
        }
    }

    /// The last tap: the dialogue ends and its command runs as if typed.
    async fn finish(&self, tap: &Tap, chat: i64, command: &str, edit: String) -> TapOutcome {
        match self.store.end_dialogue(chat).await {
            Ok(true) => {}
            // A double tap: the first one runs the command.
            Ok(false) => {
                return TapOutcome {
                    answer: TapAnswer {
                        text: "Already done.".into(),
                        alert: false,
                    },
                    edit: None,
                    reply: None,
                };
            }
            Err(e) => {
                tracing::error!(error = %e, "guide: store");
                return TapOutcome {
                    answer: TapAnswer {
                        text: "Something went wrong on my side; nothing was done. Try again in a moment."
                            .into(),
                        alert: true,
                    },
                    edit: None,
                    reply: None,
                };
            }
        }
        let msg = Incoming {
            chat: crate::domain::ChatId(chat),
            private: chat > 0,
            user: UserId(tap.user.0),
            user_display: self.name_of(tap.user.0),
            text: command.to_owned(),
            bot_username: None,
            sent_at: chrono::Utc::now(),
        };
        let reply = self.handle_message(&msg).await;
        TapOutcome {
            answer: TapAnswer {
                text: String::new(),
                alert: false,
            },
            edit: Some(Reply::new(edit)),
            reply,
        }
    }
}

/// The command a confirmed step runs, and what its message then says.
fn confirmed(step: &Step, who: &str) -> Option<(String, String)> {
    Some(match step {
        Step::RollbackConfirm { env, version } => (
            format!("/rollback {env} {version}"),
            format!(
                "⏪ <b>Rollback {} → {}</b>: asked by {}.",
                escape(env),
                escape(version),
                escape(who)
            ),
        ),
        Step::ReleaseConfirm {
            version,
            release_type,
        } => (
            format!("/release {version} {release_type}"),
            format!(
                "📦 <b>Release {} ({})</b>: asked by {}.",
                escape(version),
                escape(release_type),
                escape(who)
            ),
        ),
        Step::DeployConfirm { env, version } => (
            format!("/deploy {env} {version}"),
            format!(
                "🚀 <b>Deploy {} → {}</b>: asked by {}.",
                escape(version),
                escape(env),
                escape(who)
            ),
        ),
        _ => return None,
    })
}

/// The confirmation step's message (`None` for a step that is none).
fn confirm_reply(step: &Step, nonce: u32) -> Option<Reply> {
    let (text, label) = match step {
        Step::ReleaseConfirm {
            version,
            release_type,
        } => (
            format!(
                "📦 <b>Release {} ({})</b>?\nThe pre-release checks run when you confirm.",
                escape(version),
                escape(release_type)
            ),
            format!("✅ Release {version}"),
        ),
        Step::DeployConfirm { env, version } => (
            format!(
                "🚀 <b>Deploy {} → {}</b>?\nThe checks run, and approval is asked for, when you confirm.",
                escape(version),
                escape(env)
            ),
            format!("✅ Deploy {version} → {env}"),
        ),
        Step::RollbackConfirm { env, version } => (
            format!(
                "⏪ <b>Rollback {} → {}</b>?\nThe checks run, and approval is asked for, when you confirm.",
                escape(env),
                escape(version)
            ),
            format!("✅ Roll {env} back to {version}"),
        ),
        _ => return None,
    };
    let confirm = Button {
        text: label,
        data: Callback::guide(nonce, GuidePick::Confirm).encode(),
    };
    let mut row = vec![confirm];
    row.extend(cancel_row(nonce));
    Some(Reply::with_buttons(text, vec![row]))
}
