-- Ad-hoc freezes (/freeze): deploys to the scope (an environment, or
-- "all") stop until `until_at`. One per scope.
CREATE TABLE env_freezes (
    scope     TEXT   PRIMARY KEY,
    frozen_by BIGINT NOT NULL,
    reason    TEXT   NOT NULL,
    frozen_at BIGINT NOT NULL,
    until_at  BIGINT NOT NULL
);

-- A deploy asked inside a freeze by an approver who overrode it: the
-- reason they gave. Such a deploy is not stopped by a freeze at dispatch.
ALTER TABLE operations ADD COLUMN freeze_override TEXT;
