-- Up Migration

-- When a worker first sent the agent the start of the run. The row turns `running` only once the
-- agent has accepted it; until then it is `queued` with this set, which the CLI shows as
-- `starting`, and which tells a retried run activity that a start may have reached the agent.
ALTER TABLE executions ADD COLUMN start_sent_at timestamptz;

-- Down Migration

ALTER TABLE executions DROP COLUMN start_sent_at;
