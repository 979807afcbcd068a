//! Ad-hoc freezes (`/freeze`): taken, lifted by hand, read while in
//! force; and the freeze override a deploy was asked with.

use sqlx::FromRow;

use super::audit::insert_audit;
use super::locks::{cas, take_unless_held};
use super::outbox::insert_alerts;
use super::{AuditEntry, NewAlert, Store, StoreError, now_ms, on_pool};
use crate::domain::{OperationId, UserId};

/// A freeze as stored.
#[derive(Debug, Clone, FromRow)]
pub struct FreezeRow {
    /// An environment's name, or `all`.
    pub scope: String,
    pub frozen_by: i64,
    pub reason: String,
    pub frozen_at: i64,
    pub until_at: i64,
}

/// A freeze to take.
#[derive(Debug, Clone)]
pub struct NewFreeze {
    pub scope: String,
    pub frozen_by: UserId,
    pub reason: String,
    /// How long it holds (ms).
    pub lasts_ms: i64,
}

impl Store {
    /// Freezes a scope, with the audit line and alerts, unless a freeze
    /// is in force there: then nothing changes and that one is returned.
    pub async fn freeze(
        &self,
        freeze: &NewFreeze,
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<Option<FreezeRow>, StoreError> {
        let now = now_ms();
        // A freeze whose time is up no longer holds.
        let sweep = "DELETE FROM env_freezes WHERE scope = $1 AND until_at <= $2";
        let insert = "INSERT INTO env_freezes (scope, frozen_by, reason, frozen_at, until_at) \
                      VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope) DO NOTHING";
        let held = "SELECT scope, frozen_by, reason, frozen_at, until_at FROM env_freezes WHERE scope = $1";
        let held = take_unless_held!(
            self,
            sqlx::query(sweep).bind(&freeze.scope).bind(now),
            sqlx::query(insert)
                .bind(&freeze.scope)
                .bind(freeze.frozen_by.0)
                .bind(&freeze.reason)
                .bind(now)
                .bind(now + freeze.lasts_ms),
            sqlx::query_as::<_, FreezeRow>(held).bind(&freeze.scope),
            audit,
            alerts
        );
        Ok(held)
    }

    /// Lifts a freeze still in force, if `frozen_at` still names it
    /// (compare-and-set: two unfreezes race), with the audit line and
    /// alerts. Returns whether this call lifted it.
    pub async fn unfreeze(
        &self,
        scope: &str,
        frozen_at: i64,
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<bool, StoreError> {
        let sql = "DELETE FROM env_freezes WHERE scope = $1 AND frozen_at = $2 AND until_at > $3";
        Ok(cas!(
            self,
            sqlx::query(sql).bind(scope).bind(frozen_at).bind(now_ms()),
            audit,
            alerts
        ))
    }

    /// Freezes still in force.
    pub async fn active_freezes(&self) -> Result<Vec<FreezeRow>, StoreError> {
        let sql = "SELECT scope, frozen_by, reason, frozen_at, until_at FROM env_freezes \
                   WHERE until_at > $1 ORDER BY scope";
        let rows = on_pool!(self, p => sqlx::query_as(sql).bind(now_ms()).fetch_all(p).await)?;
        Ok(rows)
    }

    /// The reason an operation's requester overrode a freeze with, if any.
    pub async fn freeze_override(&self, id: OperationId) -> Result<Option<String>, StoreError> {
        let sql = "SELECT freeze_override FROM operations WHERE id = $1";
        let row: Option<(Option<String>,)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(id.0).fetch_optional(p).await)?;
        Ok(row.and_then(|(reason,)| reason))
    }
}
