-- The release checklist's items a `/release` asked its requester to tick
-- (copied from the config when it was asked, so a config change or a
-- restart changes nothing), and who ticked each and when.
CREATE TABLE release_checklist (
    operation_id BIGINT  NOT NULL,
    position     BIGINT  NOT NULL,
    item         TEXT    NOT NULL,
    ticked_by    BIGINT,
    ticked_at    BIGINT,
    PRIMARY KEY (operation_id, position)
);
