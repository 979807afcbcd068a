-- A rollback asked for while GitHub was unreachable runs directly on ECS
-- (UpdateService) once approved, not through the Rollback workflow: the
-- operation remembers which way it goes, so whoever claims it after the
-- approval (another instance, the bot after a restart) goes the same way.
ALTER TABLE operations ADD COLUMN direct_ecs BOOLEAN NOT NULL DEFAULT FALSE;
