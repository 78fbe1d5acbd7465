import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchAttributes } from '../src/domain/search-attributes.js';
import { silentLogger } from '../src/util/logger.js';
import { ensureExampleVenv } from '../tools/python/python-venv.js';
import { cliEnvironment } from './support/cli-process.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';

const run = promisify(execFile);
const example = fileURLToPath(new URL('../examples/python/lifeline_scheduler.py', import.meta.url));

/** examples/python: a scheduler with Temporal's Python SDK and no Lifeline code, against a real Lifeline. */
describe('the Python scheduler example', () => {
  let h: Harness;
  let python: string;
  beforeAll(async () => {
    [python, h] = await Promise.all([ensureExampleVenv(silentLogger()), startHarness({ agents: { demo: { capacity: 2 } } })]);
  }, 300_000);
  afterAll(async () => h?.close());

  async function runExample(...args: string[]): Promise<Record<string, Record<string, unknown>>> {
    const env = cliEnvironment(h, { TEMPORAL_NAMESPACE: h.namespace });
    const { stdout } = await run(python, [example, ...args], { env, timeout: 120_000 });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, Record<string, unknown>>;
  }

  it('starts an execution by type name and JSON input, queries its state, and reads a succeeded result and row', async () => {
    const seen = await runExample('run', h.agent('demo'), 'succeed 1 started from Python');
    expect(seen.state).toMatchObject({ agent: h.agent('demo') });
    expect(seen.result).toMatchObject({ status: 'succeeded' });
    expect(seen.row).toMatchObject({ status: 'succeeded', errorKind: null });
    expect(seen.row!.output).toContain('started from Python');
    expect(await h.client.getExecution(String(seen.executionId))).toMatchObject({ trigger: 'python', tenant: 'default' });
    const described = await h.temporal.workflow.getHandle(String(seen.executionId)).describe();
    expect(described.typedSearchAttributes.get(searchAttributes.tenant)).toBe('default');
  });

  it('stops a running execution with the stop signal, and finds it cancelled', async () => {
    const seen = await runExample('stop', h.agent('demo'));
    expect(seen.state).toMatchObject({ phase: 'running', status: 'running' });
    expect(seen.result).toMatchObject({ status: 'cancelled', errorKind: 'cancelled_by_operator' });
    expect(seen.row).toMatchObject({ status: 'cancelled', errorKind: 'cancelled_by_operator' });
  });
});
