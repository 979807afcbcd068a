//! What the bot says in answer to updates, sent beside the dispatcher
//! rather than inside its handlers: a handler decides, hands its answer
//! to its chat's queue and returns, so an answer waiting for Telegram's
//! limits (a chat's second, a group's 20 a minute, a flood-control
//! hold-off) never holds that chat's next update, nor, through teloxide's
//! full queues, anyone else's. Each chat's answers go out one after
//! another, in the order they were decided.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use crate::adapters::telegram::{self, TgBot};
use crate::domain::ChatId;

/// One answer to send (a reply, a tap's edit and reply, leaving a chat).
pub type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Answers a chat may have waiting at once; more are dropped, logged. A
/// member typing faster than Telegram lets the bot answer is the only
/// way to fill it (strangers get one answer an hour).
const QUEUE: usize = 64;

/// How long the bot waits before asking Telegram again to leave a chat
/// it has just asked to leave: the commands queued there before it left
/// still arrive, one leave is enough for them all.
const LEAVE_AGAIN_AFTER: Duration = Duration::from_secs(60);

/// The chats' answer queues; cheap to share.
pub struct Outgoing {
    bot: TgBot,
    queues: Arc<Mutex<HashMap<i64, mpsc::Sender<Job>>>>,
    /// Chats asked to leave, and when.
    left: Mutex<HashMap<i64, Instant>>,
    /// Rung when a chat's queue runs dry.
    idle: Arc<Notify>,
}

impl Outgoing {
    pub fn new(bot: TgBot) -> Self {
        Self {
            bot,
            queues: Arc::default(),
            left: Mutex::default(),
            idle: Arc::default(),
        }
    }

    /// Queues `job` behind the chat's earlier answers; a worker for the
    /// chat runs while it has any.
    pub fn push(&self, chat: i64, job: Job) {
        let mut queues = self.queues.lock().expect("outgoing lock");
        let job = match queues.get(&chat) {
            Some(tx) => match tx.try_send(job) {
                Ok(()) => return,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::warn!(chat, "too many answers waiting in this chat; one dropped");
                    return;
                }
                // (A worker gives its queue up under this lock: not seen.)
                Err(mpsc::error::TrySendError::Closed(job)) => job,
            },
            None => job,
        };
        let (tx, rx) = mpsc::channel(QUEUE);
        if tx.try_send(job).is_err() {
            return;
        }
        queues.insert(chat, tx);
        drop(queues);
        tokio::spawn(work(chat, rx, self.queues.clone(), self.idle.clone()));
    }

    /// Leaves a group once its queued answers are out; asked of Telegram
    /// at most once a minute per chat, however many commands still come
    /// from it meanwhile.
    pub fn leave(&self, chat: ChatId) {
        {
            let now = Instant::now();
            let mut left = self.left.lock().expect("outgoing lock");
            if left
                .get(&chat.0)
                .is_some_and(|at| now.duration_since(*at) < LEAVE_AGAIN_AFTER)
            {
                return;
            }
            left.retain(|_, at| now.duration_since(*at) < LEAVE_AGAIN_AFTER);
            left.insert(chat.0, now);
        }
        let bot = self.bot.clone();
        self.push(
            chat.0,
            Box::pin(async move {
                match telegram::leave_chat(&bot, chat).await {
                    Ok(()) => tracing::info!(chat = chat.0, "left a chat nobody configured"),
                    // Already gone (left before, removed meanwhile).
                    Err(e) => tracing::info!(chat = chat.0, error = %e, "leaving a chat failed"),
                }
            }),
        );
    }

    /// Waits until every queued answer is out, or `within` has passed:
    /// a stopping bot sends what it has decided before it exits.
    pub async fn drained(&self, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let idle = self.idle.notified();
            let waiting = self.queues.lock().expect("outgoing lock").len();
            if waiting == 0 {
                return;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                tracing::warn!(chats = waiting, "stopping with answers still unsent");
                return;
            }
        }
    }
}

/// Runs a chat's answers in order until its queue is empty, then gives
/// the queue up (under the lock pushers take, so nothing is pushed to a
/// queue nobody reads).
async fn work(
    chat: i64,
    mut rx: mpsc::Receiver<Job>,
    queues: Arc<Mutex<HashMap<i64, mpsc::Sender<Job>>>>,
    idle: Arc<Notify>,
) {
    loop {
        let job = match rx.try_recv() {
            Ok(job) => job,
            Err(_) => {
                let mut queues = queues.lock().expect("outgoing lock");
                match rx.try_recv() {
                    Ok(job) => job,
                    Err(_) => {
                        queues.remove(&chat);
                        drop(queues);
                        idle.notify_waiters();
                        return;
                    }
                }
            }
        };
        job.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing() -> Outgoing {
        // Nothing listens there: a leave asked in a test goes nowhere.
        let nowhere = "http://127.0.0.1:9".parse().unwrap();
        Outgoing::new(TgBot::new("1:test").set_api_url(nowhere))
    }

    /// A job that takes `ms` (a send waiting for its turn), then notes
    /// `what` and when it finished.
    fn job(log: &Arc<Mutex<Vec<(&'static str, u128)>>>, what: &'static str, ms: u64) -> Job {
        let (log, start) = (log.clone(), Instant::now());
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            log.lock()
                .unwrap()
                .push((what, start.elapsed().as_millis()));
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_chats_answers_go_in_order_and_a_slow_chat_holds_no_other() {
        let (out, log) = (outgoing(), Arc::default());
        // The stranger's chat waits 60 s for its group's minute.
        out.push(-9, job(&log, "stranger 1", 60_000));
        out.push(-9, job(&log, "stranger 2", 10));
        out.push(-1, job(&log, "team 1", 1000));
        out.push(-1, job(&log, "team 2", 0));
        out.drained(Duration::from_secs(120)).await;
        let log = log.lock().unwrap().clone();
        assert_eq!(
            log,
            [
                ("team 1", 1000),
                ("team 2", 1000),
                ("stranger 1", 60_000),
                ("stranger 2", 60_010)
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_chat_is_left_once_a_minute_at_most() {
        let out = outgoing();
        out.leave(ChatId(-9));
        out.leave(ChatId(-9));
        assert_eq!(out.left.lock().unwrap().len(), 1);
        let asked = *out.left.lock().unwrap().get(&-9).unwrap();
        tokio::time::advance(LEAVE_AGAIN_AFTER).await;
        out.leave(ChatId(-9));
        assert!(*out.left.lock().unwrap().get(&-9).unwrap() > asked);
    }

    #[tokio::test(start_paused = true)]
    async fn a_queue_dropped_by_its_worker_is_made_again() {
        let (out, log) = (outgoing(), Arc::default());
        out.push(5, job(&log, "first", 0));
        out.drained(Duration::from_secs(1)).await;
        assert!(out.queues.lock().unwrap().is_empty());
        out.push(5, job(&log, "second", 0));
        out.drained(Duration::from_secs(1)).await;
        assert_eq!(log.lock().unwrap().len(), 2);
    }
}
