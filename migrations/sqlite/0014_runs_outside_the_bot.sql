-- Runs started outside the bot (the Release workflow's staging deploy, the
-- GitHub UI) are found by polling as well as by webhook, and followed as
-- operations.

-- A run found while its environment (or, for a release, the releases)
-- already has a live operation cannot take that one slot, yet it changes
-- what runs there and must be told: it is recorded alongside the live
-- operation (its id here), outside the one-live indexes.
ALTER TABLE operations ADD COLUMN alongside BIGINT;

DROP INDEX operations_one_live_per_env;
CREATE UNIQUE INDEX operations_one_live_per_env ON operations (env)
    WHERE env IS NOT NULL
      AND alongside IS NULL
      AND state IN ('requested', 'awaiting_approval', 'approved', 'dispatched', 'running', 'confirming');

DROP INDEX operations_one_live_release;
CREATE UNIQUE INDEX operations_one_live_release ON operations (kind)
    WHERE kind = 'release'
      AND alongside IS NULL
      AND state IN ('requested', 'awaiting_approval', 'approved', 'dispatched', 'running');

-- One operation per run among those recorded alongside (a webhook and the
-- poller finding the same run at once).
CREATE UNIQUE INDEX operations_alongside_by_run ON operations (run_id)
    WHERE alongside IS NOT NULL;

-- What the bot knows of each workflow's runs: none created before it first
-- started (`known_since`), and the poller has listed those created up to
-- `polled_to` (Unix ms). Keyed by the workflow's file name.
CREATE TABLE run_discovery (
    workflow    TEXT   PRIMARY KEY,
    known_since BIGINT NOT NULL,
    polled_to   BIGINT NOT NULL
);
