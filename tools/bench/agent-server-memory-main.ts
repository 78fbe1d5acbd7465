import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgentClient } from '../../src/agent/agent-client.js';
import { demoAgentConfig } from '../../src/agent-server/demo-agents.js';
import { waitUntil } from '../../src/util/wait-until.js';
import { startAgentServerProcess } from '../processes/agent-server-process.js';

/**
 * `npm run bench:agent-server-memory`: the reference agent server's memory (its own process, read
 * from /proc) after RUNS runs of MB megabytes of output each, CONCURRENCY at a time, with the
 * default limits on kept runs and output.
 */
const runs = Number(process.env.RUNS ?? 1000);
const megabytes = Number(process.env.MB ?? 8);
const concurrency = Number(process.env.CONCURRENCY ?? 8);

if (process.argv.includes('--help')) {
  console.log('usage: npm run bench:agent-server-memory  (RUNS=1000 runs of MB=8 megabytes of output, CONCURRENCY=8 at a time)');
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'lifeline-agent-memory-'));
const configPath = join(dir, 'agents.json');
writeFileSync(configPath, JSON.stringify({ agents: { big: demoAgentConfig('t') } }));
const server = await startAgentServerProcess({ configPath, env: { ...process.env, LIFELINE_LOG_LEVEL: 'warn' } });
const memory = () => {
  const status = readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
};
try {
  const client = createAgentClient({ baseUrl: `${server.url}/agents/big`, token: 't', requestTimeoutMs: 60_000 });
  const before = memory();
  const startedAt = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < runs; i = next++) {
        const id = `run-${i}`;
        await client.start({ id, prompt: `big-output ${megabytes}`, timeoutSeconds: 600 });
        await waitUntil(async () => (await client.get(id, undefined, { waitSeconds: 30 }))?.status !== 'running', {
          what: `${id} to end`,
          timeoutMs: 120_000,
        });
        if ((i + 1) % 100 === 0) console.error(`${i + 1}/${runs} runs`);
      }
    }),
  );
  const after = memory();
  const kept = (await client.listRunning()).length;
  console.log(
    `runs                        ${runs} of ${megabytes} MB output, ${concurrency} at a time, in ${((Date.now() - startedAt) / 1000).toFixed(0)} s`,
  );
  console.log(`agent server RSS before     ${before.rssMiB.toFixed(0)} MiB`);
  console.log(`agent server RSS after      ${after.rssMiB.toFixed(0)} MiB (peak ${after.peakMiB.toFixed(0)} MiB)`);
  console.log(`still running               ${kept}`);
} finally {
  await server.stop(5000);
  rmSync(dir, { recursive: true, force: true });
}
