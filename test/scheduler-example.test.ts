import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { literalToken } from '../src/domain/token-reference.js';
import { cliEnvironment } from './support/cli-process.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';
import { createPrivateDatabase, type PrivateDatabase } from './support/private-database.js';

const example = fileURLToPath(new URL('./examples/using-it-from-a-scheduler.ts', import.meta.url));

/** The README's scheduler example, run as a user runs it: a script of its own, configured by the environment. */
describe('the README example "Using it from a scheduler"', () => {
  let db: PrivateDatabase;
  let h: Harness;
  beforeAll(async () => {
    // The example names the agent `demo-coder`, as `npm start` registers it: this database has its own.
    db = await createPrivateDatabase('scheduler_example');
    h = await startHarness({ agents: { demo: { capacity: 2 } }, databaseUrl: db.url });
    const demo = h.agent('demo');
    await h.deps.agents.upsert({
      name: 'demo-coder',
      baseUrl: h.agentServer().baseUrlFor(demo),
      token: literalToken(h.agentServerConfig.agents[demo]!.token),
      capacity: 2,
      defaultTimeoutSeconds: null,
    });
  });
  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  it('runs as written: starts an execution, waits for it to succeed, and exits', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', example], { env: cliEnvironment(h), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code, stderr).toBe(0);
    const [, executionId] = /^(\S+): succeeded$/m.exec(stdout) ?? [];
    expect(executionId, stdout).toBeDefined();
    expect((await h.executions.get(executionId!))?.agent).toBe('demo-coder');
  }, 120_000);
});
