-- Up Migration

-- The team an execution runs for (DESIGN: Tenants). Rows from before tenants belong to `default`.
-- The pattern is checked for new rows only: validating it would scan a table that may be large.
ALTER TABLE executions ADD COLUMN tenant text NOT NULL DEFAULT 'default';
ALTER TABLE executions ADD CONSTRAINT executions_tenant_name CHECK (tenant ~ '^[a-z0-9][a-z0-9_-]{0,62}$') NOT VALID;
CREATE INDEX executions_tenant_created_idx ON executions (tenant, created_at DESC);

-- What a tenant may hold and spend. A tenant without a row has the defaults: weight 1, priority 3,
-- no limits, no budgets. Workers read it at each admission and slot try, so a change needs no restart.
CREATE TABLE tenants (
  name text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  weight numeric NOT NULL DEFAULT 1 CHECK (weight >= 0.01 AND weight <= 1000),
  priority integer NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5),
  max_running integer CHECK (max_running BETWEEN 1 AND 100000),
  max_running_per_agent integer CHECK (max_running_per_agent BETWEEN 1 AND 100000),
  daily_budget_usd numeric CHECK (daily_budget_usd > 0 AND daily_budget_usd <= 1e9),
  monthly_budget_usd numeric CHECK (monthly_budget_usd > 0 AND monthly_budget_usd <= 1e9),
  over_budget text NOT NULL DEFAULT 'stop' CHECK (over_budget IN ('stop', 'finish')),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE tenants;
DROP INDEX executions_tenant_created_idx;
ALTER TABLE executions DROP COLUMN tenant;
