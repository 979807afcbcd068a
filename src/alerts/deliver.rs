//! Delivery from the outbox: due alerts are sent, each chat's in order and
//! the chats side by side; a failure is retried with exponential backoff
//! (Telegram's `retry_after` wins) until the retry budget is spent, then the
//! alert is kept as failed, visible in `/status` and `/metrics`.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::adapters::telegram::{self, Keyboard, Pacer, SendError, TgBot};
use crate::config::AlertsConfig;
use crate::domain::{AlertKey, ChatId};
use crate::metrics::Metrics;
use crate::service::Button;
use crate::store::{OutboxRow, Store, now_ms};

/// When to try again.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl From<&AlertsConfig> for RetryPolicy {
    fn from(c: &AlertsConfig) -> Self {
        Self {
            max_attempts: c.max_attempts,
            backoff: c.backoff,
            max_backoff: c.max_backoff,
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempt`-th failed attempt (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
        self.backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

/// The outbox worker.
#[derive(Clone)]
pub struct Deliverer {
    pub store: Store,
    pub bot: TgBot,
    /// Telegram's limits, shared with the answers to commands.
    pub pacer: Pacer,
    pub metrics: Arc<Metrics>,
    pub policy: RetryPolicy,
    /// Rung whenever alerts are enqueued.
    pub wakeup: Arc<Notify>,
    /// Who takes alerts for sending (the leader lease's holder name).
    pub holder: String,
}

/// The longest the worker sleeps without looking at the outbox: alerts
/// another instance enqueued (its wake-up does not reach this one) wait
/// no longer than this.
const IDLE_POLL: Duration = Duration::from_secs(1);
const BATCH: i64 = 100;
/// How many of a chat's due alerts its sender takes at a time (it comes
/// back for more; a storm in one chat fills no batch).
const PER_CHAT: i64 = 10;
/// How long a send may take before another attempt may start (longer than
/// the Telegram client's own timeout and teloxide's 10 s pause after a 5xx).
const LEASE: Duration = Duration::from_secs(60);
/// How long an edit waits before looking again for its original to be out.
const EDIT_WAIT: Duration = Duration::from_secs(1);

impl Deliverer {
    /// Runs until `stop` fires. Each chat with alerts due gets a sender of
    /// its own, in order within the chat: a chat held back by its rate
    /// limit (20 a minute in a group) never holds back the others.
    pub async fn run(self, stop: CancellationToken) {
        let mut busy: HashSet<i64> = HashSet::new();
        let mut senders: JoinSet<i64> = JoinSet::new();
        loop {
            // Busy or not, a stop is heard between rounds.
            if stop.is_cancelled() {
                break;
            }
            while let Some(done) = senders.try_join_next() {
                if let Ok(chat) = done {
                    busy.remove(&chat);
                }
            }
            let (started, waiting) = match self.start_due(&mut busy, &mut senders, &stop).await {
                Ok(counts) => counts,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox: cannot read the store");
                    (0, 0)
                }
            };
            if started > 0 {
                continue;
            }
            // Due alerts whose chats are being served wait for their sender.
            let wait = match self.store.next_alert_due().await {
                Ok(Some(_)) if waiting > 0 => IDLE_POLL,
                Ok(Some(due)) => {
                    Duration::from_millis((due - now_ms()).clamp(0, 30_000) as u64).min(IDLE_POLL)
                }
                _ => IDLE_POLL,
            };
            tokio::select! {
                () = stop.cancelled() => break,
                () = self.wakeup.notified() => {}
                Some(done) = senders.join_next(), if !senders.is_empty() => {
                    if let Ok(chat) = done {
                        busy.remove(&chat);
                    }
                }
                () = tokio::time::sleep(wait.max(Duration::from_millis(10))) => {}
            }
        }
        // What is being sent finishes (each sender stops between alerts).
        while senders.join_next().await.is_some() {}
    }

    /// Starts a sender for each chat with alerts due and none running;
    /// returns how many started, and how many chats with alerts due
    /// already had one.
    async fn start_due(
        &self,
        busy: &mut HashSet<i64>,
        senders: &mut JoinSet<i64>,
        stop: &CancellationToken,
    ) -> Result<(usize, usize), crate::store::StoreError> {
        let rows = self.store.due_alerts(BATCH, PER_CHAT).await?;
        tracing::debug!(due = rows.len(), "outbox: due alerts");
        let mut by_chat: BTreeMap<i64, Vec<OutboxRow>> = BTreeMap::new();
        for row in rows {
            by_chat.entry(row.chat_id).or_default().push(row);
        }
        let (mut started, mut waiting) = (0, 0);
        for (chat, rows) in by_chat {
            if !busy.insert(chat) {
                waiting += 1;
                continue;
            }
            let (me, stop) = (self.clone(), stop.clone());
            senders.spawn(async move {
                me.deliver_chat(rows, &stop).await;
                me.refresh_gauges().await;
                chat
            });
            started += 1;
        }
        Ok((started, waiting))
    }

    async fn deliver_chat(&self, rows: Vec<OutboxRow>, stop: &CancellationToken) {
        let mut rows = VecDeque::from(rows);
        while let Some(mut row) = rows.pop_front() {
            // The chat's turn first: a lease is held only while sending,
            // never while waiting out a group's minute.
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.pacer.until_free(row.chat_id, if row.edit_of.is_some() {
                    telegram::Message::Edit
                } else {
                    telegram::Message::New
                }) => {}
            }
            // A prompt or Confirm button enqueued while this chat's
            // backlog waited takes the turn (see `Store::due_alerts`).
            if row.edit_of.is_none()
                && !row.jumps_queue()
                && let Ok(Some(first)) = self.store.due_approval_in(row.chat_id).await
            {
                rows.retain(|r| r.id != first.id);
                rows.push_front(std::mem::replace(&mut row, first));
            }
            // A row whose outcome cannot be recorded stays leased, not due:
            // it is retried after the lease, never in a tight loop.
            match self
                .store
                .lease_alert(row.id, LEASE.as_millis() as i64, &self.holder)
                .await
            {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(alert = row.id, error = %e, "outbox: cannot lease an alert");
                    continue;
                }
            }
            tracing::debug!(alert = row.id, chat = row.chat_id, "outbox: sending");
            let result = self.deliver(&row).await;
            tracing::debug!(alert = row.id, ok = result.is_ok(), "outbox: sent");
            if let Err(e) = self.record(&row, result).await {
                tracing::warn!(alert = row.id, error = %e, "outbox: cannot record a delivery");
            }
        }
    }

    /// Sends the row, or, for an edit, edits the message its original
    /// became; `None` when it is news a later alert carries (not sent).
    async fn deliver(&self, row: &OutboxRow) -> Result<Option<i64>, SendError> {
        let buttons: Option<Keyboard> = match row
            .buttons
            .as_deref()
            .map(serde_json::from_str::<Vec<Vec<Button>>>)
        {
            None => None,
            Some(Ok(rows)) => Some(
                rows.into_iter()
                    .map(|r| r.into_iter().map(|b| (b.text, b.data)).collect())
                    .collect(),
            ),
            Some(Err(e)) => {
                return Err(SendError::Permanent(format!(
                    "stored buttons unreadable: {e}"
                )));
            }
        };
        let Some(original) = &row.edit_of else {
            return self.send_new(row, buttons.as_ref()).await.map(Some);
        };
        match self.store.alert_state(original).await {
            Ok(Some((state, Some((chat, message_id))))) if state == "sent" => {
                // Old news never replaces newer news (an edit retried
                // after a later one went out).
                if matches!(self.store.newer_edit_sent(original, row.id).await, Ok(true)) {
                    return Ok(None);
                }
                telegram::edit_html(
                    &self.bot,
                    &self.pacer,
                    ChatId(chat),
                    message_id,
                    &row.text,
                    buttons.as_ref(),
                )
                .await?;
                Ok(Some(message_id))
            }
            // The original is on its way: wait for it, spending no attempt
            // (it is sent or given up in the end).
            Ok(Some((state, _))) if state == "pending" => Err(SendError::Waiting(EDIT_WAIT)),
            // An edit of a message that never went out (given up), or that
            // is not there at all: the news goes out as a message of its
            // own, not lost with it — only the latest news, and no
            // progress step (it is only ever an edit).
            Ok(_) => {
                let progress = AlertKey::parse(&row.dedup_key).is_some_and(|k| !k.stands_alone());
                let superseded = matches!(
                    self.store.newer_edit_exists(original, row.id).await,
                    Ok(true)
                );
                if progress || superseded {
                    return Ok(None);
                }
                self.send_new(row, buttons.as_ref()).await.map(Some)
            }
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }

    async fn send_new(
        &self,
        row: &OutboxRow,
        buttons: Option<&Keyboard>,
    ) -> Result<i64, SendError> {
        let thread = row.thread_id.and_then(|t| i32::try_from(t).ok());
        telegram::send_html(
            &self.bot,
            &self.pacer,
            ChatId(row.chat_id),
            thread,
            &row.text,
            buttons,
        )
        .await
    }

    async fn record(
        &self,
        row: &OutboxRow,
        result: Result<Option<i64>, SendError>,
    ) -> Result<(), crate::store::StoreError> {
        match result {
            Ok(Some(message_id)) => {
                self.store.alert_sent(row.id, message_id).await?;
                self.metrics.alert("delivered", 1);
            }
            Ok(None) => {
                self.store
                    .alert_skipped(row.id, "superseded by later news")
                    .await?;
            }
            Err(SendError::Waiting(wait)) => {
                self.store
                    .alert_deferred(row.id, now_ms() + wait.as_millis() as i64)
                    .await?;
            }
            Err(SendError::RetryAfter(wait)) => {
                // Refused for now, not failed: no attempt is spent.
                self.store
                    .alert_deferred(row.id, now_ms() + wait.as_millis() as i64)
                    .await?;
                self.metrics.alert("retried", 1);
            }
            Err(e) => {
                let attempt = u32::try_from(row.attempts + 1).unwrap_or(u32::MAX);
                let give_up =
                    matches!(e, SendError::Permanent(_)) || attempt >= self.policy.max_attempts;
                let next = now_ms() + self.policy.delay(attempt).as_millis() as i64;
                tracing::warn!(
                    alert = row.id,
                    chat = row.chat_id,
                    attempt,
                    give_up,
                    error = %e,
                    "outbox: delivery failed"
                );
                self.store
                    .alert_attempt_failed(row.id, &e.to_string(), next, give_up)
                    .await?;
                self.metrics
                    .alert(if give_up { "failed" } else { "retried" }, 1);
            }
        }
        Ok(())
    }

    async fn refresh_gauges(&self) {
        if let Ok(stats) = self.store.outbox_stats().await {
            self.metrics.outbox_pending.set(stats.pending);
            self.metrics.outbox_failed.set(stats.failed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            max_attempts: 10,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
        };
        let delays: Vec<u64> = (1..=6).map(|a| p.delay(a).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 10, 10]);
        assert_eq!(p.delay(u32::MAX), Duration::from_secs(10));
    }
}
