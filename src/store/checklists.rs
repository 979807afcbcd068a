//! Release checklists: the items a `/release` asked, stored with the
//! release in the transaction that creates it, and their ticks, each
//! written once with its audit line and the prompt's edit.

use super::audit::insert_audit;
use super::outbox::insert_alerts;
use super::{AuditEntry, NewAlert, Store, StoreError, now_ms, on_pool};
use crate::domain::{OperationId, Tick, UserId};

/// Writes a new release's checklist items, in order, in the transaction
/// `$tx` that creates operation `$id`.
macro_rules! insert_checklist {
    ($tx:ident, $id:expr, $items:expr) => {{
        let mut result: Result<(), sqlx::Error> = Ok(());
        for (position, item) in $items.iter().enumerate() {
            let item: &String = item;
            if let Err(e) = sqlx::query(
                "INSERT INTO release_checklist (operation_id, position, item) VALUES ($1, $2, $3)",
            )
            .bind($id)
            .bind(position as i64)
            .bind(item)
            .execute(&mut *$tx)
            .await
            {
                result = Err(e);
                break;
            }
        }
        result
    }};
}
pub(super) use insert_checklist;

/// Takes a release's row for the rest of the transaction while it still
/// waits for its requester (not expired by `$2`, now): ticks of one
/// release are written one after the other, and none once it moved on.
const HOLD_WAITING_RELEASE: &str = "UPDATE operations SET updated_at = updated_at \
     WHERE id = $1 AND kind = 'release' AND state = 'awaiting_approval' \
     AND (expires_at IS NULL OR expires_at > $2)";

const SELECT_ITEMS: &str = "SELECT position, item, ticked_by, ticked_at FROM release_checklist \
     WHERE operation_id = $1 ORDER BY position";

/// What became of a tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ticked {
    /// This tap ticked the item: the checklist as it is now.
    New(Vec<Tick>),
    /// The item was ticked already (nothing written): the checklist.
    Already(Vec<Tick>),
    /// The release no longer waits for ticks (answered, cancelled,
    /// expired), or has no such item: nothing written.
    Closed,
}

type ItemRow = (i64, String, Option<i64>, Option<i64>);

fn ticks(rows: Vec<ItemRow>) -> Vec<Tick> {
    rows.into_iter()
        .map(|(position, item, by, at)| Tick {
            position: usize::try_from(position).unwrap_or(usize::MAX),
            item,
            ticked_by: by.map(UserId),
            ticked_at: at,
        })
        .collect()
}

impl Store {
    /// A release's checklist, in order (empty when it asked none).
    pub async fn checklist(&self, op: OperationId) -> Result<Vec<Tick>, StoreError> {
        let rows: Vec<ItemRow> =
            on_pool!(self, p => sqlx::query_as(SELECT_ITEMS).bind(op.0).fetch_all(p).await)?;
        Ok(ticks(rows))
    }

    /// Ticks item `position` of release `op` for `by`, while the release
    /// waits for it: the tick, its audit line and the alerts `edits`
    /// makes of the checklist as it then is, in one transaction. A tick
    /// is written once; a second one changes nothing.
    pub async fn tick(
        &self,
        op: OperationId,
        position: usize,
        by: UserId,
        audit: &AuditEntry,
        edits: impl FnOnce(&[Tick]) -> Vec<NewAlert>,
    ) -> Result<Ticked, StoreError> {
        let now = now_ms();
        let position = i64::try_from(position).unwrap_or(i64::MAX);
        let ticked = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let waiting = sqlx::query(HOLD_WAITING_RELEASE)
                .bind(op.0)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            let new = waiting
                && sqlx::query(
                    "UPDATE release_checklist SET ticked_by = $3, ticked_at = $4 \
                     WHERE operation_id = $1 AND position = $2 AND ticked_by IS NULL",
                )
                .bind(op.0)
                .bind(position)
                .bind(by.0)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
            let items = if waiting {
                let rows: Vec<ItemRow> =
                    sqlx::query_as(SELECT_ITEMS).bind(op.0).fetch_all(&mut *tx).await?;
                ticks(rows)
            } else {
                Vec::new()
            };
            if new {
                insert_audit!(&mut *tx, audit)?;
                insert_alerts!(tx, &edits(&items))?;
                tx.commit().await?;
                Ticked::New(items)
            } else {
                tx.rollback().await?;
                if items.iter().any(|i| i.position as i64 == position) {
                    Ticked::Already(items)
                } else {
                    Ticked::Closed
                }
            }
        });
        Ok(ticked)
    }

    /// The text and buttons (JSON) of the alert under `key`, if there is
    /// one: a prompt whose buttons a tick relabels.
    pub async fn alert_content(
        &self,
        key: impl std::fmt::Display,
    ) -> Result<Option<(String, Option<String>)>, StoreError> {
        let sql = "SELECT text, buttons FROM alert_outbox WHERE dedup_key = $1";
        let key = key.to_string();
        let row: Option<(String, Option<String>)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(&key).fetch_optional(p).await)?;
        Ok(row)
    }

    /// The ticked items of the newest release of `version` that asked
    /// any, in order (what its "Release created" alert lists).
    pub async fn ticks_of_release(&self, version: &str) -> Result<Vec<Tick>, StoreError> {
        let sql = "SELECT c.position, c.item, c.ticked_by, c.ticked_at FROM release_checklist c \
                   WHERE c.ticked_by IS NOT NULL AND c.operation_id = ( \
                     SELECT MAX(o.id) FROM operations o \
                     WHERE o.kind = 'release' AND o.version = $1 \
                     AND EXISTS (SELECT 1 FROM release_checklist k WHERE k.operation_id = o.id)) \
                   ORDER BY c.position";
        let rows: Vec<ItemRow> =
            on_pool!(self, p => sqlx::query_as(sql).bind(version).fetch_all(p).await)?;
        Ok(ticks(rows))
    }
}
