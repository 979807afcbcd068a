//! Retention: what is pruned once old, in bounded batches (each a short
//! write of its own), and how many rows each table holds. The audit log
//! is kept whole; the Telegram update ledger is pruned beside the leases.

use super::fence::fenced_write;
use super::{Store, StoreError, on_pool};

/// Every table of the bot's, as `aletheia_table_rows` names them.
pub const TABLES: [&str; 23] = [
    "operations",
    "approvals",
    "approval_arms",
    "verifications",
    "incident_reports",
    "audit_log",
    "alert_outbox",
    "webhook_deliveries",
    "telegram_updates",
    "dialogues",
    "env_locks",
    "env_health",
    "mutes",
    "leases",
    "run_discovery",
    "stranger_answers",
    "incident_acks",
    "deployment_steps",
    "health_acks",
    "auto_rollbacks",
    "env_freezes",
    "release_checklist",
    "gate_reviews",
];

impl Store {
    /// Empties the payloads of processed deliveries received before
    /// `before`, at most `limit` of them; the delivery id and its row stay,
    /// so a redelivery is still known as a duplicate. (One not processed
    /// keeps its payload: it is what went wrong.) Returns how many.
    pub async fn prune_delivery_payloads(
        &self,
        before: i64,
        limit: i64,
    ) -> Result<u64, StoreError> {
        let sql = "UPDATE webhook_deliveries SET payload = '' WHERE delivery_id IN ( \
                     SELECT delivery_id FROM webhook_deliveries \
                     WHERE payload <> '' AND received_at < $1 AND processed_at IS NOT NULL \
                     ORDER BY received_at LIMIT $2)";
        let n = fenced_write!(self, p => sqlx::query(sql).bind(before).bind(limit));
        Ok(n)
    }

    /// Forgets deliveries received before `before` (long past GitHub's
    /// redelivery window), at most `limit` of them. Returns how many.
    pub async fn forget_deliveries(&self, before: i64, limit: i64) -> Result<u64, StoreError> {
        let sql = "DELETE FROM webhook_deliveries WHERE delivery_id IN ( \
                     SELECT delivery_id FROM webhook_deliveries WHERE received_at < $1 \
                     ORDER BY received_at LIMIT $2)";
        let n = fenced_write!(self, p => sqlx::query(sql).bind(before).bind(limit));
        Ok(n)
    }

    /// Deletes sent alerts enqueued and sent before `before`, at most
    /// `limit` of them, but none that may still be read:
    /// - none of a message still being edited: its original and every
    ///   edit of it stay while one of them is pending or recent (an edit
    ///   finds the message it edits by the original's row, and "old news
    ///   never replaces new" by the later edits');
    /// - none of an operation that is live, or ended after `before`, or
    ///   that has an alert pending or recent (its story keys tell which
    ///   chats hold its message; its keys de-duplicate its steps).
    ///
    /// Failed alerts stay: they are counted, and what went wrong.
    /// Returns how many were deleted.
    pub async fn prune_sent_alerts(&self, before: i64, limit: i64) -> Result<u64, StoreError> {
        let sql = "DELETE FROM alert_outbox WHERE id IN ( \
                     SELECT a.id FROM alert_outbox a \
                     WHERE a.state = 'sent' AND a.created_at < $1 AND COALESCE(a.sent_at, a.created_at) < $1 \
                       AND NOT EXISTS (SELECT 1 FROM alert_outbox t \
                         WHERE (t.dedup_key = COALESCE(a.edit_of, a.dedup_key) \
                                OR t.edit_of = COALESCE(a.edit_of, a.dedup_key)) \
                           AND (t.state = 'pending' OR t.created_at >= $1)) \
                       AND (a.operation_id IS NULL OR ( \
                         EXISTS (SELECT 1 FROM operations o WHERE o.id = a.operation_id AND o.updated_at < $1 \
                           AND o.state IN ('succeeded', 'unhealthy', 'failed', 'rejected', 'expired', 'cancelled')) \
                         AND NOT EXISTS (SELECT 1 FROM alert_outbox b WHERE b.operation_id = a.operation_id \
                           AND (b.state = 'pending' OR b.created_at >= $1)))) \
                     ORDER BY a.created_at LIMIT $2)";
        let n = fenced_write!(self, p => sqlx::query(sql).bind(before).bind(limit));
        Ok(n)
    }

    /// How many rows each of [`TABLES`] holds, in that order.
    pub async fn table_rows(&self) -> Result<Vec<(&'static str, i64)>, StoreError> {
        let mut rows = Vec::with_capacity(TABLES.len());
        for table in TABLES {
            // (A name from the list above, never from outside.)
            let sql = format!("SELECT COUNT(*) FROM {table}");
            let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).fetch_one(p).await)?;
            rows.push((table, n));
        }
        Ok(rows)
    }
}
