-- A failure alert whose diagnosis (the evidence edited into it) is still
-- to come: set in the same transaction as the alert, cleared in the same
-- transaction as the diagnosis's edit, so an instance that dies between
-- the two leaves the work to another.
ALTER TABLE alert_outbox ADD COLUMN diagnose_pending BIGINT NOT NULL DEFAULT 0;
CREATE INDEX alert_outbox_diagnose_pending ON alert_outbox (diagnose_pending) WHERE diagnose_pending <> 0;
