import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRowStatus } from 'lifeline/testing';
import { waitUntil } from '../src/util/wait-until.js';
import { cliEnvironment, runCli, spawnCli } from './support/cli-process.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';

describe("an execution's live output", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ agents: { demo: { capacity: 5 } } });
  });
  afterAll(async () => h?.close());

  it('is copied into the running row as it grows, and `executions logs --follow` streams it until the execution ends', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'progress 14' });
    await waitForRowStatus(h.executions, executionId, 'running');
    const env = cliEnvironment(h);
    const follower = spawnCli(['executions', 'logs', executionId, '--follow'], env);
    let stdout = '';
    let stderr = '';
    follower.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    follower.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(follower, 'close') as Promise<[number | null]>;
    try {
      // Output of the running execution, read from its row: the agent is never asked by the CLI.
      const running = await waitUntil(
        async () => {
          const row = await h.executions.get(executionId);
          return row?.status === 'running' && stdout.includes('still working (') ? row : undefined;
        },
        { what: 'logs --follow to print output while the execution runs', timeoutMs: 30_000, intervalMs: 200, hint: () => stderr },
      );
      expect(running.output).toContain('still working (');
      expect(running.outputBytes).toBe(Buffer.byteLength(running.output!));

      const [code] = await exited;
      expect(code).toBe(0);
      expect(stderr).toContain(`execution ${executionId} ended succeeded`);
      // Every line once, in order, the ones printed while running and those after the last copy alike.
      const lines = stdout.split('\n').filter((l) => l.includes('still working'));
      expect(lines).toEqual(Array.from({ length: 14 }, (_, i) => `demo agent: execution ${executionId} still working (${i + 1}/14 s)`));
    } finally {
      follower.kill('SIGKILL');
    }

    const done = await runCli(['executions', 'logs', executionId], env);
    expect(done.code).toBe(0);
    expect(done.stdout).toBe((await h.executions.get(executionId))!.output);
  });

  it('`executions logs` of an unknown execution exits 1', async () => {
    const result = await runCli(['executions', 'logs', 'no-such-execution'], cliEnvironment(h));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/not found/);
  });

  it('shows what a terminal would act on (escape sequences, a right-to-left override) instead of printing it raw', async () => {
    const hostile = '\u001b[2J\u001b[31mred \u202eexe.sh';
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: `succeed 0 ${hostile}` });
    expect((await h.client.waitForExecution(executionId, 30_000)).status).toBe('succeeded');
    const env = cliEnvironment(h);
    const shown = await runCli(['executions', 'show', executionId], env);
    const logs = await runCli(['executions', 'logs', executionId], env);
    for (const printed of [shown.stdout, logs.stdout]) {
      expect(printed).toContain('\\x1b[2J\\x1b[31mred \\u202eexe.sh');
      expect(printed).not.toContain('\u001b');
      expect(printed).not.toContain('\u202e');
    }
    expect(shown.stdout).toMatch(/prompt +succeed 0 \\x1b\[2J/);
    const raw = await runCli(['executions', 'logs', executionId, '--raw'], env);
    expect(raw.stdout).toContain(hostile);
  });
});
