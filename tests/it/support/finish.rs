//! The end of every scenario, when its [`World`] goes: once the outbox
//! has gone quiet, a message the bot sent that the test never read fails
//! the test (beside [`FakeTelegram`](super::telegram::FakeTelegram)'s own
//! end-of-test check of the requests Telegram would refuse).

use std::time::Duration;

use aletheia_bot::store::Store;

use super::World;

/// How long the outbox may take to go quiet at the end.
const QUIET_WITHIN: Duration = Duration::from_secs(30);

impl World {
    /// This scenario leaves messages unread on purpose; `why` says why
    /// (a benchmark, a flood whose count is all that matters).
    #[allow(dead_code)] // benches/e2e
    pub fn skip_unread(&mut self, why: &'static str) {
        assert!(!why.is_empty(), "say why the messages may stay unread");
        self.unread_skipped = Some(why);
    }
}

/// Waits (on a runtime of its own: the test's is blocked in `drop`) until
/// no alert in the database at `url` waits to be delivered; the pending
/// ones' keys when it never happens.
fn outbox_quiet(url: String) -> Result<(), Vec<String>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let store = Store::connect(&url).await.unwrap();
        let deadline = tokio::time::Instant::now() + QUIET_WITHIN;
        loop {
            let pending: Vec<String> = store
                .all_alerts()
                .await
                .unwrap()
                .into_iter()
                .filter(|a| a.state == "pending")
                .map(|a| a.dedup_key)
                .collect();
            if pending.is_empty() {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(pending);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
}

impl Drop for World {
    fn drop(&mut self) {
        if std::thread::panicking() || self.unread_skipped.is_some() {
            return;
        }
        // Only a running bot still delivers; a killed one's pending alerts
        // never come.
        if self.bot.is_some() || self.standby.is_some() {
            let url = self
                .pg_direct
                .clone()
                .unwrap_or_else(|| self.database_url());
            let quiet = std::thread::spawn(move || outbox_quiet(url))
                .join()
                .expect("the outbox check ran");
            if let Err(pending) = quiet {
                panic!(
                    "the outbox did not go quiet within {QUIET_WITHIN:?} at the end: \
                     {pending:#?}"
                );
            }
        }
        self.tg.assert_all_read();
    }
}

#[cfg(test)]
mod tests {
    /// The check itself: the bot's answer left unread fails the scenario
    /// at its end, without a line of the test asking.
    #[tokio::test]
    #[should_panic(expected = "unread messages to chat -1001000000001")]
    async fn a_message_left_unread_fails_the_scenario() {
        // (Imports here: benches/e2e builds this module without its tests.)
        use crate::support::{ALICE, TEAM_CHAT, eventually, world_with_release};
        let world = world_with_release().await;
        world
            .tg
            .user_says(TEAM_CHAT, ALICE.id, ALICE.name, "/whoami");
        let answered = || async { !world.tg.sent_to(TEAM_CHAT).is_empty() };
        eventually(std::time::Duration::from_secs(30), "the answer", answered).await;
    }
}
