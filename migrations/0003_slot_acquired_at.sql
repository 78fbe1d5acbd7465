-- Up Migration

-- When a queued execution took its capacity slot. A row stays `queued` until a worker has the agent
-- start the run, so a queued row with this set is admitted and waiting for a worker: what the
-- `lifeline_runs_awaiting_worker` gauge and the reconciler's worker-wait alert count.
ALTER TABLE executions ADD COLUMN slot_acquired_at timestamptz;

-- Down Migration
ALTER TABLE executions DROP COLUMN slot_acquired_at;
