-- Up Migration

-- Agent protocol 2, usage. An agent may report what a run used (tokens, cost with its currency,
-- model) while it runs and at its end; the row keeps the last report, running totals as the agent
-- sent them (src/domain/usage.ts validates it before it is written). An execution may set a budget
-- in US dollars: a reported cost in USD above it stops the run, which ends failed/budget_exceeded.
ALTER TABLE executions
  ADD COLUMN usage jsonb CHECK (jsonb_typeof(usage) = 'object'),
  ADD COLUMN max_cost_usd numeric CHECK (max_cost_usd > 0 AND max_cost_usd <= 1000000);

-- Down Migration
ALTER TABLE executions DROP COLUMN max_cost_usd, DROP COLUMN usage;
