-- Up Migration

-- Ended executions whose agent process may still run: their workflow keeps stopping it and keeps
-- its capacity slot meanwhile (DESIGN: Capacity slots). Written by the conclusion before the row's
-- terminal write, deleted once the slot is released, so at every moment an execution that holds
-- capacity is either a live row or here: what leases are rebuilt from when Redis lost them.
-- A table of its own: terminal rows of `executions` are frozen by their guard trigger.
CREATE TABLE slot_holds (
  execution_id text PRIMARY KEY REFERENCES executions (id) ON DELETE CASCADE,
  agent text NOT NULL,
  since timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX slot_holds_agent ON slot_holds (agent);

-- Down Migration
DROP TABLE slot_holds;
