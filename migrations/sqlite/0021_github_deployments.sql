-- GitHub Deployments kept in step with the bot's deploys and rollbacks
-- (`github.deployments`): each step of an operation's record on GitHub
-- (the deployment's statuses, in order) is written here in the same
-- transaction as the move that causes it, and posted by the leader with
-- retries, so a GitHub outage or a restart loses none and sends none twice.
CREATE TABLE deployment_steps (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    operation_id    BIGINT  NOT NULL,
    status          TEXT    NOT NULL
        CHECK (status IN ('queued', 'in_progress', 'success', 'failure', 'inactive')),
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dropped')),
    -- Attempts started (counted before the call): one started and not
    -- finished is looked up on GitHub before it is made again.
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    UNIQUE (operation_id, status)
);
CREATE INDEX deployment_steps_pending ON deployment_steps (state, id);

-- The GitHub Deployment that records the operation, once created.
ALTER TABLE operations ADD COLUMN github_deployment_id BIGINT;
