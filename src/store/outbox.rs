//! The alert outbox: alerts are written in the same transaction as the
//! state change that caused them, then delivered (and retried) from here.

use sqlx::FromRow;

use super::fence::fenced_write;
use super::{Store, StoreError, now_ms, on_pool};
use crate::domain::{AlertKey, AlertKind, ChatId, EditStep, Env, OperationId};

/// An alert to deliver to one chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    /// Unique per event and chat: the same event enqueued twice (a webhook
    /// delivered again, a restart half-way) yields one message.
    pub dedup_key: String,
    pub kind: AlertKind,
    pub env: Option<Env>,
    pub chat: ChatId,
    pub thread_id: Option<i32>,
    /// Telegram HTML.
    pub text: String,
    /// Inline keyboard as JSON (`[[{"text": …, "data": …}]]`).
    pub buttons: Option<String>,
    /// Edit the message that the alert with this de-duplication key became,
    /// rather than send a new one.
    pub edit_of: Option<String>,
    /// Something went wrong (a failure, whatever kind the chat takes it
    /// as): a mute never silences it in the environment the mute spares.
    pub urgent: bool,
    /// A failure's copy whose evidence is to be gathered and edited into
    /// it (the diagnosis): marked with the alert, cleared with the edit.
    pub diagnose: bool,
}

impl NewAlert {
    /// A plain message to a chat (`dedup_key`: an [`AlertKey`], or its
    /// stored text).
    pub fn message(
        dedup_key: impl ToString,
        kind: AlertKind,
        env: Option<Env>,
        chat: ChatId,
        text: String,
    ) -> Self {
        Self {
            dedup_key: dedup_key.to_string(),
            kind,
            env,
            chat,
            thread_id: None,
            text,
            buttons: None,
            edit_of: None,
            urgent: false,
            diagnose: false,
        }
    }
}

impl NewAlert {
    /// An edit of the message the alert keyed `original` became; `step`
    /// names the edit, so each step is written (and shown) once.
    pub fn edit(
        original: &AlertKey,
        step: EditStep,
        kind: AlertKind,
        env: Option<Env>,
        chat: ChatId,
        text: String,
    ) -> Self {
        Self::message("", kind, env, chat, text).keyed(&original.edited(step))
    }

    /// The alert under `key`: an edit of the message its original became
    /// when the key is an edit's, else a message of its own.
    pub fn keyed(self, key: &AlertKey) -> Self {
        Self {
            dedup_key: key.to_string(),
            edit_of: key.original().map(|k| k.to_string()),
            ..self
        }
    }
}

/// An alert in the outbox.
#[derive(Debug, Clone, FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub dedup_key: String,
    pub kind: String,
    pub env: Option<String>,
    pub chat_id: i64,
    pub thread_id: Option<i64>,
    pub text: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub message_id: Option<i64>,
    pub buttons: Option<String>,
    pub edit_of: Option<String>,
}

impl OutboxRow {
    /// Goes before the routine alerts of its chat: a new message of the
    /// approval kind (a prompt, a Confirm button), as `due_alerts` orders.
    pub fn jumps_queue(&self) -> bool {
        self.kind == AlertKind::Approval.as_str() && self.edit_of.is_none()
    }
}

/// Counts of the outbox's alerts still in hand: waiting to go, or given up.
/// (Not the sent ones: their count grows without end and no one reads it.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    pub pending: i64,
    pub failed: i64,
}

/// Inserts alerts on any executor (pool or transaction); an alert whose
/// de-duplication key is already there is skipped.
macro_rules! insert_alerts {
    ($executor:expr, $alerts:expr) => {{
        let mut result: Result<u64, sqlx::Error> = Ok(0);
        let now = crate::store::now_ms();
        for alert in $alerts {
            let alert: &crate::store::NewAlert = alert;
            // A muted chat does not get the alert, unless it is an edit, an
            // approval prompt, or a failure of the env the mute spares.
            let mutable = alert.edit_of.is_none() && alert.kind != crate::domain::AlertKind::Approval;
            let urgent = alert.urgent
                || matches!(
                    alert.kind,
                    crate::domain::AlertKind::Failure | crate::domain::AlertKind::Health
                );
            match sqlx::query(
                "INSERT INTO alert_outbox (dedup_key, kind, env, chat_id, thread_id, text, buttons, edit_of, \
                 next_attempt_at, created_at, operation_id, diagnose_pending) \
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $12, $13 \
                 WHERE NOT ($10 AND EXISTS (SELECT 1 FROM mutes m WHERE m.chat_id = $4 AND m.until > $9 \
                   AND (m.target = $2 OR m.target = $3) \
                   AND NOT ($11 AND $3 IS NOT NULL AND m.spare_env IS NOT NULL AND $3 = m.spare_env))) \
                 ON CONFLICT (dedup_key) DO NOTHING",
            )
            .bind(&alert.dedup_key)
            .bind(alert.kind.as_str())
            .bind(alert.env.as_ref().map(|e| e.as_str().to_owned()))
            .bind(alert.chat.0)
            .bind(alert.thread_id.map(i64::from))
            .bind(&alert.text)
            .bind(&alert.buttons)
            .bind(&alert.edit_of)
            .bind(now)
            .bind(mutable)
            .bind(urgent)
            .bind(crate::domain::AlertKey::operation_in(&alert.dedup_key).map(|op| op.0))
            .bind(i64::from(alert.diagnose))
            .execute(&mut *$executor)
            .await
            {
                Ok(done) => {
                    if let Ok(n) = &mut result {
                        *n += done.rows_affected();
                    }
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        result
    }};
}
pub(crate) use insert_alerts;

macro_rules! select_outbox {
    ($rest:literal) => {
        concat!(
            "SELECT id, dedup_key, kind, env, chat_id, thread_id, text, state, attempts, \
             next_attempt_at, last_error, message_id, buttons, edit_of FROM alert_outbox ",
            $rest
        )
    };
}
pub(crate) use select_outbox;

impl Store {
    /// Puts alerts in the outbox; returns how many were new.
    pub async fn enqueue_alerts(&self, alerts: &[NewAlert]) -> Result<u64, StoreError> {
        let n = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            // The monitor's alerts are the leader's: fenced by its lease.
            if crate::store::fence::fence_holds!(self, tx) {
                let n = insert_alerts!(tx, alerts)?;
                tx.commit().await?;
                n
            } else {
                tx.rollback().await?;
                0
            }
        });
        Ok(n)
    }

    /// Pending alerts whose time has come, at most `per_chat` of each
    /// chat, every chat's oldest before any chat's second: a chat with a
    /// backlog held back by its rate limit (a storm in the team group)
    /// does not starve the others (an approval prompt in another chat),
    /// however many chats have alerts due. Within a chat, approval
    /// prompts and Confirm buttons (new messages of the approval kind) go
    /// before routine alerts: a decision waits for nobody's backlog.
    /// (Edits keep their place: one must not overtake its original.)
    pub async fn due_alerts(
        &self,
        limit: i64,
        per_chat: i64,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let sql = "SELECT id, dedup_key, kind, env, chat_id, thread_id, text, state, attempts, \
                   next_attempt_at, last_error, message_id, buttons, edit_of FROM ( \
                     SELECT *, ROW_NUMBER() OVER (PARTITION BY chat_id \
                       ORDER BY CASE WHEN kind = 'approval' AND edit_of IS NULL THEN 0 ELSE 1 END, id) AS nth \
                     FROM alert_outbox WHERE state = 'pending' AND next_attempt_at <= $1 \
                   ) due WHERE nth <= $3 ORDER BY nth, id LIMIT $2";
        let rows = on_pool!(self, p => sqlx::query_as(sql)
            .bind(now_ms())
            .bind(limit)
            .bind(per_chat)
            .fetch_all(p)
            .await)?;
        Ok(rows)
    }

    /// The chat's oldest due alert that goes before its routine ones (an
    /// approval prompt, a Confirm button), if one is due.
    pub async fn due_approval_in(&self, chat: i64) -> Result<Option<OutboxRow>, StoreError> {
        let sql = "SELECT id, dedup_key, kind, env, chat_id, thread_id, text, state, attempts, \
                   next_attempt_at, last_error, message_id, buttons, edit_of FROM alert_outbox \
                   WHERE state = 'pending' AND next_attempt_at <= $1 AND chat_id = $2 \
                   AND kind = 'approval' AND edit_of IS NULL ORDER BY id LIMIT 1";
        let row = on_pool!(self, p => sqlx::query_as(sql)
            .bind(now_ms())
            .bind(chat)
            .fetch_optional(p)
            .await)?;
        Ok(row)
    }

    /// Takes a due alert for sending: moves its next attempt `lease_ms`
    /// ahead, so no other deliverer (a second instance, the next pass)
    /// sends it meanwhile. False when someone else took it first.
    pub async fn lease_alert(
        &self,
        id: i64,
        lease_ms: i64,
        holder: &str,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let sql = "UPDATE alert_outbox SET next_attempt_at = $2, leased_by = $4 \
                   WHERE id = $1 AND state = 'pending' AND next_attempt_at <= $3";
        let taken = fenced_write!(self, p => sqlx::query(sql)
            .bind(id)
            .bind(now + lease_ms)
            .bind(now)
            .bind(holder));
        Ok(taken == 1)
    }

    /// Alerts `holder` took for sending in an earlier life (it crashed
    /// mid-send; the same host and address prove that life is over) are
    /// due again now: at least once, without waiting out the lease. What
    /// another instance holds waits for its lease: it may be sending still.
    pub async fn reclaim_leased_alerts(&self, holder: &str) -> Result<u64, StoreError> {
        let sql = "UPDATE alert_outbox SET next_attempt_at = $1, leased_by = NULL \
                   WHERE state = 'pending' AND leased_by = $2";
        let n = fenced_write!(self, p => sqlx::query(sql).bind(now_ms()).bind(holder));
        Ok(n)
    }

    /// When the next pending alert falls due, if any is pending.
    pub async fn next_alert_due(&self) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT MIN(next_attempt_at) FROM alert_outbox WHERE state = 'pending'";
        let (due,): (Option<i64>,) = on_pool!(self, p => sqlx::query_as(sql).fetch_one(p).await)?;
        Ok(due)
    }

    /// Records a delivered alert and the Telegram message it became.
    pub async fn alert_sent(&self, id: i64, message_id: i64) -> Result<(), StoreError> {
        // The first send recorded wins: a late one (a deliverer that lost
        // its lease mid-send) does not re-point the edits.
        let sql = "UPDATE alert_outbox SET state = 'sent', attempts = attempts + 1, message_id = $2, \
                   sent_at = $3, last_error = NULL, leased_by = NULL WHERE id = $1 AND state = 'pending'";
        fenced_write!(self, p => sqlx::query(sql).bind(id).bind(message_id).bind(now_ms()));
        Ok(())
    }

    /// Records a failed attempt: retried at `next_attempt_at`, or marked
    /// failed when `give_up`.
    pub async fn alert_attempt_failed(
        &self,
        id: i64,
        error: &str,
        next_attempt_at: i64,
        give_up: bool,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE alert_outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3, \
                   state = CASE WHEN $4 THEN 'failed' ELSE state END, leased_by = NULL WHERE id = $1";
        fenced_write!(self, p => sqlx::query(sql)
            .bind(id)
            .bind(error)
            .bind(next_attempt_at)
            .bind(give_up));
        Ok(())
    }

    /// Defers an alert without counting an attempt (Telegram's
    /// `retry_after`: the request was refused, not failed).
    pub async fn alert_deferred(&self, id: i64, next_attempt_at: i64) -> Result<(), StoreError> {
        let sql = "UPDATE alert_outbox SET next_attempt_at = $2, leased_by = NULL WHERE id = $1";
        fenced_write!(self, p => sqlx::query(sql).bind(id).bind(next_attempt_at));
        Ok(())
    }

    /// Whether an alert with this key was ever enqueued (sent, pending or
    /// failed): an edit of it has something to edit, sooner or later.
    pub async fn has_alert(&self, dedup_key: impl std::fmt::Display) -> Result<bool, StoreError> {
        let sql = "SELECT COUNT(*) FROM alert_outbox WHERE dedup_key = $1 AND state <> 'failed'";
        let key = dedup_key.to_string();
        let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(sql).bind(&key).fetch_one(p).await)?;
        Ok(n > 0)
    }

    /// Where the alert with this key stands: its state and, once sent,
    /// the chat and message it became. `None` when there is no such alert.
    pub async fn alert_state(
        &self,
        dedup_key: &str,
    ) -> Result<Option<(String, Option<(i64, i64)>)>, StoreError> {
        let sql = "SELECT state, chat_id, message_id FROM alert_outbox WHERE dedup_key = $1";
        let row: Option<(String, i64, Option<i64>)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(dedup_key).fetch_optional(p).await)?;
        Ok(row.map(|(state, chat, message)| (state, message.map(|m| (chat, m)))))
    }

    /// Whether a later edit of the same message than the alert `id` is
    /// there at all (sent or on its way, not given up).
    pub async fn newer_edit_exists(&self, original: &str, id: i64) -> Result<bool, StoreError> {
        let sql = "SELECT COUNT(*) FROM alert_outbox WHERE edit_of = $1 AND id > $2 AND state <> 'failed'";
        let (n,): (i64,) =
            on_pool!(self, p => sqlx::query_as(sql).bind(original).bind(id).fetch_one(p).await)?;
        Ok(n > 0)
    }

    /// Marks an alert done without sending it (news a later alert carries).
    pub async fn alert_skipped(&self, id: i64, why: &str) -> Result<(), StoreError> {
        let sql = "UPDATE alert_outbox SET state = 'sent', last_error = $2, sent_at = $3, leased_by = NULL \
                   WHERE id = $1 AND state = 'pending'";
        fenced_write!(self, p => sqlx::query(sql).bind(id).bind(why).bind(now_ms()));
        Ok(())
    }

    /// The keys of an operation's alerts.
    pub async fn alert_keys_of(&self, op: OperationId) -> Result<Vec<String>, StoreError> {
        let sql = "SELECT dedup_key FROM alert_outbox WHERE dedup_key LIKE $1";
        // (An operation's prefix carries no LIKE wildcards.)
        let pattern = format!("{}%", AlertKey::operation_prefix(op));
        let rows: Vec<(String,)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(pattern).fetch_all(p).await)?;
        Ok(rows.into_iter().map(|(k,)| k).collect())
    }

    /// Whether a later edit of the same message than the alert `id` is
    /// already out (the older edit would put old news back).
    pub async fn newer_edit_sent(&self, original: &str, id: i64) -> Result<bool, StoreError> {
        let sql =
            "SELECT COUNT(*) FROM alert_outbox WHERE edit_of = $1 AND id > $2 AND state = 'sent'";
        let (n,): (i64,) =
            on_pool!(self, p => sqlx::query_as(sql).bind(original).bind(id).fetch_one(p).await)?;
        Ok(n > 0)
    }

    /// Counts of the outbox by state.
    pub async fn outbox_stats(&self) -> Result<OutboxStats, StoreError> {
        // On the (state, next_attempt_at) index: as fast with millions sent.
        let sql = "SELECT state, COUNT(*) FROM alert_outbox \
                   WHERE state IN ('pending', 'failed') GROUP BY state";
        let rows: Vec<(String, i64)> = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?;
        let mut stats = OutboxStats::default();
        for (state, n) in rows {
            match state.as_str() {
                "pending" => stats.pending = n,
                "failed" => stats.failed = n,
                _ => {}
            }
        }
        Ok(stats)
    }

    /// Every alert, in the order enqueued (for tests and diagnostics).
    pub async fn all_alerts(&self) -> Result<Vec<OutboxRow>, StoreError> {
        let sql = select_outbox!("ORDER BY id");
        let rows = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows)
    }
}
