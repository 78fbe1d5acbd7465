-- Up Migration

-- Every transition is announced on the `lifeline_transitions` channel (LISTEN lifeline_transitions)
-- for dashboards, in the same transaction as the write: listeners see only committed transitions.
CREATE FUNCTION execution_transitions_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('lifeline_transitions', json_build_object(
    'executionId', NEW.execution_id,
    'from', NEW.from_status,
    'to', NEW.to_status,
    'actor', NEW.actor,
    'reason', left(NEW.reason, 500),
    'at', NEW.at
  )::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER execution_transitions_notify AFTER INSERT ON execution_transitions
  FOR EACH ROW EXECUTE FUNCTION execution_transitions_notify();

-- Down Migration
DROP TRIGGER execution_transitions_notify ON execution_transitions;
DROP FUNCTION execution_transitions_notify();
