//! The store against both backends: a fresh SQLite file and a fresh
//! PostgreSQL schema (127.0.0.1:5432, user postgres, database test) per test.

mod approvals;
mod audit;
mod checklists;
mod deliveries;
mod deployments;
mod freezes;
mod gates;
mod incidents;
mod leader;
mod operations;
mod outbox;
mod retention;
mod runs;

use aletheia_bot::domain::{AlertKind, ChatId, Env, OperationKind, UserId};
use aletheia_bot::store::{AuditEntry, Backend, Delivery, NewAlert, Recorded, Store, Transition};

const PG_BASE: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh, migrated store of each backend.
pub(crate) async fn stores() -> Vec<(Store, tempfile::TempDir)> {
    stores_at()
        .await
        .into_iter()
        .map(|(store, _url, dir)| (store, dir))
        .collect()
}

/// A fresh, migrated store of each backend, with the URL it was opened at.
pub(crate) async fn stores_at() -> Vec<(Store, String, tempfile::TempDir)> {
    let mut stores = Vec::new();
    for (url, dir) in fresh_databases().await {
        stores.push((Store::open(&url).await.unwrap(), url, dir));
    }
    assert_eq!(stores[1].0.backend(), Backend::Postgres);
    stores
}

/// The URL of a fresh, empty database of each backend (SQLite first),
/// with the directory that holds the SQLite file.
pub(crate) async fn fresh_databases() -> Vec<(String, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}", dir.path().join("t.db").display());
    let pg_url = std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| PG_BASE.to_owned());
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&pg_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {pg_url}: {e} (run the README's test command)"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let sep = if pg_url.contains('?') { '&' } else { '?' };
    let pg_url = format!("{pg_url}{sep}options=-csearch_path%3D{schema}");
    vec![(sqlite_url, dir), (pg_url, tempfile::tempdir().unwrap())]
}

pub(crate) fn alert(key: &str, chat: i64) -> NewAlert {
    NewAlert {
        dedup_key: format!("{key}@{chat}"),
        kind: AlertKind::Release,
        env: Some(Env::parse("prod").unwrap()),
        chat: ChatId(chat),
        thread_id: Some(7),
        text: format!("<b>{key}</b>"),
        buttons: None,
        edit_of: None,
        urgent: false,
        diagnose: false,
    }
}

/// Alice's (1) deploy of 1.3.0 to prod, awaiting approval.
pub(crate) fn prod_deploy_awaiting_approval() -> aletheia_bot::store::NewOperation {
    aletheia_bot::store::NewOperation {
        kind: OperationKind::Deploy,
        env: Some(Env::parse("prod").unwrap()),
        version: "1.3.0".into(),
        release_type: None,
        state: aletheia_bot::domain::OperationState::AwaitingApproval,
        requested_by: UserId(1),
        chat_id: -5,
        request_id: uuid::Uuid::new_v4().to_string(),
        expires_in_ms: None,
        detail: None,
        run: None,
        direct_ecs: false,
        freeze_override: None,
    }
}

pub(crate) fn audit(action: &str) -> AuditEntry {
    AuditEntry {
        actor: Some(UserId(1)),
        chat: Some(ChatId(-5)),
        action: action.into(),
        outcome: "answered".into(),
        operation: None,
        detail: "/status".into(),
    }
}

#[tokio::test]
async fn both_backends_reach_the_same_schema() {
    let stores = stores().await;
    let sqlite = stores[0].0.schema().await.unwrap();
    let pg = stores[1].0.schema().await.unwrap();
    assert!(
        sqlite
            .iter()
            .any(|(t, c)| t == "alert_outbox" && c == "dedup_key")
    );
    for table in [
        "operations",
        "approvals",
        "audit_log",
        "alert_outbox",
        "webhook_deliveries",
        "env_locks",
        "dialogues",
    ] {
        assert!(
            sqlite.iter().any(|(t, _)| t == table),
            "sqlite lacks {table}"
        );
    }
    assert_eq!(sqlite, pg);
    // Migrating again is a no-op.
    for (store, _) in &stores {
        store.migrate().await.unwrap();
    }
}

/// Runs `sql` on the store's database behind the store's back: histories
/// the bot's own writes cannot make (old times, a clock ahead).
pub(crate) async fn raw(store: &Store, url: &str, sql: &str) {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match store.backend() {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            sqlx::raw_sql(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::raw_sql(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }
}

#[tokio::test]
async fn a_bad_database_url_is_a_clear_error() {
    let err = Store::connect("mysql://x").await.err().unwrap();
    assert_eq!(
        err.to_string(),
        "database URL must start with sqlite: or postgres:, got \"mysql://x\""
    );
    let err = Store::connect("postgres://u:hunter2@127.0.0.1:1/db")
        .await
        .err()
        .unwrap();
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[test]
fn database_urls_are_logged_without_secrets() {
    use aletheia_bot::store::redact_url;
    assert_eq!(
        redact_url("postgres://bot:hunter2@db/aletheia"),
        "postgres://bot:***@db/aletheia"
    );
    let shown = redact_url("postgres://bot@db/aletheia?password=hunter2&sslmode=require");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("sslmode=require"), "{shown}");
    assert_eq!(redact_url("sqlite://aletheia.db"), "sqlite://aletheia.db");
}

/// A deploy of 1.3.0 to dev, asked for in chat -5, created in `state`.
pub(crate) async fn dev_deploy(
    store: &Store,
    state: aletheia_bot::domain::OperationState,
    detail: Option<&str>,
) -> aletheia_bot::domain::OperationId {
    use aletheia_bot::store::{Created, NewOperation};
    let op = NewOperation {
        kind: OperationKind::Deploy,
        env: Some(Env::parse("dev").unwrap()),
        version: "1.3.0".into(),
        release_type: None,
        state,
        requested_by: UserId(1),
        chat_id: -5,
        request_id: uuid::Uuid::new_v4().to_string(),
        expires_in_ms: None,
        detail: detail.map(str::to_owned),
        run: None,
        direct_ecs: false,
        freeze_override: None,
    };
    match store
        .create_operation(&op, &audit("operation:deploy"), &[])
        .await
        .unwrap()
    {
        Created::New(id) => id,
        Created::Busy => panic!("dev busy"),
    }
}
