-- The automatic rollback's decision after a deploy went wrong: claimed
-- for a while by the instance deciding it, done once decided (asked for,
-- or found not called for). A claim whose holder died runs out, and the
-- leader decides it then; a decision is never taken twice.
CREATE TABLE auto_rollbacks (
    deploy_id      BIGINT PRIMARY KEY,
    claimed_until  BIGINT NOT NULL,
    done           BIGINT NOT NULL DEFAULT 0
);
