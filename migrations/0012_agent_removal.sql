-- Up Migration

-- `lifeline agents remove`: an agent's row stays (its executions' history refers to it) and is
-- marked removed. New executions refuse it; runs it still had, when removed with --force, reach it
-- until they end. `agents add` with its name again brings it back.
ALTER TABLE agents ADD COLUMN removed_at timestamptz;

-- Down Migration

ALTER TABLE agents DROP COLUMN removed_at;
