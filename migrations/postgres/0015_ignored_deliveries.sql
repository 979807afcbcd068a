-- A webhook delivery that is not the bot's (another repository's, from an
-- organisation-wide webhook) is stored as received, with why it was
-- ignored, and changes nothing else.
ALTER TABLE webhook_deliveries ADD COLUMN ignored TEXT;
