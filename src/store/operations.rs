//! Operations: the typed row, reading them, creating them. Every state
//! change is a compare-and-set on the row (`transitions.rs`), made in the
//! same transaction as its audit line and alerts: two taps at once, or two
//! bot instances, get exactly one outcome.

use sqlx::{FromRow, Row};

use super::audit::insert_audit;
use super::checklists::insert_checklist;
use super::outbox::insert_alerts;
use super::{AuditEntry, NewAlert, Store, StoreError, now_ms, on_pool};
use crate::domain::{Env, OperationId, OperationKind, OperationState, ReleaseType, UserId};

/// An operation as stored.
#[derive(Debug, Clone)]
pub struct OperationRow {
    pub id: i64,
    pub kind: OperationKind,
    pub env: Option<Env>,
    pub version: String,
    pub release_type: Option<ReleaseType>,
    pub state: OperationState,
    pub requested_by: i64,
    pub chat_id: i64,
    pub request_id: String,
    pub run_id: Option<i64>,
    pub run_url: Option<String>,
    /// What the operation rested on or ended with (a reason, the version
    /// running when a deploy was asked for).
    pub detail: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: Option<i64>,
    /// When the workflow was dispatched (or, for an adopted run, seen).
    pub dispatched_at: Option<i64>,
    /// A rollback that runs directly on ECS, not through the workflow.
    pub direct_ecs: bool,
}

impl OperationRow {
    /// The version that ran in the environment when the operation was
    /// asked for (its detail starts `running=X`), if known.
    pub fn ran_before(&self) -> Option<&str> {
        self.detail
            .as_deref()
            .and_then(|d| d.split(" · ").next())
            .and_then(|d| d.strip_prefix("running="))
    }

    /// The environment's name, for an operation that has one.
    pub fn env_name(&self) -> Option<&str> {
        self.env.as_ref().map(Env::as_str)
    }
}

/// A TEXT column read into a domain type; a value the type does not know
/// is a decoding error, not a silent default.
fn column<T>(
    name: &str,
    text: Option<String>,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, sqlx::Error> {
    text.map(|t| {
        parse(&t).ok_or_else(|| sqlx::Error::ColumnDecode {
            index: name.to_owned(),
            source: format!("{t:?} is not a known {name}").into(),
        })
    })
    .transpose()
}

fn typed_kind(kind: &str) -> Result<OperationKind, StoreError> {
    OperationKind::parse(kind).ok_or_else(|| StoreError::Codec(format!("operation kind {kind:?}")))
}

fn typed_state(state: &str) -> Result<OperationState, StoreError> {
    OperationState::parse(state)
        .ok_or_else(|| StoreError::Codec(format!("operation state {state:?}")))
}

fn required<T>(name: &str, value: Option<T>) -> Result<T, sqlx::Error> {
    value.ok_or_else(|| sqlx::Error::ColumnDecode {
        index: name.to_owned(),
        source: "NULL".into(),
    })
}

/// The row read on either backend, its TEXT columns typed at the edge.
impl<'r, R> FromRow<'r, R> for OperationRow
where
    R: Row,
    &'static str: sqlx::ColumnIndex<R>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        let kind = column("kind", row.try_get("kind")?, OperationKind::parse)?;
        let state = column("state", row.try_get("state")?, OperationState::parse)?;
        Ok(Self {
            id: row.try_get("id")?,
            kind: required("kind", kind)?,
            env: column("env", row.try_get("env")?, |e| Env::parse(e).ok())?,
            version: row.try_get("version")?,
            release_type: column(
                "release_type",
                row.try_get("release_type")?,
                ReleaseType::parse,
            )?,
            state: required("state", state)?,
            requested_by: row.try_get("requested_by")?,
            chat_id: row.try_get("chat_id")?,
            request_id: row.try_get("request_id")?,
            run_id: row.try_get("run_id")?,
            run_url: row.try_get("run_url")?,
            detail: row.try_get("detail")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            expires_at: row.try_get("expires_at")?,
            dispatched_at: row.try_get("dispatched_at")?,
            direct_ecs: row.try_get("direct_ecs")?,
        })
    }
}

/// The states of an operation that is not over (SQL), in step with
/// `OperationState::is_final` and the migrations' one-live indexes.
macro_rules! live_states {
    () => {
        "('requested', 'awaiting_approval', 'approved', 'dispatched', 'running', 'confirming')"
    };
}

macro_rules! operation_columns {
    () => {
        "id, kind, env, version, release_type, state, requested_by, chat_id, request_id, run_id, run_url, \
         detail, created_at, updated_at, expires_at, dispatched_at, direct_ecs"
    };
}

macro_rules! select_operations {
    ($($rest:expr),+) => {
        concat!("SELECT ", operation_columns!(), " FROM operations ", $($rest),+)
    };
}
pub(super) use {live_states, operation_columns, select_operations};

/// Ends the transaction `$tx` that inserted an operation (`$inserted`, the
/// insert's `RETURNING id`): its audit line and alerts written with it and
/// committed, `Some(id)`; or rolled back, `None`, when a unique index
/// refused the row. Other errors return from the calling function.
macro_rules! commit_new_operation {
    ($tx:ident, $inserted:expr, $audit:expr, $alerts:expr) => {
        match $inserted {
            Err(e) if is_unique_violation(&e) => {
                $tx.rollback().await?;
                None
            }
            Err(e) => return Err(e.into()),
            Ok((id,)) => {
                let id = OperationId(id);
                let audit = AuditEntry {
                    operation: Some(id),
                    ..$audit.clone()
                };
                insert_audit!(&mut *$tx, &audit)?;
                let alerts: Vec<NewAlert> = $alerts.iter().map(|a| with_op(a, id)).collect();
                insert_alerts!($tx, &alerts)?;
                $tx.commit().await?;
                Some(id)
            }
        }
    };
}
pub(super) use commit_new_operation;

/// A new operation, before it is stored.
#[derive(Debug, Clone)]
pub struct NewOperation {
    pub kind: OperationKind,
    pub env: Option<Env>,
    pub version: String,
    pub release_type: Option<ReleaseType>,
    pub state: OperationState,
    pub requested_by: UserId,
    pub chat_id: i64,
    pub request_id: String,
    /// How long, in milliseconds from its creation, a decision may take.
    pub expires_in_ms: Option<i64>,
    pub detail: Option<String>,
    /// The run, when the operation is made for one already started.
    pub run: Option<(i64, String)>,
    /// A rollback that runs directly on ECS (GitHub was unreachable).
    pub direct_ecs: bool,
    /// A deploy asked inside a freeze by an approver who overrode it:
    /// their reason.
    pub freeze_override: Option<String>,
}

/// What became of a request to create an operation.
#[derive(Debug, Clone)]
pub enum Created {
    New(OperationId),
    /// The environment already has an operation in flight (the database's
    /// one-live-operation-per-environment index said so).
    Busy,
}

pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

impl Store {
    /// Operations that are not over yet, oldest first.
    pub async fn live_operations(&self) -> Result<Vec<OperationRow>, StoreError> {
        let sql = select_operations!("WHERE state IN ", live_states!(), " ORDER BY id");
        let rows = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows)
    }

    /// One operation.
    pub async fn operation(&self, id: OperationId) -> Result<Option<OperationRow>, StoreError> {
        let sql = select_operations!("WHERE id = $1");
        let row = on_pool!(self, p => sqlx::query_as(sql).bind(id.0).fetch_optional(p).await)?;
        Ok(row)
    }

    /// Every operation, oldest first (history, tests).
    pub async fn all_operations(&self) -> Result<Vec<OperationRow>, StoreError> {
        let sql = select_operations!("ORDER BY id");
        let rows = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows)
    }

    /// The operation a workflow run belongs to, by the run's id.
    pub async fn operation_by_run(&self, run_id: i64) -> Result<Option<OperationRow>, StoreError> {
        let sql = select_operations!("WHERE run_id = $1");
        let row = on_pool!(self, p => sqlx::query_as(sql).bind(run_id).fetch_optional(p).await)?;
        Ok(row)
    }

    /// The operation with this request id.
    pub async fn operation_by_request(
        &self,
        request_id: &str,
    ) -> Result<Option<OperationRow>, StoreError> {
        let sql = select_operations!("WHERE request_id = $1");
        let row =
            on_pool!(self, p => sqlx::query_as(sql).bind(request_id).fetch_optional(p).await)?;
        Ok(row)
    }

    /// Operations waiting on their workflow run (dispatched or running).
    pub async fn followed_operations(&self) -> Result<Vec<OperationRow>, StoreError> {
        let sql = select_operations!("WHERE state IN ('dispatched', 'running') ORDER BY id");
        let rows = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows)
    }

    /// Deploys and rollbacks whose run succeeded, being confirmed on ECS.
    pub async fn confirming_operations(&self) -> Result<Vec<OperationRow>, StoreError> {
        let sql = select_operations!("WHERE state = 'confirming' ORDER BY id");
        let rows = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows)
    }

    /// How many operations there are of each kind and state.
    pub async fn operation_counts(
        &self,
    ) -> Result<Vec<(OperationKind, OperationState, i64)>, StoreError> {
        let sql = "SELECT kind, state, COUNT(*) FROM operations GROUP BY kind, state ORDER BY kind, state";
        let rows: Vec<(String, String, i64)> =
            on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?;
        rows.into_iter()
            .map(|(kind, state, n)| Ok((typed_kind(&kind)?, typed_state(&state)?, n)))
            .collect()
    }

    /// What the delivery figures of `env` since `since_ms` rest on, oldest
    /// first: the environment's operations that reached their state since
    /// then, and the successful releases of the versions deployed there
    /// since then (for the lead time). Bounded by the window, not by the
    /// history: two index look-ups (migration 0012).
    pub async fn delivery_facts(
        &self,
        env: &Env,
        since_ms: i64,
    ) -> Result<Vec<crate::domain::dora::Fact>, StoreError> {
        let sql = "SELECT id, kind, env, version, state, updated_at FROM operations \
                   WHERE env = $1 AND updated_at >= $2 \
                   UNION ALL \
                   SELECT id, kind, env, version, state, updated_at FROM operations \
                   WHERE kind = 'release' AND state = 'succeeded' AND version IN ( \
                       SELECT version FROM operations \
                       WHERE env = $1 AND updated_at >= $2 AND kind = 'deploy' AND state = 'succeeded') \
                   ORDER BY id";
        type Row = (i64, String, Option<String>, String, String, i64);
        let rows: Vec<Row> = on_pool!(self, p => {
            sqlx::query_as(sql).bind(env.as_str()).bind(since_ms).fetch_all(p).await
        })?;
        rows.into_iter()
            .map(|(_, kind, env, version, state, at)| {
                Ok(crate::domain::dora::Fact {
                    kind: typed_kind(&kind)?,
                    env,
                    version,
                    state: typed_state(&state)?,
                    at,
                })
            })
            .collect()
    }

    /// Stores a new operation with its audit line and alerts. The alerts'
    /// keys may contain `{op}`, replaced by the new operation's id.
    pub async fn create_operation(
        &self,
        op: &NewOperation,
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<Created, StoreError> {
        self.create_with_checklist(op, &[], audit, alerts).await
    }

    /// [`Self::create_operation`], with the release checklist the new
    /// operation asks its requester to tick, in the same transaction.
    pub async fn create_with_checklist(
        &self,
        op: &NewOperation,
        checklist: &[String],
        audit: &AuditEntry,
        alerts: &[NewAlert],
    ) -> Result<Created, StoreError> {
        let now = now_ms();
        let created = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
                "INSERT INTO operations (kind, env, version, release_type, state, requested_by, chat_id, \
                 request_id, created_at, updated_at, expires_at, detail, run_id, run_url, direct_ecs, freeze_override) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
            )
            .bind(op.kind.as_str())
            .bind(op.env.as_ref().map(Env::as_str))
            .bind(&op.version)
            .bind(op.release_type.map(ReleaseType::as_str))
            .bind(op.state.as_str())
            .bind(op.requested_by.0)
            .bind(op.chat_id)
            .bind(&op.request_id)
            .bind(now)
            .bind(op.expires_in_ms.map(|ms| now + ms))
            .bind(&op.detail)
            .bind(op.run.as_ref().map(|r| r.0))
            .bind(op.run.as_ref().map(|r| r.1.clone()))
            .bind(op.direct_ecs)
            .bind(&op.freeze_override)
            .fetch_one(&mut *tx)
            .await;
            if let Ok((id,)) = &inserted {
                insert_checklist!(tx, *id, checklist)?;
            }
            match commit_new_operation!(tx, inserted, audit, alerts) {
                Some(id) => Created::New(id),
                None => Created::Busy,
            }
        });
        Ok(created)
    }

    /// The successful deploys and rollbacks of an environment, newest
    /// first, at most `n`: what ran there, and when it was confirmed.
    pub async fn succeeded_in(&self, env: &Env, n: i64) -> Result<Vec<OperationRow>, StoreError> {
        let sql = select_operations!(
            "WHERE env = $1 AND kind IN ('deploy', 'rollback') AND state = 'succeeded' \
             ORDER BY id DESC LIMIT $2"
        );
        let rows =
            on_pool!(self, p => sqlx::query_as(sql).bind(env.as_str()).bind(n).fetch_all(p).await)?;
        Ok(rows)
    }

    /// Notes what ran in the operation's environment before it (see
    /// [`OperationRow::ran_before`]), unless already noted; whatever the
    /// detail says already is kept after it.
    pub async fn note_ran_before(&self, id: OperationId, tag: &str) -> Result<(), StoreError> {
        let sql = "UPDATE operations SET detail = 'running=' || $2 || COALESCE(' · ' || detail, '') \
                   WHERE id = $1 AND (detail IS NULL OR detail NOT LIKE 'running=%')";
        on_pool!(self, p => sqlx::query(sql).bind(id.0).bind(tag).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// The last operations, newest first, of one environment or all.
    pub async fn history(
        &self,
        env: Option<&Env>,
        n: i64,
    ) -> Result<Vec<OperationRow>, StoreError> {
        let rows = match env {
            Some(env) => {
                let sql = select_operations!("WHERE env = $1 ORDER BY id DESC LIMIT $2");
                on_pool!(self, p => sqlx::query_as(sql).bind(env.as_str()).bind(n).fetch_all(p).await)?
            }
            None => {
                let sql = select_operations!("ORDER BY id DESC LIMIT $1");
                on_pool!(self, p => sqlx::query_as(sql).bind(n).fetch_all(p).await)?
            }
        };
        Ok(rows)
    }

    /// The deploys and rollbacks in `env` that ended failed or unhealthy
    /// at or after `since` (Unix ms), oldest first.
    pub async fn failures_since(
        &self,
        env: &Env,
        since: i64,
    ) -> Result<Vec<OperationRow>, StoreError> {
        let sql = select_operations!(
            "WHERE env = $1 AND updated_at >= $2 AND state IN ('failed', 'unhealthy') \
             AND kind IN ('deploy', 'rollback') ORDER BY id"
        );
        let rows = on_pool!(self, p => sqlx::query_as(sql).bind(env.as_str()).bind(since).fetch_all(p).await)?;
        Ok(rows)
    }

    /// The latest successful deploy or rollback of each of `envs`, oldest
    /// first. One look-up per environment on `operations_succeeded_by_env`:
    /// as fast with a million operations as with ten.
    pub async fn last_deploys(&self, envs: &[&Env]) -> Result<Vec<OperationRow>, StoreError> {
        let sql = select_operations!(
            "WHERE env = $1 AND state = 'succeeded' AND kind IN ('deploy', 'rollback') \
             ORDER BY id DESC LIMIT 1"
        );
        let mut rows = Vec::new();
        for env in envs {
            let row: Option<OperationRow> = on_pool!(self, p => sqlx::query_as(sql).bind(env.as_str()).fetch_optional(p).await)?;
            rows.extend(row);
        }
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    /// Records that a version runs successfully in an environment, outside
    /// any operation of the bot's (a deploy the bot saw but did not start).
    pub async fn record_succeeded_deploy(
        &self,
        env: &Env,
        version: &str,
        by: UserId,
    ) -> Result<OperationId, StoreError> {
        let now = now_ms();
        let (id,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO operations (kind, env, version, state, requested_by, chat_id, request_id, created_at, updated_at) \
             VALUES ('deploy', $1, $2, 'succeeded', $3, 0, $4, $5, $5) RETURNING id",
        )
        .bind(env.as_str())
        .bind(version)
        .bind(by.0)
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(now)
        .fetch_one(p)
        .await)?;
        Ok(OperationId(id))
    }
}

/// An alert whose keys name the operation: `{op}` becomes its id.
pub(super) fn with_op(alert: &NewAlert, id: OperationId) -> NewAlert {
    let op = id.0.to_string();
    NewAlert {
        dedup_key: alert.dedup_key.replace("{op}", &op),
        edit_of: alert.edit_of.as_ref().map(|k| k.replace("{op}", &op)),
        buttons: alert.buttons.as_ref().map(|b| b.replace("{op}", &op)),
        text: alert.text.replace("{op}", &op),
        ..alert.clone()
    }
}
