-- What /status and /history read stays as fast with a million operations
-- as with ten (benches/e2e "growth").

-- /history of one environment, newest first.
CREATE INDEX operations_by_env ON operations (env, id);
-- /status: the latest successful deploy or rollback of each environment.
CREATE INDEX operations_succeeded_by_env ON operations (env, id)
    WHERE state = 'succeeded' AND kind IN ('deploy', 'rollback');
-- Every workflow_run webhook looks its operation up by the run.
CREATE INDEX operations_by_run ON operations (run_id);
