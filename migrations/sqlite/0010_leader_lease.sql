-- Who does the singleton work (polling Telegram and GitHub, the outbox,
-- the monitor, expiries): the instance holding the lease, renewed well
-- before it expires; another instance takes it over once it has expired.
CREATE TABLE leases (
    name       TEXT   PRIMARY KEY,
    holder     TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Telegram updates already taken: an update redelivered (after a restart
-- before its offset was confirmed, a webhook retried to another instance)
-- is handled once.
CREATE TABLE telegram_updates (
    update_id BIGINT PRIMARY KEY,
    seen_at   BIGINT NOT NULL
);

-- Who took an alert for sending (the leader lease's holder name): the
-- same instance restarted after a crash sends what it had in hand again at
-- once instead of waiting out its own lease.
ALTER TABLE alert_outbox ADD COLUMN leased_by TEXT;
-- Edits are looked up by the message they edit.
CREATE INDEX alert_outbox_by_edit_of ON alert_outbox (edit_of);
