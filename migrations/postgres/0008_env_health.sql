-- What the health monitor last saw of each environment, so that it alerts
-- on transitions (once), not on every poll.
CREATE TABLE env_health (
    env              TEXT   PRIMARY KEY,
    -- JSON of the monitor's view (task definition, failed rollouts
    -- alerted, since when tasks are short, health probe streak).
    state            TEXT   NOT NULL,
    updated_at       BIGINT NOT NULL
);
