//! Taps on a dialogue's buttons: each moves the dialogue one step, and
//! the last runs the command it spelled out.

use super::{ChatDialogue, Guide, Step, TapOutcome, cancel_row};
use crate::domain::{Callback, GuidePick, UserId};
use crate::messages::{self, guide as text};
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
        let refuse = |text: String| -> TapOutcome { TapAnswer { text, alert: true }.into() };
        let Some(chat) = tap.chat else {
            return refuse(text::dialogue_over());
        };
        let dialogue = self.dialogue(chat);
        let guide = match dialogue.get().await {
            Ok(Some(guide)) if guide.nonce == nonce => guide,
            Ok(_) => {
                return refuse(text::dialogue_over());
            }
            Err(e) => {
                return refuse(self.internal_failure("guide: store", &e));
            }
        };
        if guide.user != tap.user.0 {
            let answer = text::not_your_dialogue(&self.name_of(guide.user));
            return self
                .refuse_tap(tap, "guide", "not_yours", None, answer)
                .await
                .into();
        }
        let done = |text: String| TapAnswer { text, alert: false };
        let next = match (pick, &guide.step) {
            (GuidePick::Cancel, _) => {
                if let Err(e) = dialogue.exit().await {
                    tracing::error!(error = %e, "guide: store");
                }
                return TapOutcome {
                    answer: done(text::cancelled_answer()),
                    edit: Some(Reply::new(text::cancelled())),
                    reply: None,
                };
            }
            (GuidePick::Index(i), Step::ReleaseVersion { choices }) => match choices.get(i) {
                Some((version, kind)) => Step::ReleaseConfirm {
                    version: version.clone(),
                    release_type: kind.clone(),
                },
                None => return refuse(messages::common::not_my_button()),
            },
            (GuidePick::Index(i), Step::DeployEnv { envs }) => match envs.get(i) {
                Some(env) => {
                    let next = match self.version_step(env, nonce).await {
                        Ok(next) => next,
                        Err(reply) => (None, reply),
                    };
                    return self.version_choice(&dialogue, guide, next).await;
                }
                None => return refuse(messages::common::not_my_button()),
            },
            (GuidePick::Index(i), Step::RollbackEnv { envs }) => match envs.get(i) {
                Some(env) => {
                    let next = self.rollback_version_step(env, nonce).await;
                    return self.version_choice(&dialogue, guide, next).await;
                }
                None => return refuse(messages::common::not_my_button()),
            },
            (GuidePick::Index(i), Step::RollbackVersion { env, versions }) => {
                match versions.get(i) {
                    Some(version) => Step::RollbackConfirm {
                        env: env.clone(),
                        version: version.clone(),
                    },
                    None => return refuse(messages::common::not_my_button()),
                }
            }
            (GuidePick::Index(i), Step::DeployVersion { env, versions }) => match versions.get(i) {
                Some(version) => Step::DeployConfirm {
                    env: env.clone(),
                    version: version.clone(),
                },
                None => return refuse(messages::common::not_my_button()),
            },
            (GuidePick::Confirm, step) => {
                return match confirmed(step, &self.name_of(tap.user.0)) {
                    Some((command, edit)) => self.finish(tap, chat, &command, edit).await,
                    None => refuse(messages::common::not_my_button()),
                };
            }
            _ => return refuse(messages::common::not_my_button()),
        };
        match confirm_reply(&next, nonce) {
            Some(reply) => self.advance_guide(&dialogue, guide, next, reply).await,
            None => refuse(messages::common::not_my_button()),
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
                        text: text::nothing_to_offer(),
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
                        text: text::already_done(),
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
                        text: text::not_done(),
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
            text::rollback_asked(env, version, who),
        ),
        Step::ReleaseConfirm {
            version,
            release_type,
        } => (
            format!("/release {version} {release_type}"),
            text::release_asked(version, release_type, who),
        ),
        Step::DeployConfirm { env, version } => (
            format!("/deploy {env} {version}"),
            text::deploy_asked(version, env, who),
        ),
        _ => return None,
    })
}

/// The confirmation step's message (`None` for a step that is none).
fn confirm_reply(step: &Step, nonce: u32) -> Option<Reply> {
    let (question, label) = match step {
        Step::ReleaseConfirm {
            version,
            release_type,
        } => (
            text::release_confirm(version, release_type),
            text::release_confirm_label(version),
        ),
        Step::DeployConfirm { env, version } => (
            text::deploy_confirm(version, env),
            text::deploy_confirm_label(version, env),
        ),
        Step::RollbackConfirm { env, version } => (
            text::rollback_confirm(env, version),
            text::rollback_confirm_label(env, version),
        ),
        _ => return None,
    };
    let confirm = Button {
        text: label,
        data: Callback::guide(nonce, GuidePick::Confirm).encode(),
    };
    let mut row = vec![confirm];
    row.extend(cancel_row(nonce));
    Some(Reply::with_buttons(question, vec![row]))
}
