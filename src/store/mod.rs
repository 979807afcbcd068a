//! The store: the only place with SQL. SQLite by default, PostgreSQL when
//! the URL says so; the same queries (written with `$N` placeholders, which
//! both accept) run on both. Each public function is one transaction that
//! does one thing.

mod alarms;
mod approvals;
mod audit;
mod checklists;
mod deployments;
mod diagnoses;
mod dialogues;
mod fence;
mod freezes;
mod gates;
mod health;
mod incidents;
mod leases;
mod locks;
mod mutes;
mod operations;
mod outbox;
mod reports;
mod retention;
mod runs;
mod strangers;
mod transitions;
mod verdicts;
mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use approvals::{Decided, Decision};
pub use audit::{AuditEntry, AuditRow};
pub use checklists::Ticked;
pub use deployments::DeploymentStep;
pub use diagnoses::{BuildEdit, PendingDiagnosis};
pub use dialogues::DialogueStorage;
pub use freezes::{FreezeRow, NewFreeze};
pub use gates::{GateClaim, GateReview};
pub use incidents::{Ack, Untaken};
pub use locks::{LockRow, NewLock};
pub use mutes::MuteRow;
pub use operations::{Created, NewOperation, OperationRow};
pub use outbox::{NewAlert, OutboxRow, OutboxStats};
pub use reports::{AlertEvent, ReportClaim};
pub use retention::TABLES;
pub use runs::{Adopted, AdoptedRun, RunKnowledge};
pub use transitions::{DispatchClaim, Moved, Transition};
pub use verdicts::VerdictRow;
pub use webhooks::{Delivery, Recorded};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL must start with sqlite: or postgres:, got {0:?}")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored state unreadable: {0}")]
    Codec(String),
    /// A move the operation state machine forbids, refused unwritten.
    #[error("an operation cannot go from {from} to {to}")]
    Forbidden {
        from: crate::domain::OperationState,
        to: crate::domain::OperationState,
    },
    /// Written in one transaction with others, which failed as a whole.
    #[error("database error: {0}")]
    Batch(String),
}

impl StoreError {
    /// The database could not be reached or used (down, cut off, its
    /// pool out of connections, its file locked), as opposed to a query
    /// it refused.
    pub fn is_unreachable(&self) -> bool {
        match self {
            StoreError::Sql(
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed,
            ) => true,
            // SQLite: the file locked by another process past the busy timeout.
            StoreError::Sql(sqlx::Error::Database(e)) => e.message().contains("database is locked"),
            _ => false,
        }
    }
}

/// A statement (or a wait for a connection) this slow is logged, with
/// its SQL: nothing the bot asks of its database should take this long.
const SLOW_STATEMENT: Duration = Duration::from_millis(100);

/// Which database the store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// The leader lease's holder whose singleton writes this store fences
    /// (see `fence`); none for commands, taps and a lone instance's tools.
    fence: Option<std::sync::Arc<str>>,
    /// Deploys and rollbacks queue their GitHub deployment statuses as
    /// they move (`github.deployments`).
    deployments: bool,
}

/// Runs `$body` with `$pool` bound to the concrete pool of either backend:
/// the body is compiled once per backend, so each keeps its own types.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            crate::store::Pool::Sqlite($pool) => $body,
            crate::store::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Now, as the store writes times: Unix milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Store {
    /// Connects to `url`: `sqlite://PATH` (the file is created, WAL mode)
    /// or `postgres://…`. Does not migrate.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
                .log_slow_statements(log::LevelFilter::Warn, SLOW_STATEMENT);
            Pool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(4)
                    .acquire_slow_threshold(SLOW_STATEMENT)
                    .connect_with(options)
                    .await?,
            )
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?
                .log_slow_statements(log::LevelFilter::Warn, SLOW_STATEMENT);
            Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_slow_threshold(SLOW_STATEMENT)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect_with(options)
                    .await?,
            )
        } else {
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        };
        Ok(Self {
            pool,
            fence: None,
            deployments: false,
        })
    }

    /// Connects and applies every pending migration.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Applies every pending migration of this backend.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(p) => SQLITE_MIGRATIONS.run(p).await?,
            Pool::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match &self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// A cheap round trip, for `/healthz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// The tables and their columns, sorted: how tests compare the schema
    /// the two backends' migrations produce.
    pub async fn schema(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows: Vec<(String, String)> = match &self.pool {
            Pool::Sqlite(p) => {
                sqlx::query_as(
                    "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx_%' \
                     ORDER BY 1, 2",
                )
                .fetch_all(p)
                .await?
            }
            Pool::Postgres(p) => {
                sqlx::query_as(
                    "SELECT table_name::TEXT, column_name::TEXT FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx\\_%' \
                     ORDER BY 1, 2",
                )
                .fetch_all(p)
                .await?
            }
        };
        Ok(rows)
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        on_pool!(self, p => p.close().await)
    }
}

/// A database URL fit for a log line: the password replaced.
pub fn redact_url(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url) else {
        return "(unparseable URL)".to_owned();
    };
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    }
    // Query parameters can carry secrets too (`?password=`, `sslpassword=`).
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if k.to_ascii_lowercase().contains("password") {
                    "***".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}
