-- Up Migration

-- Agent protocol 2, progress. An execution may set an idle timeout: a run whose agent reports no
-- progress for that long is stopped and ends timed_out/agent_stalled. While it runs, the run activity
-- copies the agent's last progress time here (at most every few seconds), so an operator or a
-- dashboard sees a quiet run without asking the agent. Both stay NULL for agents that report none.
ALTER TABLE executions
  ADD COLUMN idle_timeout_seconds integer CHECK (idle_timeout_seconds BETWEEN 5 AND 86400),
  ADD COLUMN last_progress_at timestamptz;

-- Down Migration
ALTER TABLE executions DROP COLUMN last_progress_at, DROP COLUMN idle_timeout_seconds;
