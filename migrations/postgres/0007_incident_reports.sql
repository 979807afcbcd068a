-- The incident report (a GitHub issue) opened after a rollback: claimed
-- before GitHub is asked, so two taps open one issue.
CREATE TABLE incident_reports (
    operation_id BIGINT PRIMARY KEY REFERENCES operations (id),
    claimed_by   BIGINT NOT NULL,
    claimed_at   BIGINT NOT NULL,
    issue_number BIGINT,
    issue_url    TEXT
);
