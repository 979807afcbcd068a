-- Who took a failure ("I'm on it") and when: the first tap wins, and
-- once a row is here the failure is escalated no further.
CREATE TABLE incident_acks (
    operation_id BIGINT PRIMARY KEY,
    acked_by     BIGINT NOT NULL,
    acked_at     BIGINT NOT NULL
);
