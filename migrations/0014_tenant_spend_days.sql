-- Up Migration

-- What each tenant's executions cost in USD, per UTC day they were created in (DESIGN: Tenants).
-- A budget check used to sum the usage of every execution created this month, a read that grows
-- with the tenant's runs (a busy tenant's admission then scanned hundreds of thousands of rows);
-- it now reads at most a month of days. Kept by triggers on every new row and change of a row's
-- usage, whoever writes it, so workers of an earlier version keep it right during a rolling deploy.
CREATE TABLE tenant_spend_days (
  tenant text NOT NULL,
  day date NOT NULL,
  usd numeric NOT NULL,
  PRIMARY KEY (tenant, day)
);

-- A usage report's cost when it is in USD: the only currency budgets count (no conversion).
CREATE FUNCTION usage_cost_usd(usage jsonb) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN usage -> 'cost' ->> 'currency' = 'USD' AND jsonb_typeof(usage -> 'cost' -> 'amount') = 'number'
    THEN (usage -> 'cost' ->> 'amount')::numeric
  END
$$;

-- A row's usage holds the run's running totals, so a change adds its difference to the day.
CREATE FUNCTION executions_count_spend_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  delta numeric := coalesce(usage_cost_usd(NEW.usage), 0) - coalesce(usage_cost_usd(OLD.usage), 0);
BEGIN
  IF delta <> 0 THEN
    INSERT INTO tenant_spend_days AS spent (tenant, day, usd)
      VALUES (NEW.tenant, (NEW.created_at AT TIME ZONE 'UTC')::date, delta)
      ON CONFLICT (tenant, day) DO UPDATE SET usd = spent.usd + EXCLUDED.usd;
  END IF;
  RETURN NULL;
END
$$;

-- New rows, counted once per statement (a bulk insert adds each day once). Their days are made
-- sure of even when they cost nothing (a tenant with runs this month is listed), without taking
-- the day's row lock: only a cost waits for another's.
CREATE FUNCTION executions_count_spend_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO tenant_spend_days AS spent (tenant, day, usd)
    SELECT tenant, (created_at AT TIME ZONE 'UTC')::date, sum(usage_cost_usd(usage)) FROM added
    GROUP BY 1, 2 HAVING sum(usage_cost_usd(usage)) <> 0
    ON CONFLICT (tenant, day) DO UPDATE SET usd = spent.usd + EXCLUDED.usd;
  INSERT INTO tenant_spend_days (tenant, day, usd)
    SELECT DISTINCT tenant, (created_at AT TIME ZONE 'UTC')::date, 0 FROM added
    ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;

-- No write between the triggers and the backfill below: each change is counted exactly once.
LOCK TABLE executions IN SHARE ROW EXCLUSIVE MODE;

CREATE TRIGGER executions_count_spend_change AFTER UPDATE OF usage ON executions
  FOR EACH ROW WHEN (OLD.usage IS DISTINCT FROM NEW.usage) EXECUTE FUNCTION executions_count_spend_change();
CREATE TRIGGER executions_count_spend_added AFTER INSERT ON executions
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION executions_count_spend_added();

INSERT INTO tenant_spend_days (tenant, day, usd)
  SELECT tenant, (created_at AT TIME ZONE 'UTC')::date, coalesce(sum(usage_cost_usd(usage)), 0)
  FROM executions
  GROUP BY 1, 2;

-- Down Migration
DROP TRIGGER executions_count_spend_added ON executions;
DROP TRIGGER executions_count_spend_change ON executions;
DROP FUNCTION executions_count_spend_added();
DROP FUNCTION executions_count_spend_change();
DROP FUNCTION usage_cost_usd(jsonb);
DROP TABLE tenant_spend_days;
