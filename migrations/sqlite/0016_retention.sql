-- Retention: sent alerts and webhook payloads are pruned once old; what
-- an alert is about must be known without parsing its key, so that an
-- operation still live (or lately ended) keeps every message it may
-- still edit or look up. Keep in step with ../postgres.

-- The operation an alert is about (its key's `op:N:`), NULL for the
-- others (releases, locks, health).
ALTER TABLE alert_outbox ADD COLUMN operation_id BIGINT;
UPDATE alert_outbox
   SET operation_id = CAST(substr(dedup_key, 4, instr(substr(dedup_key, 4), ':') - 1) AS INTEGER)
 WHERE dedup_key GLOB 'op:[0-9]*:*';
CREATE INDEX alert_outbox_by_operation ON alert_outbox (operation_id);
-- The oldest sent alerts first, without reading the younger ones.
CREATE INDEX alert_outbox_by_state_age ON alert_outbox (state, created_at);
-- The oldest deliveries first; and of those, the ones whose payload is
-- still there (an emptied one is not read again).
CREATE INDEX webhook_deliveries_by_age ON webhook_deliveries (received_at);
CREATE INDEX webhook_deliveries_payload_by_age ON webhook_deliveries (received_at) WHERE payload <> '';
