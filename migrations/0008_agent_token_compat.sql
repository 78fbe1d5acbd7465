-- Up Migration

-- Workers of the release before 0004 read agents.auth_token, and its CLI writes it. During a rolling
-- deploy, or while an old build drains under Worker Versioning, they run beside workers that
-- migrated: this column, kept equal to a literal's token by the trigger below, lets them go on
-- calling their agents (and their CLI go on registering them). A reference (env:, file:) has no
-- stored token, so an old worker cannot call such an agent: register agents as references once no
-- worker of the old release is left (README). The column and the trigger go in a later release.
ALTER TABLE agents ADD COLUMN auth_token text;
UPDATE agents SET auth_token = token_ref WHERE token_source = 'literal';

CREATE FUNCTION agents_token_compat() RETURNS trigger AS $$
BEGIN
  -- A write of the old release names only auth_token: a literal token. On an update, that is an
  -- auth_token that changed while the columns of this release did not.
  IF NEW.token_source IS NULL OR (TG_OP = 'UPDATE'
      AND NEW.auth_token IS DISTINCT FROM OLD.auth_token
      AND NEW.token_ref IS NOT DISTINCT FROM OLD.token_ref
      AND NEW.token_source IS NOT DISTINCT FROM OLD.token_source) THEN
    NEW.token_source := 'literal';
    NEW.token_ref := NEW.auth_token;
  END IF;
  NEW.auth_token := CASE WHEN NEW.token_source = 'literal' THEN NEW.token_ref END;
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER agents_token_compat BEFORE INSERT OR UPDATE ON agents
  FOR EACH ROW EXECUTE FUNCTION agents_token_compat();

-- Down Migration
DROP TRIGGER agents_token_compat ON agents;
DROP FUNCTION agents_token_compat();
ALTER TABLE agents DROP COLUMN auth_token;
