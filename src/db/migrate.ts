import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { Logger } from '../util/logger.js';

export const migrationsDir = fileURLToPath(new URL('../../migrations', import.meta.url));

/**
 * Applies pending migrations. node-pg-migrate records applied ones in `pgmigrations` and holds an
 * advisory lock while it runs, so concurrent starts (several workers) and repeated runs are safe.
 */
export async function migrate(databaseUrl: string, log: Logger): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: migrationsDir,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    checkOrder: true,
    // Several workers starting at once: the later ones wait for the lock instead of failing.
    advisoryLockMode: 'wait',
    logger: { debug: () => undefined, info: (m) => log.debug(m), warn: (m) => log.warn(m), error: (m) => log.error(m) },
  });
  const names = applied.map((m) => m.name);
  if (names.length > 0) log.info({ migrations: names }, 'applied database migrations');
  return names;
}
