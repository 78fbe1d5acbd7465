import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { msToTs } from '@temporalio/common/lib/time.js';
import { afterAll, expect, inject, it } from 'vitest';
import { connectTemporalClient } from '../../src/temporal-connection/connect.js';
import { loadTemporalSettings } from '../../src/temporal-connection/connection-settings.js';
import { waitUntil } from '../../src/util/wait-until.js';
import { isolatedEnvironment } from '../../tools/processes/isolated-environment.js';
import { runCli } from '../support/cli-process.js';

const ctx = inject('realServer');
const mainEntry = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const dataDir = mkdtempSync(join(ctx.stackDir, 'first-start-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** A namespace Lifeline has never seen, made as an operator would, before anything of Lifeline's runs. */
async function freshNamespace(): Promise<string> {
  const namespace = `fresh-${randomBytes(3).toString('hex')}`;
  const connection = await connectTemporalClient(loadTemporalSettings({ ...ctx.clientEnv, TEMPORAL_CONFIG_FILE: '/nonexistent' }));
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    await waitUntil(() => connection.workflowService.describeNamespace({ namespace }), {
      what: `namespace ${namespace}`,
      timeoutMs: 60_000,
    });
  } finally {
    await connection.close();
  }
  return namespace;
}

it("npm start's first run on a fresh namespace of a real server over mutual TLS ends its demo executions, and the CLI lists them over the same settings", async () => {
  const namespace = await freshNamespace();
  // Only Temporal's own settings, as a user whose `temporal` CLI reaches that namespace has them.
  const env = isolatedEnvironment({
    TEMPORAL_ADDRESS: ctx.clientEnv.TEMPORAL_ADDRESS!,
    TEMPORAL_NAMESPACE: namespace,
    TEMPORAL_TLS_CLIENT_CERT_PATH: ctx.clientEnv.TEMPORAL_TLS_CLIENT_CERT_PATH!,
    TEMPORAL_TLS_CLIENT_KEY_PATH: ctx.clientEnv.TEMPORAL_TLS_CLIENT_KEY_PATH!,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: ctx.clientEnv.TEMPORAL_TLS_SERVER_CA_CERT_PATH!,
    TEMPORAL_TLS_SERVER_NAME: ctx.clientEnv.TEMPORAL_TLS_SERVER_NAME!,
    LIFELINE_DATA_DIR: dataDir,
    LIFELINE_METRICS_PORT: '0',
  });
  const start = spawn(process.execPath, ['--import', 'tsx', mainEntry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  start.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  start.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => start.once('exit', resolve));
  try {
    const ids = await waitUntil(async () => /Demo executions: (.+)/.exec(stdout)?.[1]?.split(', '), {
      what: 'npm start to start its demo executions',
      timeoutMs: 180_000,
      intervalMs: 250,
      abortReason: () => (start.exitCode !== null ? `npm start exited ${start.exitCode}` : undefined),
      hint: () => `stderr:\n${stderr.slice(-3000)}\nstdout:\n${stdout.slice(-3000)}`,
    });
    expect(ids).toHaveLength(3);
    expect(stdout).not.toMatch(/INVALID_ARGUMENT|no mapping defined/);

    const statuses = await waitUntil(
      async () => {
        const listed = await runCli(['executions', 'list', '--json'], env);
        if (listed.code !== 0) throw new Error(listed.stderr);
        const rows = JSON.parse(listed.stdout) as { id: string; status: string }[];
        const byId = Object.fromEntries(rows.map((r) => [r.id, r.status]));
        const all = ids.map((id) => byId[id]);
        return all.every((s) => s && !['queued', 'running'].includes(s)) ? all : undefined;
      },
      { what: 'the three demo executions to end', timeoutMs: 120_000, intervalMs: 2000 },
    );
    expect(statuses).toEqual(['succeeded', 'failed', 'timed_out']);
  } finally {
    start.kill('SIGINT');
    await exited;
  }
});
