//! Webhook mode of the fake Telegram: updates posted to the bot's
//! instances, as Telegram does once a webhook is set.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::FakeTelegram;

impl FakeTelegram {
    /// The webhook the bot set: (url, secret token).
    pub fn webhook(&self) -> Option<(String, String)> {
        self.inner.lock().unwrap().webhook.clone()
    }

    /// Webhook mode: once a webhook is set, updates are posted (with its
    /// secret token) to `targets` in turn, as a load balancer in front of
    /// several instances would; a target that fails or is down passes the
    /// update to the next, and one that none takes is posted again later.
    /// Returns how many updates each target took, as it goes.
    pub fn post_updates_to(&self, targets: Vec<String>) -> Arc<Mutex<Vec<u32>>> {
        let taken = Arc::new(Mutex::new(vec![0u32; targets.len()]));
        let counts = taken.clone();
        let inner = self.inner.clone();
        let changed = self.changed.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut next = 0usize;
            loop {
                let notified = changed.notified();
                let job = {
                    let mut inner = inner.lock().unwrap();
                    match &inner.webhook {
                        Some((_, secret)) if !inner.updates.is_empty() => {
                            let secret = secret.clone();
                            inner.updates.pop_front().map(|u| (u, secret))
                        }
                        _ => None,
                    }
                };
                let Some((update, secret)) = job else {
                    let _ = tokio::time::timeout(Duration::from_millis(100), notified).await;
                    continue;
                };
                let mut delivered = false;
                for _ in 0..targets.len() {
                    let i = next % targets.len();
                    next += 1;
                    let sent = client
                        .post(format!("{}/telegram/webhook", targets[i]))
                        .header("X-Telegram-Bot-Api-Secret-Token", &secret)
                        .json(&update)
                        .timeout(Duration::from_secs(5))
                        .send()
                        .await;
                    if sent.is_ok_and(|r| r.status().is_success()) {
                        counts.lock().unwrap()[i] += 1;
                        delivered = true;
                        break;
                    }
                }
                if !delivered {
                    inner.lock().unwrap().updates.push_front(update);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                changed.notify_waiters();
            }
        });
        taken
    }
}
