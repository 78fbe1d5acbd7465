import { runCommand } from '../../src/stack/run-command.js';

/** Where a running Postgres listens, and a user allowed to create databases. */
export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  password?: string;
}

export interface TemporalDatabases {
  temporal: string;
  visibility: string;
}

/** `postgres://user[:password]@host:port/...` as given by `PostgresServer.url`; the database part is ignored. */
export function postgresTargetFromUrl(url: string): PostgresTarget {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username),
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
  };
}

export function temporalDatabaseNames(prefix: string): TemporalDatabases {
  return { temporal: `${prefix}_temporal`, visibility: `${prefix}_visibility` };
}

/**
 * Creates `<prefix>_temporal` and `<prefix>_visibility` with the SQL tool's embedded schemas, the
 * way Temporal's own docker setup does. Fails if either exists: a fresh server needs fresh
 * databases, and reusing half-set-up ones would hide the cause of a later failure.
 */
export async function createTemporalDatabases(sqlTool: string, target: PostgresTarget, prefix: string): Promise<TemporalDatabases> {
  const names = temporalDatabaseNames(prefix);
  // The password goes in the environment, so the error (which shows the command) does not print it.
  const env = { ...process.env, SQL_PASSWORD: target.password ?? '' };
  const sql = async (database: string, ...command: string[]) => {
    const args = ['--plugin', 'postgres12', '--endpoint', target.host, '--port', String(target.port), '--user', target.user];
    try {
      await runCommand(sqlTool, [...args, '--database', database, ...command], { env });
    } catch (err) {
      // runCommand's message holds the whole command line and the tool's last output lines.
      throw new Error(`creating Temporal's ${database} database failed: ${(err as Error).message}`);
    }
  };
  const setUp = async (database: string, schema: string) => {
    await sql(database, 'create-database');
    await sql(database, 'setup-schema', '-v', '0.0');
    await sql(database, 'update-schema', '--schema-name', schema);
  };
  // allSettled: the caller may stop Postgres on failure, and must not do so under the other half's commands.
  const results = await Promise.allSettled([
    setUp(names.temporal, 'postgresql/v12/temporal'),
    setUp(names.visibility, 'postgresql/v12/visibility'),
  ]);
  const failure = results.find((r) => r.status === 'rejected');
  if (failure) throw failure.reason;
  return names;
}
