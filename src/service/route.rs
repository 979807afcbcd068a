//! The two routing tables side by side: a typed command to its handler,
//! a button's typed data to its handler.

use super::guide::TapOutcome;
use super::taps::Tap;
use super::{App, Incoming, Reply};
use crate::domain::callback::unread_verb;
use crate::domain::{Callback, Command, Vote};
use crate::messages;

impl App {
    /// Runs a command someone may give: the audit outcome and the answer.
    pub(super) async fn run(&self, command: &Command, msg: &Incoming) -> (String, Option<Reply>) {
        match command {
            Command::Help => ("answered".into(), Some(Reply::new(messages::help::help()))),
            Command::WhoAmI => ("answered".into(), Some(Reply::new(self.whoami(msg)))),
            Command::Status { env } => {
                let report = self.status(env.as_ref()).await;
                let mut text = messages::status::render_status(&report);
                text.push_str(&self.mutes_line(msg.chat.0).await);
                ("answered".into(), Some(Reply::new(text)))
            }
            Command::Deploy {
                env,
                version,
                dry_run,
                override_freeze,
            } => {
                self.deploy(msg, env, version, *dry_run, override_freeze.as_deref())
                    .await
            }
            Command::Release {
                version,
                release_type,
                dry_run,
            } => self.release(msg, version, *release_type, *dry_run).await,
            Command::GuideRelease => self.guide_release(msg).await,
            Command::GuideDeploy { env } => self.guide_deploy(msg, env.as_ref()).await,
            Command::Cancel { id: None } => self.cancel_guide(msg).await,
            Command::Cancel { id: Some(id) } => self.cancel_request(msg, *id).await,
            Command::Lock {
                env,
                reason,
                duration,
            } => self.lock(msg, env, reason, *duration).await,
            Command::Unlock { env } => self.unlock(msg, env).await,
            Command::Freeze {
                scope,
                duration,
                reason,
            } => self.freeze(msg, scope, *duration, reason).await,
            Command::Unfreeze { scope } => self.unfreeze(msg, scope).await,
            Command::History { env, n } => self.history(env.as_ref(), *n).await,
            Command::Mute { target, duration } => self.mute(msg, target, *duration).await,
            Command::Unmute { target } => self.unmute(msg, target).await,
            Command::Stats { days } => self.stats(*days).await,
            Command::Diagnose { env } => self.diagnose(msg, env).await,
            Command::Secrets => self.secrets(msg).await,
            Command::Rollback {
                env,
                version,
                break_glass,
            } => {
                self.rollback(msg, env, version, break_glass.as_deref())
                    .await
            }
            Command::GuideRollback { env } => self.guide_rollback(msg, env.as_ref()).await,
        }
    }

    /// Any tap on one of the bot's buttons.
    pub async fn tap(&self, tap: &Tap) -> TapOutcome {
        let Some(callback) = Callback::parse(&tap.data) else {
            let text = messages::common::not_my_button();
            let verb = unread_verb(&tap.data);
            return self
                .refuse_tap(tap, verb, "forged", None, text)
                .await
                .into();
        };
        match callback {
            Callback::Decide { op, vote } => {
                let answer = self.vote_tap(tap, op, vote).await;
                // A used fat-finger confirmation loses its button.
                let edit = (vote == Vote::ConfirmApprove && !answer.alert).then(|| {
                    Reply::new(messages::common::approval_confirmed(
                        &self.name_of(tap.user.0),
                        &answer.text,
                    ))
                });
                TapOutcome {
                    answer,
                    edit,
                    reply: None,
                }
            }
            Callback::Qa { op, verdict } => self.qa_tap(tap, op, verdict).await.into(),
            Callback::ReleaseAnyway { op, go } => self.release_anyway_tap(tap, op, go).await.into(),
            Callback::Tick { op, item } => self.tick_tap(tap, op, item).await.into(),
            Callback::DirectRollback { op } => self.direct_rollback_tap(tap, op).await.into(),
            Callback::IncidentReport { op } => self.incident_report_tap(tap, op).await.into(),
            Callback::Alert { op, act } => self.alert_tap(tap, op, act).await,
            Callback::Health { env, act } => self.health_tap(tap, env, act).await,
            Callback::Guide { nonce, pick } => self.guide_tap(tap, nonce, pick).await,
            Callback::Gate {
                op,
                environment,
                approve,
            } => self.gate_tap(tap, op, environment, approve).await.into(),
        }
    }
}
