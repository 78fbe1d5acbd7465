import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startScratchStack } from '../../src/stack/dev-stack.js';
import { createLogger } from '../../src/util/logger.js';
import { median } from './stats.js';

/**
 * `npm run bench:worker-start`: how long a worker takes from its process start to "worker started"
 * (connected, workflows bundled, polling), run through tsx from the TypeScript sources and compiled
 * (`npm run build`), ROUNDS times each, alternating, against one private stack.
 */
const rounds = Number(process.env.ROUNDS ?? 5);
if (process.argv.includes('--help')) {
  console.log('usage: npm run bench:worker-start  (ROUNDS=5 starts of each)');
  process.exit(0);
}

const root = fileURLToPath(new URL('../..', import.meta.url));
const variants = {
  tsx: ['--import', 'tsx', join(root, 'src/worker.ts')],
  compiled: [join(root, 'dist/worker.js')],
} as const;

function timeToStart(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const begun = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.includes('"msg":"worker started"')) return;
      resolve(performance.now() - begun);
      child.kill('SIGTERM');
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it started`)));
  }).finally(() => new Promise((done) => (child.exitCode === null ? child.once('exit', done) : done(undefined)))) as Promise<number>;
}

const log = createLogger('bench', 'warn');
const dir = mkdtempSync(join(tmpdir(), 'lifeline-bench-start-'));
const stack = await startScratchStack(dir, log);
try {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LIFELINE_TEMPORAL_ADDRESS: stack.temporalAddress,
    LIFELINE_TEMPORAL_NAMESPACE: stack.namespace,
    LIFELINE_TASK_QUEUE: 'bench-start',
    DATABASE_URL: stack.databaseUrl,
    REDIS_URL: stack.redisUrl,
    LIFELINE_METRICS_PORT: '0',
    LIFELINE_LOG_LEVEL: 'info',
  };
  const times: Record<keyof typeof variants, number[]> = { tsx: [], compiled: [] };
  for (let round = 1; round <= rounds; round++) {
    for (const name of Object.keys(variants) as (keyof typeof variants)[]) {
      times[name].push(await timeToStart(variants[name], env));
      console.error(`round ${round}/${rounds}: ${name} ${times[name].at(-1)!.toFixed(0)} ms`);
    }
  }
  const tsx = median(times.tsx);
  const compiled = median(times.compiled);
  console.log(
    `worker start, median of ${rounds}: tsx ${tsx.toFixed(0)} ms, compiled ${compiled.toFixed(0)} ms (compiled/tsx ${(compiled / tsx).toFixed(2)})`,
  );
} finally {
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
}
