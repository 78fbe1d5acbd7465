import { join, resolve } from 'node:path';
import { migrate } from '../db/migrate.js';
import type { Logger } from '../util/logger.js';
import { PostgresServer } from './postgres-server.js';
import { exitsAfterStart, retryOnPortConflict } from './port-conflicts.js';
import { privateDir } from './private-dir.js';
import { RedisServer } from './redis-server.js';
import { ensureTemporalCli } from './temporal-cli.js';
import { startTemporalDevServer, type TemporalDevServer } from './temporal-server.js';

export interface DevStackOptions {
  /** Where data and logs go: a project-local ignored directory, or a temp dir for tests. */
  dir: string;
  log: Logger;
  namespace: string;
  /** Use these instead of starting private servers. */
  temporalAddress?: string;
  databaseUrl?: string;
  redisUrl?: string;
  temporalCliPath?: string;
  temporalUiPort?: number;
  /** Keep Temporal state in a file under `dir` across restarts. */
  persistTemporal?: boolean;
  /** Throwaway data: Postgres without fsync. */
  ephemeral?: boolean;
  onUnexpectedExit?: (message: string) => void;
}

export interface DevStack {
  temporalAddress: string;
  namespace: string;
  temporalUiUrl: string | undefined;
  databaseUrl: string;
  redisUrl: string;
  /** The log of each server it started. */
  logFiles: string[];
  postgres: PostgresServer | undefined;
  redis: RedisServer | undefined;
  temporal: TemporalDevServer | undefined;
  stop(): Promise<void>;
}

/**
 * Brings up Temporal, Postgres and Redis (each one only when no address for it is configured),
 * waits for each to be healthy, and migrates the database. Whatever started is stopped again if
 * a later step fails, and by `stop()`.
 */
export async function startDevStack(opts: DevStackOptions): Promise<DevStack> {
  // Temporal's database, the logs and the servers' passwords are inside: no other local user enters.
  const dir = privateDir(resolve(opts.dir));
  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    await Promise.allSettled(
      started
        .splice(0)
        .reverse()
        .map((s) => s.stop()),
    );
  };
  try {
    // allSettled, not all: a server still starting when another fails must be stopped too.
    const results = await Promise.allSettled([
      (async () => {
        if (opts.temporalAddress) return undefined;
        const cli = await ensureTemporalCli({ explicitPath: opts.temporalCliPath, log: opts.log });
        const exits = exitsAfterStart(opts.onUnexpectedExit);
        const server = await retryOnPortConflict('Temporal dev server', opts.log, () =>
          startTemporalDevServer({
            cli,
            dir,
            namespace: opts.namespace,
            dbFile: opts.persistTemporal ? join(dir, 'temporal.sqlite') : undefined,
            uiPort: opts.temporalUiPort,
            log: opts.log,
            onUnexpectedExit: exits.onUnexpectedExit,
          }),
        );
        exits.up();
        started.push(server);
        return server;
      })(),
      (async () => {
        if (opts.databaseUrl) return undefined;
        const exits = exitsAfterStart(opts.onUnexpectedExit);
        const server = await retryOnPortConflict('Postgres', opts.log, async () => {
          const candidate = await PostgresServer.create({
            dir: join(dir, 'postgres'),
            database: 'lifeline',
            log: opts.log,
            unsafeFast: opts.ephemeral,
            onUnexpectedExit: exits.onUnexpectedExit,
          });
          started.push({
            async stop() {
              await candidate.stop();
              if (opts.ephemeral) candidate.removeData();
            },
          });
          await candidate.start();
          return candidate;
        });
        exits.up();
        return server;
      })(),
      (async () => {
        if (opts.redisUrl) return undefined;
        const exits = exitsAfterStart(opts.onUnexpectedExit);
        const server = await retryOnPortConflict('Redis', opts.log, async () => {
          const candidate = await RedisServer.create({ dir: join(dir, 'redis'), log: opts.log, onUnexpectedExit: exits.onUnexpectedExit });
          started.push(candidate);
          await candidate.start();
          return candidate;
        });
        exits.up();
        return server;
      })(),
    ] as const);
    const failure = results.find((r) => r.status === 'rejected');
    if (failure) throw failure.reason;
    const [temporal, postgres, redis] = results.map((r) => (r.status === 'fulfilled' ? r.value : undefined)) as [
      TemporalDevServer | undefined,
      PostgresServer | undefined,
      RedisServer | undefined,
    ];
    const databaseUrl = opts.databaseUrl ?? postgres!.url;
    await migrate(databaseUrl, opts.log);
    return {
      temporalAddress: opts.temporalAddress ?? temporal!.address,
      namespace: opts.namespace,
      temporalUiUrl: temporal?.uiUrl,
      databaseUrl,
      redisUrl: opts.redisUrl ?? redis!.url,
      logFiles: [temporal?.process.logFile, postgres?.logFile, redis?.logFile].filter((f): f is string => f !== undefined),
      postgres,
      redis,
      temporal,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * A throwaway stack in `dir` for tests, the chaos run and benchmarks: the default namespace,
 * Postgres without fsync, and a server that dies is logged (the run's own checks then fail).
 * `persistTemporal` keeps Temporal's state in a file, for a run that restarts it.
 */
export function startScratchStack(
  dir: string,
  log: Logger,
  temporalAddress?: string,
  opts: { persistTemporal?: boolean } = {},
): Promise<DevStack> {
  return startDevStack({
    dir,
    log,
    namespace: 'default',
    ephemeral: true,
    temporalAddress,
    persistTemporal: opts.persistTemporal,
    temporalCliPath: process.env.LIFELINE_TEMPORAL_CLI,
    onUnexpectedExit: (message) => log.error(message),
  });
}
