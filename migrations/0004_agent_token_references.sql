-- Up Migration

-- An agent's bearer token is kept in Postgres only when it was registered so explicitly: otherwise
-- the row says where the worker finds it when it calls the agent (src/agent/token-resolution.ts),
-- so a database dump or a read-only role holds no secret, and rotating a token is editing the
-- variable or file, without re-registering the agent.
--   token_source 'env'      token_ref is the name of a variable in the worker's environment
--   token_source 'file'     token_ref is the absolute path of a file on the worker
--   token_source 'literal'  token_ref is the token itself
-- Two columns rather than a prefix inside one: a literal that happens to begin with `env:` stays a
-- literal, the database checks each kind, and a listing reads how a token is held without parsing
-- the value (and never selects a literal's). Rows from before hold their token: they become literal.
ALTER TABLE agents RENAME COLUMN auth_token TO token_ref;
ALTER TABLE agents ADD COLUMN token_source text NOT NULL DEFAULT 'literal'
  CHECK (token_source IN ('env', 'file', 'literal'));
-- New rows say how their token is held; none becomes literal by omission.
ALTER TABLE agents ALTER COLUMN token_source DROP DEFAULT;
-- A literal is not checked here: rows from before must migrate whatever they hold, and the worker
-- refuses an unusable token when it calls the agent.
ALTER TABLE agents ADD CONSTRAINT agents_token_ref_check CHECK (CASE token_source
  WHEN 'env' THEN token_ref ~ '^[A-Za-z_][A-Za-z0-9_]*$'
  WHEN 'file' THEN token_ref LIKE '/%'
  ELSE true
END);

-- Down Migration
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM agents WHERE token_source <> 'literal') THEN
    RAISE EXCEPTION 'agents with an env: or file: token reference cannot go back to stored tokens'
      USING HINT = 'register them again with --token-literal first';
  END IF;
END
$$;
ALTER TABLE agents DROP CONSTRAINT agents_token_ref_check;
ALTER TABLE agents DROP COLUMN token_source;
ALTER TABLE agents RENAME COLUMN token_ref TO auth_token;
