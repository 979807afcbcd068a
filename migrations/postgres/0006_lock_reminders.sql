-- A lock held without a time limit is recalled to the chat daily; this is
-- when it last was.
ALTER TABLE env_locks ADD COLUMN reminded_at BIGINT;
