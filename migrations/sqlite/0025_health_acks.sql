-- Who took the health monitor's alarms of one moment ("I'm on it") and
-- when: the first tap wins, and once a row is here those alarms are
-- escalated no further.
CREATE TABLE health_acks (
    env       TEXT   NOT NULL,
    alarm_at  BIGINT NOT NULL,
    acked_by  BIGINT NOT NULL,
    acked_at  BIGINT NOT NULL,
    PRIMARY KEY (env, alarm_at)
);
