//! The store against both backends: a fresh SQLite file and a fresh
//! PostgreSQL schema (127.0.0.1:5432, user postgres, database test) per test.

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

#[tokio::test]
async fn audit_log_keeps_order() {
    for (store, _dir) in stores().await {
        for action in ["a", "b", "c"] {
            store.audit(&audit(action)).await.unwrap();
        }
        let rows = store.recent_audit(2).await.unwrap();
        let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(actions, ["b", "c"], "{:?}", store.backend());
        assert_eq!(rows[0].actor, Some(1));
        assert_eq!(rows[0].chat_id, Some(-5));
    }
}

#[tokio::test]
async fn audit_times_never_go_back_along_the_log() {
    for (store, url, _dir) in stores_at().await {
        // A line stamped an hour ahead, as a writer that read the clock
        // later but took the write lock first (or a clock stepped back)
        // leaves it.
        let ahead = aletheia_bot::store::now_ms() + 3_600_000;
        raw(
            &store,
            &url,
            &format!(
                "INSERT INTO audit_log (at, action, outcome, detail) VALUES ({ahead}, 'ahead', 'ok', '')"
            ),
        )
        .await;
        store.audit(&audit("after")).await.unwrap();
        let rows = store.recent_audit(2).await.unwrap();
        assert_eq!(rows[0].action, "ahead");
        assert_eq!(rows[1].action, "after");
        assert_eq!(rows[1].at, ahead, "{:?}", store.backend());

        // Once the clock is past the last line, lines take the clock again.
        raw(&store, &url, "DELETE FROM audit_log").await;
        let before = aletheia_bot::store::now_ms();
        store.audit(&audit("now")).await.unwrap();
        let last = store.recent_audit(1).await.unwrap().remove(0);
        assert!(
            last.at >= before && last.at < ahead,
            "{:?}",
            store.backend()
        );
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
async fn delivery_figures_read_the_window_and_the_releases_deployed_in_it() {
    use aletheia_bot::domain::dora::dora;
    const DAY: i64 = 86_400_000;
    for (store, url, _dir) in stores_at().await {
        let now = aletheia_bot::store::now_ms();
        let mut sql = String::new();
        for (n, (kind, env, version, state, days_ago)) in [
            ("release", None, "1.2.0", "succeeded", 50),
            ("release", None, "1.3.0", "succeeded", 40),
            ("deploy", Some("prod"), "1.2.0", "succeeded", 35),
            ("deploy", Some("staging"), "1.3.0", "succeeded", 2),
            ("deploy", Some("prod"), "1.3.0", "succeeded", 1),
            ("release", None, "1.4.0", "failed", 0),
            ("rollback", Some("prod"), "1.2.0", "failed", 0),
        ]
        .into_iter()
        .enumerate()
        {
            let env = env.map_or("NULL".to_owned(), |e| format!("'{e}'"));
            let at = now - days_ago * DAY - 1000 + n as i64;
            sql.push_str(&format!(
                "INSERT INTO operations (kind, env, version, state, requested_by, chat_id, \
                 request_id, created_at, updated_at) \
                 VALUES ('{kind}', {env}, '{version}', '{state}', 1, -5, 'r{n}', {at}, {at});"
            ));
        }
        raw(&store, &url, &sql).await;

        let facts = store
            .delivery_facts(
                &aletheia_bot::domain::Env::parse("prod").unwrap(),
                now - 30 * DAY,
            )
            .await
            .unwrap();
        let read: Vec<(&str, Option<&str>, &str)> = facts
            .iter()
            .map(|f| (f.kind.as_str(), f.env.as_deref(), f.version.as_str()))
            .collect();
        assert_eq!(
            read,
            [
                ("release", None, "1.3.0"),
                ("deploy", Some("prod"), "1.3.0"),
                ("rollback", Some("prod"), "1.2.0"),
            ],
            "{:?}",
            store.backend()
        );
        let figures = dora(&facts, "prod", now, 30);
        assert_eq!(figures.deploys, 1);
        assert_eq!(figures.lead_time_ms, Some(39 * DAY + 3));
    }
}

#[tokio::test]
async fn deliveries_stored_together_are_each_stored_once() {
    for (store, _dir) in stores().await {
        let delivery = |id: &str| Delivery {
            id: id.into(),
            event: "workflow_run".into(),
            action: Some("completed".into()),
            payload: "{}".into(),
            ignored: None,
        };
        let one = |id: &str| (delivery(id), true, audit("webhook:workflow_run"), vec![]);
        store
            .record_delivery(&delivery("a"), true, &audit("webhook:workflow_run"), &[])
            .await
            .unwrap();
        // One seen before, one twice in the same batch, two new.
        let recorded = store
            .record_deliveries(&[one("a"), one("b"), one("b"), one("c")])
            .await
            .unwrap();
        assert_eq!(
            recorded,
            [
                Recorded::Duplicate,
                Recorded::New,
                Recorded::Duplicate,
                Recorded::New
            ],
            "{:?}",
            store.backend()
        );
        assert_eq!(store.delivery_count().await.unwrap(), 3);
        assert_eq!(store.recent_audit(10).await.unwrap().len(), 3);
    }
}

#[tokio::test]
async fn a_webhook_delivery_is_stored_once_with_its_audit_and_alerts() {
    for (store, _dir) in stores().await {
        let delivery = Delivery {
            id: "abc-1".into(),
            event: "release".into(),
            action: Some("published".into()),
            payload: "{}".into(),
            ignored: None,
        };
        let alerts = [alert("release:1", -1), alert("release:1", -2)];
        let first = store
            .record_delivery(&delivery, true, &audit("webhook:release"), &alerts)
            .await
            .unwrap();
        let again = store
            .record_delivery(&delivery, true, &audit("webhook:release"), &alerts)
            .await
            .unwrap();
        assert_eq!(
            (first, again),
            (Recorded::New, Recorded::Duplicate),
            "{:?}",
            store.backend()
        );
        assert_eq!(store.delivery_count().await.unwrap(), 1);
        assert_eq!(store.all_alerts().await.unwrap().len(), 2);
        assert_eq!(
            store.recent_audit(10).await.unwrap().len(),
            1,
            "the duplicate left no audit line"
        );
    }
}

#[tokio::test]
async fn outbox_deduplicates_and_tracks_delivery() {
    for (store, _dir) in stores().await {
        let backend = store.backend();
        assert_eq!(
            store
                .enqueue_alerts(&[alert("x", -1), alert("y", -1)])
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            store.enqueue_alerts(&[alert("x", -1)]).await.unwrap(),
            0,
            "{backend:?}: same key twice"
        );

        let due = store.due_alerts(10, 10).await.unwrap();
        let keys: Vec<&str> = due.iter().map(|a| a.dedup_key.as_str()).collect();
        assert_eq!(keys, ["x@-1", "y@-1"], "{backend:?}: oldest first");
        assert_eq!(due[0].thread_id, Some(7));
        assert_eq!(due[0].env.as_deref(), Some("prod"));

        store.alert_sent(due[0].id, 555).await.unwrap();
        // y fails once, to be retried far in the future: not due now.
        let later = aletheia_bot::store::now_ms() + 3_600_000;
        store
            .alert_attempt_failed(due[1].id, "HTTP 502", later, false)
            .await
            .unwrap();
        assert!(
            store.due_alerts(10, 10).await.unwrap().is_empty(),
            "{backend:?}"
        );
        assert_eq!(store.next_alert_due().await.unwrap(), Some(later));

        let stats = store.outbox_stats().await.unwrap();
        assert_eq!((stats.pending, stats.failed), (1, 0), "{backend:?}");

        store
            .alert_attempt_failed(due[1].id, "HTTP 502", later, true)
            .await
            .unwrap();
        let stats = store.outbox_stats().await.unwrap();
        assert_eq!((stats.pending, stats.failed), (0, 1), "{backend:?}");
        let rows = store.all_alerts().await.unwrap();
        assert_eq!(rows[0].message_id, Some(555));
        assert_eq!(rows[1].attempts, 2);
        assert_eq!(rows[1].last_error.as_deref(), Some("HTTP 502"));
        assert_eq!(store.next_alert_due().await.unwrap(), None);
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

#[tokio::test]
async fn dialogue_state_survives_a_new_connection() {
    use aletheia_bot::store::DialogueStorage;
    use teloxide::dispatching::dialogue::Storage;
    use teloxide::types::ChatId as TgChatId;

    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    enum Flow {
        PickEnv,
        PickVersion { env: String },
    }

    for (store, _dir) in stores().await {
        let storage = DialogueStorage::<Flow>::new(store.clone());
        let chat = TgChatId(-42);
        assert_eq!(storage.clone().get_dialogue(chat).await.unwrap(), None);
        storage
            .clone()
            .update_dialogue(chat, Flow::PickEnv)
            .await
            .unwrap();
        storage
            .clone()
            .update_dialogue(chat, Flow::PickVersion { env: "prod".into() })
            .await
            .unwrap();
        // Another storage on the same database (a restarted bot) sees it.
        let again = DialogueStorage::<Flow>::new(store.clone());
        assert_eq!(
            again.clone().get_dialogue(chat).await.unwrap(),
            Some(Flow::PickVersion { env: "prod".into() }),
            "{:?}",
            store.backend()
        );
        again.clone().remove_dialogue(chat).await.unwrap();
        assert_eq!(storage.get_dialogue(chat).await.unwrap(), None);
    }
}

#[tokio::test]
async fn concurrent_decisions_move_an_operation_once_and_claim_it_once() {
    use aletheia_bot::domain::{OperationState, UserId};
    use aletheia_bot::store::{Created, Decided, Decision, NewOperation};

    for (store, _dir) in stores().await {
        let backend = store.backend();
        let op = prod_deploy_awaiting_approval();
        let Created::New(id) = store
            .create_operation(&op, &audit("operation:deploy"), &[])
            .await
            .unwrap()
        else {
            panic!("{backend:?}: created")
        };
        // A second live operation in the same environment is refused by
        // the database itself.
        let again = NewOperation {
            request_id: uuid::Uuid::new_v4().to_string(),
            ..op.clone()
        };
        assert!(matches!(
            store
                .create_operation(&again, &audit("operation:deploy"), &[])
                .await
                .unwrap(),
            Created::Busy
        ));

        // Twenty approvers (one tapping twice) at once; two approvals needed.
        let mut tasks = Vec::new();
        for user in (10..30).chain([10]) {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .decide(
                        id,
                        &Decision {
                            user: UserId(user),
                            approve: true,
                            needed: 2,
                            counts: &|_| true,
                            audit: &audit("tap:approve"),
                            alerts_if_moved: &[alert("moved", -5)],
                            alerts_if_lapsed: &[],
                        },
                    )
                    .await
                    .unwrap()
            }));
        }
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        let moved = outcomes
            .iter()
            .filter(|o| {
                matches!(o, Decided::Claimed(claim)
                    if claim.operation().id == id.0 && claim.operation().state == OperationState::Dispatched)
            })
            .count();
        let counted = outcomes
            .iter()
            .filter(|o| matches!(o, Decided::Counted { .. }))
            .count();
        assert_eq!((moved, counted), (1, 1), "{backend:?}: {outcomes:?}");
        assert!(
            outcomes.iter().all(|o| matches!(
                o,
                Decided::Claimed(_)
                    | Decided::Counted { approvals: 1, .. }
                    | Decided::TooLate(OperationState::Dispatched)
                    | Decided::AlreadyVoted
            )),
            "{backend:?}: {outcomes:?}"
        );
        assert_eq!(
            store.all_alerts().await.unwrap().len(),
            1,
            "{backend:?}: the outcome's alert, once"
        );

        // The last approval claimed it: nobody claims it again.
        assert!(store.claim_dispatch(id).await.unwrap().is_none());
        assert_eq!(
            store.operation(id).await.unwrap().unwrap().state,
            OperationState::Dispatched
        );

        // An operation approved without a tap (no approval needed, or
        // stranded by a crash) is claimed by one of many at once.
        let approved = NewOperation {
            env: Some(Env::parse("staging").unwrap()),
            state: OperationState::Approved,
            request_id: uuid::Uuid::new_v4().to_string(),
            ..op.clone()
        };
        let Created::New(id) = store
            .create_operation(&approved, &audit("operation:deploy"), &[])
            .await
            .unwrap()
        else {
            panic!("{backend:?}: created")
        };
        let mut claims = Vec::new();
        for _ in 0..10 {
            let store = store.clone();
            claims.push(tokio::spawn(async move {
                store.claim_dispatch(id).await.unwrap().is_some()
            }));
        }
        let mut won = 0;
        for claim in claims {
            won += usize::from(claim.await.unwrap());
        }
        assert_eq!(won, 1, "{backend:?}: exactly one dispatch claim");
        assert_eq!(
            store.operation(id).await.unwrap().unwrap().state,
            OperationState::Dispatched
        );
    }
}

#[tokio::test]
async fn a_direct_rollback_stranded_in_dispatched_is_reclaimed_by_one_caller_once_it_is_old_enough()
{
    use aletheia_bot::domain::OperationState;
    use aletheia_bot::store::{Created, NewOperation, now_ms};
    for (store, url, _dir) in stores_at().await {
        let backend = store.backend();
        let op = NewOperation {
            kind: OperationKind::Rollback,
            env: Some(Env::parse("prod").unwrap()),
            version: "1.2.2".into(),
            release_type: None,
            state: OperationState::Dispatched,
            requested_by: UserId(1),
            chat_id: -5,
            request_id: uuid::Uuid::new_v4().to_string(),
            expires_in_ms: None,
            detail: Some("running=1.2.3".into()),
            run: None,
            direct_ecs: true,
        };
        let Created::New(id) = store
            .create_operation(&op, &audit("operation:rollback"), &[])
            .await
            .unwrap()
        else {
            panic!("{backend:?}: created")
        };
        assert!(store.operation(id).await.unwrap().unwrap().direct_ecs);
        // Claimed just now: not stranded yet.
        let before = now_ms() - 30_000;
        assert!(store.reclaim_direct(id, before).await.unwrap().is_none());
        // A minute later (the bot stopped meanwhile), many pollers at once.
        raw(
            &store,
            &url,
            "UPDATE operations SET updated_at = updated_at - 60000",
        )
        .await;
        let mut claims = Vec::new();
        for _ in 0..10 {
            let store = store.clone();
            claims.push(tokio::spawn(async move {
                store.reclaim_direct(id, now_ms() - 30_000).await.unwrap()
            }));
        }
        let mut won = Vec::new();
        for claim in claims {
            won.extend(claim.await.unwrap());
        }
        assert_eq!(won.len(), 1, "{backend:?}: exactly one reclaim");
        assert_eq!(won[0].operation().id, id.0);
        assert!(won[0].operation().direct_ecs);
        // A deploy (no direct rollback) is never reclaimed this way.
        let deploy = NewOperation {
            kind: OperationKind::Deploy,
            env: Some(Env::parse("dev").unwrap()),
            direct_ecs: false,
            request_id: uuid::Uuid::new_v4().to_string(),
            ..op
        };
        let Created::New(other) = store
            .create_operation(&deploy, &audit("operation:deploy"), &[])
            .await
            .unwrap()
        else {
            panic!("{backend:?}: created")
        };
        raw(
            &store,
            &url,
            "UPDATE operations SET updated_at = updated_at - 60000",
        )
        .await;
        assert!(
            store
                .reclaim_direct(other, now_ms() - 30_000)
                .await
                .unwrap()
                .is_none()
        );
    }
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

#[tokio::test]
async fn an_alert_is_leased_to_one_sender_at_a_time() {
    for (store, _dir) in stores().await {
        store.enqueue_alerts(&[alert("x", -1)]).await.unwrap();
        let id = store.due_alerts(10, 10).await.unwrap()[0].id;
        assert!(
            store.lease_alert(id, 60_000, "a").await.unwrap(),
            "{:?}",
            store.backend()
        );
        assert!(
            !store.lease_alert(id, 60_000, "a").await.unwrap(),
            "{:?}: taken twice",
            store.backend()
        );
        assert!(
            store.due_alerts(10, 10).await.unwrap().is_empty(),
            "a leased alert is not due"
        );
    }
}

#[tokio::test]
async fn a_mute_keeps_alerts_out_of_one_chat_but_never_prod_failures_or_prompts() {
    for (store, _dir) in stores().await {
        let backend = store.backend();
        let mute = |target: &str| aletheia_bot::store::MuteRow {
            chat_id: -1,
            target: target.into(),
            until: aletheia_bot::store::now_ms() + 3_600_000,
            muted_by: 2,
            spare_env: Some("prod".into()),
        };
        store.mute(&mute("prod"), &audit("mute")).await.unwrap();
        store.mute(&mute("failure"), &audit("mute")).await.unwrap();
        // Muting the same target again replaces the mute.
        store.mute(&mute("failure"), &audit("mute")).await.unwrap();
        let make = |key: &str, kind: AlertKind, env: Option<&str>, chat: i64| NewAlert {
            kind,
            env: env.map(|e| Env::parse(e).unwrap()),
            ..alert(key, chat)
        };
        let inserted = store
            .enqueue_alerts(&[
                make("deployed", AlertKind::Deployment, Some("prod"), -1),
                make("staging-failed", AlertKind::Failure, Some("staging"), -1),
                make("prod-failed", AlertKind::Failure, Some("prod"), -1),
                make("prompt", AlertKind::Approval, Some("prod"), -1),
                make("elsewhere", AlertKind::Deployment, Some("prod"), -2),
                make(
                    "staging-deployed",
                    AlertKind::Deployment,
                    Some("staging"),
                    -1,
                ),
                make("prod-health", AlertKind::Health, Some("prod"), -1),
                NewAlert {
                    urgent: true,
                    ..make(
                        "prod-failed-as-deployment",
                        AlertKind::Deployment,
                        Some("prod"),
                        -1,
                    )
                },
            ])
            .await
            .unwrap();
        let mut keys: Vec<String> = store
            .all_alerts()
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.dedup_key)
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "elsewhere@-2",
                "prod-failed-as-deployment@-1",
                "prod-failed@-1",
                "prod-health@-1",
                "prompt@-1",
                "staging-deployed@-1"
            ],
            "{backend:?}"
        );
        assert_eq!(inserted, 6, "{backend:?}");
        assert!(store.unmute(-1, "prod", &audit("unmute")).await.unwrap());
        assert!(!store.unmute(-1, "prod", &audit("unmute")).await.unwrap());
        store
            .enqueue_alerts(&[make("deployed", AlertKind::Deployment, Some("prod"), -1)])
            .await
            .unwrap();
        assert_eq!(store.all_alerts().await.unwrap().len(), 7, "{backend:?}");
    }
}

#[tokio::test]
async fn the_leader_lease_has_one_holder_until_it_expires_and_updates_are_taken_once() {
    for (store, _dir) in stores().await {
        assert!(store.try_lease("leader", "a", 60_000).await.unwrap());
        // Renewed by its holder, refused to another while it runs.
        assert!(store.try_lease("leader", "a", 60_000).await.unwrap());
        assert!(!store.try_lease("leader", "b", 60_000).await.unwrap());
        assert_eq!(
            store.lease_holder("leader").await.unwrap().as_deref(),
            Some("a")
        );
        // Given up: the next one takes it at once.
        store.release_lease("leader", "b").await.unwrap();
        assert!(!store.try_lease("leader", "b", 60_000).await.unwrap());
        store.release_lease("leader", "a").await.unwrap();
        assert!(store.try_lease("leader", "b", 1).await.unwrap());
        // Expired (1 ms): taken over.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !store.try_lease("leader", "a", 60_000).await.unwrap() {
            assert!(
                std::time::Instant::now() < deadline,
                "an expired lease is taken over"
            );
        }
        assert!(!store.try_lease("leader", "b", 60_000).await.unwrap());

        assert!(store.first_sight(42).await.unwrap());
        assert!(!store.first_sight(42).await.unwrap());
        assert!(store.first_sight(43).await.unwrap());
        assert_eq!(store.forget_updates(i64::MAX).await.unwrap(), 2);
        assert!(store.first_sight(42).await.unwrap());
    }
}

/// A deploy of 1.3.0 to dev, asked for in chat -5, created in `state`.
async fn dev_deploy(
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

#[tokio::test]
async fn what_ran_before_is_noted_once_ahead_of_what_the_detail_says() {
    use aletheia_bot::domain::OperationState;
    for (store, _dir) in stores().await {
        let id = dev_deploy(&store, OperationState::Approved, None).await;
        store.note_ran_before(id, "1.2.3").await.unwrap();
        store.note_ran_before(id, "1.2.9").await.unwrap();
        let op = store.operation(id).await.unwrap().unwrap();
        assert_eq!(op.ran_before(), Some("1.2.3"), "{:?}", store.backend());
        assert_eq!(op.detail.as_deref(), Some("running=1.2.3"));

        // Failed first (its detail the error), noted after: both kept.
        let id = dev_deploy(&store, OperationState::Failed, Some("HTTP 502")).await;
        store.note_ran_before(id, "1.2.3").await.unwrap();
        let op = store.operation(id).await.unwrap().unwrap();
        assert_eq!(op.ran_before(), Some("1.2.3"), "{:?}", store.backend());
        assert_eq!(op.detail.as_deref(), Some("running=1.2.3 · HTTP 502"));
    }
}

#[tokio::test]
async fn progress_is_enqueued_only_while_the_operation_runs() {
    use aletheia_bot::domain::OperationState;
    for (store, _dir) in stores().await {
        let id = dev_deploy(&store, OperationState::Dispatched, None).await;
        let live = [OperationState::Dispatched, OperationState::Running];
        let progress = |n: u32| NewAlert {
            edit_of: Some("op:1:dispatched@-5".into()),
            ..alert(&format!("op:1:dispatched:jobs-{n}of3"), -5)
        };
        assert!(
            store
                .enqueue_while(id, &live, &[progress(1)])
                .await
                .unwrap()
        );
        // The run ends: progress told after the outcome would be old news.
        assert!(
            store
                .transition(
                    id,
                    Transition::new(&live, OperationState::Failed),
                    &audit("run:deploy"),
                    &[]
                )
                .await
                .unwrap()
        );
        assert!(
            !store
                .enqueue_while(id, &live, &[progress(2)])
                .await
                .unwrap()
        );
        let keys: Vec<String> = store
            .all_alerts()
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.dedup_key)
            .collect();
        assert_eq!(keys, ["op:1:dispatched:jobs-1of3@-5"]);
    }
}

#[tokio::test]
async fn a_chat_with_a_backlog_does_not_starve_the_others() {
    for (store, _dir) in stores().await {
        for chat in [-100, -200] {
            let storm: Vec<NewAlert> = (0..5).map(|i| alert(&format!("storm-{i}"), chat)).collect();
            store.enqueue_alerts(&storm).await.unwrap();
        }
        store.enqueue_alerts(&[alert("prompt", 42)]).await.unwrap();
        let due = |limit| {
            let store = store.clone();
            async move {
                store
                    .due_alerts(limit, 2)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|a| a.dedup_key)
                    .collect::<Vec<String>>()
            }
        };
        // Every chat's first before any chat's second: however small the
        // batch, the storms fill it no more than the prompt's chat.
        assert_eq!(due(3).await, ["storm-0@-100", "storm-0@-200", "prompt@42"]);
        assert_eq!(
            due(10).await,
            [
                "storm-0@-100",
                "storm-0@-200",
                "prompt@42",
                "storm-1@-100",
                "storm-1@-200"
            ]
        );
    }
}

#[tokio::test]
async fn a_run_once_attached_is_never_replaced() {
    use aletheia_bot::domain::OperationState;
    let live = [OperationState::Dispatched, OperationState::Running];
    for (store, _dir) in stores().await {
        let backend = store.backend();
        let id = dev_deploy(&store, OperationState::Dispatched, None).await;
        let run = |n: i64| (n, "https://github.com/o/r/actions/runs/n");
        assert!(
            store
                .transition(
                    id,
                    Transition::new(&live, OperationState::Running).run(Some(run(1))),
                    &audit("run"),
                    &[]
                )
                .await
                .unwrap()
        );
        // Another run's end does not move it, and its run stays.
        assert!(
            !store
                .transition(
                    id,
                    Transition::new(&live, OperationState::Failed).run(Some(run(2))),
                    &audit("run"),
                    &[]
                )
                .await
                .unwrap(),
            "{backend:?}"
        );
        // Told again (a dispatch answering late), the run it has stays.
        store
            .record_dispatch(id, Some(3), Some("https://x/3"), &audit("dispatch"), &[])
            .await
            .unwrap();
        let op = store.operation(id).await.unwrap().unwrap();
        assert_eq!(
            (op.state.as_str(), op.run_id),
            ("running", Some(1)),
            "{backend:?}"
        );
        // Its own run moves it.
        assert!(
            store
                .transition(
                    id,
                    Transition::new(&live, OperationState::Failed).run(Some(run(1))),
                    &audit("run"),
                    &[]
                )
                .await
                .unwrap()
        );
    }
}
