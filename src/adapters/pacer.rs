//! Telegram's message limits, kept before a message leaves rather than
//! learnt from its 429s: about one message a second in any chat, 20 a
//! minute in a group, 30 a second in all (the Bot API FAQ). Each is a
//! sliding window, as Telegram counts them, so a burst to many chats goes
//! out at the full 30 a second and a group's 20 a minute are not spread
//! thin: a rate limiter of the GCRA kind (`governor`) can only hold one
//! rate, either too loose for a window or too tight for its bursts.
//!
//! Every `sendMessage` and `editMessageText` waits on the one pacer the
//! bot shares, answers and alerts alike; a wait is a sleep to the exact
//! instant the message may go, not a poll. A message counts from when it
//! was answered, not from when it left: Telegram took it somewhere in
//! between, so a request slowed on its way (a busy network, a busy
//! machine) cannot bring the next one within the same second at Telegram. An edit (an operation's message
//! moving to its next step) keeps a chat's second and the overall second
//! but is not one of a group's 20 messages a minute: Telegram's limit
//! counts messages sent, and a team following four operations would
//! otherwise see their progress a minute late.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// The limits the pacer keeps.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// One message per this in any chat.
    pub per_chat: Duration,
    /// At most this many a minute in a group (negative chat id).
    pub group_per_minute: usize,
    /// At most this many a second in all.
    pub overall_per_second: usize,
    /// Added to every window: a message booked at the window's edge may
    /// reach Telegram a little before the one it follows did.
    pub slack: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_chat: Duration::from_secs(1),
            group_per_minute: 20,
            overall_per_second: 30,
            slack: Duration::from_millis(20),
        }
    }
}

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);

/// Shared by every sender; cheap to clone.
#[derive(Clone)]
pub struct Pacer {
    limits: Limits,
    state: Arc<Mutex<State>>,
    /// Turns at the overall second, in the order senders asked (tokio's
    /// mutex is fair): without it, senders woken at the same instant race
    /// for each freed slot, and under a burst an early one can lose to
    /// newer ones for seconds on end.
    turns: Arc<tokio::sync::Mutex<()>>,
}

/// A message counted as sent. Dropped once Telegram answered it, it
/// counts from then: every window it was booked in moves to that instant
/// (or, when newer bookings pushed it out meanwhile, takes its place among
/// them again), and its chat's last message is no older than that.
#[must_use = "hold it until Telegram answered"]
pub struct Sent {
    state: Arc<Mutex<State>>,
    limits: Limits,
    chat: i64,
    /// Whether it is one of a group's messages a minute.
    in_minute: bool,
    at: Instant,
}

impl Drop for Sent {
    fn drop(&mut self) {
        let now = Instant::now();
        if now <= self.at {
            return;
        }
        let mut state = self.state.lock().expect("pacer lock");
        let State {
            overall,
            last,
            group_sends,
            ..
        } = &mut *state;
        let last = last.entry(self.chat).or_insert(now);
        *last = (*last).max(now);
        restamp(overall, self.at, now, self.limits.overall_per_second);
        if self.in_minute {
            let times = group_sends.entry(self.chat).or_default();
            restamp(times, self.at, now, self.limits.group_per_minute);
        }
    }
}

/// Moves the instant `from` of an oldest-first window of the last `keep`
/// messages to `to`; when `from` is no longer in it, `to` goes in as one
/// of the newest. The window stays in order.
fn restamp(window: &mut VecDeque<Instant>, from: Instant, to: Instant, keep: usize) {
    match window.iter().rposition(|t| *t == from) {
        Some(i) => window[i] = to,
        None => window.push_back(to),
    }
    window.make_contiguous().sort_unstable();
    while window.len() > keep.max(1) {
        window.pop_front();
    }
}

/// Why a message may not go yet, and until when.
enum Blocked {
    /// Its chat's second or its group's minute.
    Own,
    /// The overall second.
    Overall(Instant),
}

/// What goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// A new message (`sendMessage`).
    New,
    /// An edit of one (`editMessageText`).
    Edit,
}

#[derive(Default)]
struct State {
    /// When the last `overall_per_second` messages went, oldest first.
    overall: VecDeque<Instant>,
    /// Per chat: when the last message or edit went.
    last: HashMap<i64, Instant>,
    /// Per group: when its last `group_per_minute` new messages went,
    /// oldest first.
    group_sends: HashMap<i64, VecDeque<Instant>>,
    booked: u64,
}

impl Pacer {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            state: Arc::default(),
            turns: Arc::default(),
        }
    }

    /// Waits until a message to `chat` is within the limits, and counts
    /// it as sent; hold what it returns until Telegram answered.
    pub async fn ready(&self, chat: i64, what: Message) -> Sent {
        loop {
            // The chat's own limits first, outside the queue: a message
            // waiting for its chat's second holds nobody else up.
            let now = Instant::now();
            let own = self.own_earliest(&self.state.lock().expect("pacer lock"), chat, what, now);
            if own > now {
                tokio::time::sleep_until(own).await;
                continue;
            }
            // Then the overall second, in turn.
            let _turn = self.turns.lock().await;
            loop {
                let now = Instant::now();
                match self.try_book(chat, what, now) {
                    Ok(()) => {
                        return Sent {
                            state: self.state.clone(),
                            limits: self.limits,
                            chat,
                            in_minute: chat < 0 && what == Message::New,
                            at: now,
                        };
                    }
                    // Another sender took this chat's second meanwhile:
                    // give the turn up and wait for the chat again.
                    Err(Blocked::Own) => break,
                    Err(Blocked::Overall(at)) => tokio::time::sleep_until(at).await,
                }
            }
        }
    }

    /// Waits until a message to `chat` would be within the limits, without
    /// counting one: what a sender waits on before it takes work it may
    /// then hold only briefly (an alert's lease).
    pub async fn until_free(&self, chat: i64, what: Message) {
        loop {
            let now = Instant::now();
            let at = {
                let state = self.state.lock().expect("pacer lock");
                self.own_earliest(&state, chat, what, now)
                    .max(self.overall_earliest(&state, now))
            };
            if at <= now {
                return;
            }
            tokio::time::sleep_until(at).await;
        }
    }

    /// When the overall second has room, `now` at the soonest.
    fn overall_earliest(&self, state: &State, now: Instant) -> Instant {
        let l = &self.limits;
        if l.overall_per_second > 0 && state.overall.len() >= l.overall_per_second {
            let nth = state.overall[state.overall.len() - l.overall_per_second];
            return now.max(nth + SECOND + l.slack);
        }
        now
    }

    /// When `chat`'s own limits let a message go, `now` at the soonest.
    fn own_earliest(&self, state: &State, chat: i64, what: Message, now: Instant) -> Instant {
        let l = &self.limits;
        let mut earliest = now;
        if let Some(last) = state.last.get(&chat) {
            earliest = earliest.max(*last + l.per_chat + l.slack);
        }
        if what == Message::New
            && let Some(times) = state.group_sends.get(&chat)
            && l.group_per_minute > 0
            && times.len() >= l.group_per_minute
        {
            let nth = times[times.len() - l.group_per_minute];
            earliest = earliest.max(nth + MINUTE + l.slack);
        }
        earliest
    }

    /// Books a message to `chat` at `now` if the limits allow it, else
    /// says when they will.
    fn try_book(&self, chat: i64, what: Message, now: Instant) -> Result<(), Blocked> {
        let l = &self.limits;
        let mut state = self.state.lock().expect("pacer lock");
        let own = self.own_earliest(&state, chat, what, now);
        if own > now {
            return Err(Blocked::Own);
        }
        let overall = self.overall_earliest(&state, now);
        if overall > now {
            return Err(Blocked::Overall(overall));
        }
        state.overall.push_back(now);
        while state.overall.len() > l.overall_per_second.max(1) {
            state.overall.pop_front();
        }
        state.last.insert(chat, now);
        if chat < 0 && what == Message::New {
            let times = state.group_sends.entry(chat).or_default();
            times.push_back(now);
            while times.len() > l.group_per_minute.max(1) {
                times.pop_front();
            }
        }
        state.booked += 1;
        if state.booked.is_multiple_of(1024) {
            // Chats quiet for longer than any window drop out.
            let recent = |t: &Instant| now.duration_since(*t) < MINUTE + l.slack;
            state.last.retain(|_, t| recent(t));
            state
                .group_sends
                .retain(|_, times| times.back().is_some_and(recent));
        }
        Ok(())
    }

    #[cfg(test)]
    fn chats_tracked(&self) -> usize {
        let state = self.state.lock().unwrap();
        state.last.len() + state.group_sends.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pacer() -> Pacer {
        Pacer::new(Limits::default())
    }

    /// When each of `chats`' messages goes, sent in turn, in ms from start.
    async fn schedule(pacer: &Pacer, chats: &[i64]) -> Vec<u128> {
        let start = Instant::now();
        let mut at = Vec::new();
        for chat in chats {
            let _ = pacer.ready(*chat, Message::New).await;
            at.push(start.elapsed().as_millis());
        }
        at
    }

    #[tokio::test(start_paused = true)]
    async fn a_message_counts_from_when_telegram_answered_it() {
        let pacer = pacer();
        // The first message's request takes 300 ms: Telegram may have
        // taken it at any instant of those.
        let sent = pacer.ready(7, Message::New).await;
        tokio::time::advance(Duration::from_millis(300)).await;
        drop(sent);
        let answered = Instant::now();
        let _ = pacer.ready(7, Message::New).await;
        assert_eq!(answered.elapsed(), Duration::from_millis(1020));
        // The overall second and a group's minute count the same way.
        let chats: Vec<i64> = (100..130).collect();
        let start = Instant::now();
        for chat in &chats {
            let sent = pacer.ready(*chat, Message::New).await;
            if *chat == 100 {
                tokio::time::advance(Duration::from_millis(500)).await;
            }
            drop(sent);
        }
        let _ = pacer.ready(200, Message::New).await;
        assert_eq!(start.elapsed(), Duration::from_millis(1520));
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_slower_than_a_second_still_counts_from_its_answer() {
        let pacer = pacer();
        // A first message's request hangs for 3 s; a second one to the
        // same chat goes meanwhile (its booking replaces the first's).
        let slow = pacer.ready(7, Message::New).await;
        let _ = pacer.ready(7, Message::New).await;
        tokio::time::advance(Duration::from_secs(2)).await;
        drop(slow);
        let answered = Instant::now();
        let _ = pacer.ready(7, Message::New).await;
        assert_eq!(answered.elapsed(), Duration::from_millis(1020));
    }

    #[tokio::test(start_paused = true)]
    async fn one_message_a_second_in_a_chat() {
        let at = schedule(&pacer(), &[7, 7, 7]).await;
        assert_eq!(at, vec![0, 1020, 2040]);
    }

    #[tokio::test(start_paused = true)]
    async fn different_chats_do_not_wait_on_each_other() {
        let at = schedule(&pacer(), &[1, 2, 3, -4, -5]).await;
        assert_eq!(at, vec![0, 0, 0, 0, 0]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_group_gets_twenty_a_minute_then_waits_for_the_window() {
        let at = schedule(&pacer(), &[-9; 22]).await;
        // Twenty at the per-chat pace, the 21st a minute after the 1st.
        assert_eq!(at[19], 19 * 1020);
        assert_eq!(at[20], 60_020);
        assert_eq!(at[21], 61_040);
    }

    #[tokio::test(start_paused = true)]
    async fn a_private_chat_has_no_minute_limit() {
        let at = schedule(&pacer(), &[5; 25]).await;
        assert_eq!(at[24], 24 * 1020);
    }

    #[tokio::test(start_paused = true)]
    async fn thirty_a_second_in_all() {
        let chats: Vec<i64> = (1..=61).collect();
        let at = schedule(&pacer(), &chats).await;
        assert!(at[..30].iter().all(|t| *t == 0), "{at:?}");
        assert_eq!(at[30], 1020);
        assert_eq!(at[59], 1020);
        assert_eq!(at[60], 2040);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_senders_to_one_chat_take_turns() {
        let pacer = pacer();
        let start = Instant::now();
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let pacer = pacer.clone();
                tokio::spawn(async move {
                    let _ = pacer.ready(42, Message::New).await;
                    start.elapsed().as_millis()
                })
            })
            .collect();
        let mut at = Vec::new();
        for t in tasks {
            at.push(t.await.unwrap());
        }
        at.sort();
        assert_eq!(at, vec![0, 1020, 2040]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_overall_second_goes_to_senders_in_the_order_they_asked() {
        // A sender asks every 10 ms for six seconds, three times what the
        // overall second allows: each goes in its turn, none overtaken by
        // a later one (an answer queued behind a burst must not wait for
        // ever while newer messages go).
        let pacer = pacer();
        let start = Instant::now();
        let sent = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for n in 0..600i64 {
            let (pacer, sent) = (pacer.clone(), sent.clone());
            tasks.push(tokio::spawn(async move {
                let _ = pacer.ready(1000 + n, Message::New).await;
                sent.lock().unwrap().push((n, start.elapsed().as_millis()));
            }));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        let sent = sent.lock().unwrap().clone();
        let overtaken: Vec<&(i64, u128)> = sent
            .windows(2)
            .filter(|w| w[1].0 < w[0].0)
            .map(|w| &w[1])
            .collect();
        assert!(overtaken.is_empty(), "overtaken: {overtaken:?}");
        // At the full rate: the 600th goes after 19 more seconds, not later.
        let last = sent.last().unwrap().1;
        assert!((19_000..=20_500).contains(&last), "{last}");
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_for_a_free_slot_books_nothing() {
        let pacer = pacer();
        let start = Instant::now();
        let _ = pacer.ready(-3, Message::New).await;
        pacer.until_free(-3, Message::New).await;
        assert_eq!(start.elapsed().as_millis(), 1020);
        pacer.until_free(-3, Message::New).await;
        let _ = pacer.ready(-3, Message::New).await;
        assert_eq!(start.elapsed().as_millis(), 1020);
    }

    #[tokio::test(start_paused = true)]
    async fn edits_keep_the_second_but_not_a_groups_minute() {
        let pacer = pacer();
        let start = Instant::now();
        for _ in 0..20 {
            let _ = pacer.ready(-8, Message::New).await;
        }
        assert_eq!(start.elapsed().as_millis(), 19 * 1020);
        // The group's minute is spent: an edit still goes a second later.
        let _ = pacer.ready(-8, Message::Edit).await;
        assert_eq!(start.elapsed().as_millis(), 20 * 1020);
        let _ = pacer.ready(-8, Message::New).await;
        assert_eq!(start.elapsed().as_millis(), 60_020);
    }

    #[tokio::test(start_paused = true)]
    async fn quiet_chats_are_forgotten() {
        let pacer = pacer();
        for chat in 0..1000 {
            let _ = pacer.ready(-chat * 1000, Message::New).await;
        }
        tokio::time::advance(Duration::from_secs(120)).await;
        for _ in 0..24 {
            let _ = pacer.ready(-1, Message::New).await;
            let _ = pacer.ready(1, Message::New).await;
        }
        assert!(pacer.chats_tracked() <= 3, "{}", pacer.chats_tracked());
    }
}
