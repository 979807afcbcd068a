-- The bot's state: operations and their approvals, the audit log, the
-- alert outbox, GitHub webhook deliveries, environment locks, dialogues.
-- Times are Unix milliseconds (UTC). Keep in step with ../postgres.

CREATE TABLE operations (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    kind              TEXT    NOT NULL CHECK (kind IN ('release', 'deploy', 'rollback')),
    env               TEXT,
    version           TEXT    NOT NULL,
    release_type      TEXT,
    state             TEXT    NOT NULL,
    requested_by      BIGINT  NOT NULL,
    chat_id           BIGINT  NOT NULL,
    request_id        TEXT    NOT NULL UNIQUE,
    prompt_message_id BIGINT,
    run_id            BIGINT,
    run_url           TEXT,
    detail            TEXT,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL,
    expires_at        BIGINT
);
-- One live operation per environment, enforced by the database itself.
CREATE UNIQUE INDEX operations_one_live_per_env ON operations (env)
    WHERE env IS NOT NULL
      AND state IN ('requested', 'awaiting_approval', 'approved', 'dispatched', 'running');
CREATE INDEX operations_by_state ON operations (state);

CREATE TABLE approvals (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    operation_id BIGINT  NOT NULL REFERENCES operations (id),
    user_id      BIGINT  NOT NULL,
    decision     TEXT    NOT NULL CHECK (decision IN ('approve', 'reject')),
    decided_at   BIGINT  NOT NULL,
    UNIQUE (operation_id, user_id)
);

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           BIGINT  NOT NULL,
    actor        BIGINT,
    chat_id      BIGINT,
    action       TEXT    NOT NULL,
    outcome      TEXT    NOT NULL,
    operation_id BIGINT,
    detail       TEXT    NOT NULL
);
CREATE INDEX audit_log_by_operation ON audit_log (operation_id);

CREATE TABLE alert_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key       TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL,
    env             TEXT,
    chat_id         BIGINT  NOT NULL,
    thread_id       BIGINT,
    text            TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    last_error      TEXT,
    message_id      BIGINT,
    created_at      BIGINT  NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX alert_outbox_due ON alert_outbox (state, next_attempt_at);

CREATE TABLE webhook_deliveries (
    delivery_id  TEXT   PRIMARY KEY,
    event        TEXT   NOT NULL,
    action       TEXT,
    payload      TEXT   NOT NULL,
    received_at  BIGINT NOT NULL,
    processed_at BIGINT
);

CREATE TABLE env_locks (
    env        TEXT   PRIMARY KEY,
    locked_by  BIGINT NOT NULL,
    reason     TEXT   NOT NULL,
    locked_at  BIGINT NOT NULL,
    expires_at BIGINT
);

CREATE TABLE dialogues (
    chat_id    BIGINT PRIMARY KEY,
    state      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);
