-- The fat-finger guard: an approver's first Approve tap arms the approval;
-- only a second tap on "Confirm deploy X → env" within the window counts.
CREATE TABLE approval_arms (
    operation_id BIGINT NOT NULL REFERENCES operations (id),
    user_id      BIGINT NOT NULL,
    armed_at     BIGINT NOT NULL,
    PRIMARY KEY (operation_id, user_id)
);
