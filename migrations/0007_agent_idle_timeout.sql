-- Up Migration

-- An agent's default idle timeout: its executions that set none are stopped after this long without
-- reported progress (timed_out/agent_stalled). NULL: no default, as before.
ALTER TABLE agents
  ADD COLUMN default_idle_timeout_seconds integer CHECK (default_idle_timeout_seconds BETWEEN 5 AND 86400);

-- Down Migration
ALTER TABLE agents DROP COLUMN default_idle_timeout_seconds;
