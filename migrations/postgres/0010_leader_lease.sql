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

-- An alert taken for sending: a new leader (or the bot restarted after a
-- crash) sends it again at once instead of waiting out the taker's lease.
ALTER TABLE alert_outbox ADD COLUMN leased BOOLEAN NOT NULL DEFAULT FALSE;
