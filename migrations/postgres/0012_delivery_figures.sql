-- /stats and the DORA gauges read one environment's window of history and
-- the releases of the versions deployed in it, not every operation; the
-- operations gauge counts kinds and states from an index, not the table
-- (benches/e2e "growth").

-- One environment's operations by when they reached their state.
CREATE INDEX operations_by_env_updated ON operations (env, updated_at);
-- The successful release of a version (lead time).
CREATE INDEX operations_releases_by_version ON operations (version)
    WHERE kind = 'release' AND state = 'succeeded';
-- Operations by kind and state (the aletheia_operations gauge).
CREATE INDEX operations_by_kind_state ON operations (kind, state);
