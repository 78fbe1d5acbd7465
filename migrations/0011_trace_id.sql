-- Up Migration

-- The OpenTelemetry trace an execution's spans belong to (32 hex digits), when its worker traced it.
ALTER TABLE executions ADD COLUMN trace_id text CHECK (trace_id ~ '^[0-9a-f]{32}$');

-- Down Migration

ALTER TABLE executions DROP COLUMN trace_id;
