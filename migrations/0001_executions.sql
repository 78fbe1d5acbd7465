-- Up Migration

-- Agents that executions run on. The token is a secret: it is read by activities only and never
-- travels through workflow inputs or history.
CREATE TABLE agents (
  name text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  base_url text NOT NULL CHECK (base_url ~ '^https?://'),
  auth_token text NOT NULL,
  capacity integer NOT NULL CHECK (capacity BETWEEN 1 AND 10000),
  default_timeout_seconds integer CHECK (default_timeout_seconds BETWEEN 1 AND 604800),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TYPE execution_status AS ENUM
  ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'skipped');

CREATE FUNCTION execution_status_is_terminal(s execution_status) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT s NOT IN ('queued', 'running') $$;

-- The state machine of DESIGN §3; src/domain/execution-status.ts holds the same table and a test
-- checks that the two agree.
CREATE FUNCTION execution_transition_allowed(from_status execution_status, to_status execution_status)
  RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$
    SELECT CASE from_status
      WHEN 'queued' THEN to_status IN ('running', 'skipped', 'cancelled', 'timed_out', 'failed')
      WHEN 'running' THEN to_status IN ('succeeded', 'failed', 'cancelled', 'timed_out')
      ELSE false
    END
  $$;

CREATE TABLE executions (
  id text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
  agent text NOT NULL REFERENCES agents (name),
  status execution_status NOT NULL DEFAULT 'queued',
  prompt text NOT NULL,
  trigger text NOT NULL,
  schedule_id text,
  busy_policy text NOT NULL CHECK (busy_policy IN ('skip', 'queue')),
  timeout_seconds integer NOT NULL CHECK (timeout_seconds > 0),
  metadata jsonb NOT NULL DEFAULT '{}',
  output text,
  output_bytes bigint,
  output_truncated boolean NOT NULL DEFAULT false,
  exit_code integer,
  error_kind text,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT finished_iff_terminal CHECK (execution_status_is_terminal(status) = (finished_at IS NOT NULL)),
  CONSTRAINT error_kind_unless_succeeded
    CHECK (NOT execution_status_is_terminal(status) OR status = 'succeeded' OR error_kind IS NOT NULL)
);

-- The reconciler and dashboards read only live rows: this index holds only those, so its size
-- follows running work, not history.
CREATE INDEX executions_live_idx ON executions (created_at) WHERE status IN ('queued', 'running');
CREATE INDEX executions_agent_created_idx ON executions (agent, created_at DESC);
CREATE INDEX executions_schedule_created_idx ON executions (schedule_id, created_at DESC)
  WHERE schedule_id IS NOT NULL;

CREATE TABLE execution_transitions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  execution_id text NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
  from_status execution_status,
  to_status execution_status NOT NULL,
  actor text NOT NULL CHECK (actor IN ('workflow', 'reconciler', 'operator')),
  reason text,
  at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX execution_transitions_execution_idx ON execution_transitions (execution_id, id);
-- Exactly one terminal transition per execution, whoever tries to write a second.
CREATE UNIQUE INDEX execution_transitions_one_terminal_idx ON execution_transitions (execution_id)
  WHERE execution_status_is_terminal(to_status);

-- The database itself refuses illegal transitions and any change to a finished row, so no code
-- path (a bug, a manual UPDATE, a racing writer) can resurrect or rewrite a terminal execution.
CREATE FUNCTION executions_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF execution_status_is_terminal(OLD.status) THEN
    RAISE EXCEPTION 'execution % is % (terminal) and cannot change', OLD.id, OLD.status
      USING ERRCODE = 'check_violation', HINT = 'terminal statuses are final';
  END IF;
  IF NEW.status IS DISTINCT FROM OLD.status
     AND NOT execution_transition_allowed(OLD.status, NEW.status) THEN
    RAISE EXCEPTION 'illegal execution status transition % -> % for %', OLD.status, NEW.status, OLD.id
      USING ERRCODE = 'check_violation';
  END IF;
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

CREATE TRIGGER executions_guard BEFORE UPDATE ON executions
  FOR EACH ROW EXECUTE FUNCTION executions_guard();

-- Down Migration
DROP TABLE execution_transitions;
DROP TABLE executions;
DROP FUNCTION executions_guard();
DROP FUNCTION execution_transition_allowed(execution_status, execution_status);
DROP FUNCTION execution_status_is_terminal(execution_status);
DROP TYPE execution_status;
DROP TABLE agents;
