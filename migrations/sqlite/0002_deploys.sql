-- Deploys: prompts with buttons and edits of them go through the outbox;
-- QA verdicts on a version in an environment. Keep in step with ../postgres.

-- Inline keyboard of the message, as JSON [[{"text": …, "data": …}]];
-- NULL for none. On an edit row, NULL removes the keyboard.
ALTER TABLE alert_outbox ADD COLUMN buttons TEXT;
-- When set, this row edits the message the row with this de-duplication
-- key became, instead of sending a new one.
ALTER TABLE alert_outbox ADD COLUMN edit_of TEXT;

CREATE TABLE verifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    env        TEXT    NOT NULL,
    version    TEXT    NOT NULL,
    verdict    TEXT    NOT NULL CHECK (verdict IN ('verified', 'issues')),
    user_id    BIGINT  NOT NULL,
    decided_at BIGINT  NOT NULL
);
CREATE INDEX verifications_by_version ON verifications (env, version);
