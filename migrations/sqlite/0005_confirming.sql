-- After a deploy's or rollback's run succeeds, the bot confirms on ECS (and
-- the health URL) that the service really runs the version: the operation
-- stays live, in 'confirming', until it does ('succeeded') or the time is
-- up ('unhealthy'). Nobody deploys to the env meanwhile.
ALTER TABLE operations ADD COLUMN dispatched_at BIGINT;

DROP INDEX operations_one_live_per_env;
CREATE UNIQUE INDEX operations_one_live_per_env ON operations (env)
    WHERE env IS NOT NULL
      AND state IN ('requested', 'awaiting_approval', 'approved', 'dispatched', 'running', 'confirming');
