import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRowStatus } from 'lifeline/testing';
import { agentExecution } from '../src/workflows/agent-execution.js';

import { waitUntil } from '../src/util/wait-until.js';
import { waitForAgentProcess } from './support/execution-probes.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';
import { type ExecutionLiveState, stateQuery } from '../src/contract/execution-contract.js';

describe('operators finding executions in Temporal', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ agents: { seek: { capacity: 5 }, other: { capacity: 5 } } });
  });
  afterAll(async () => h?.close());

  async function idsMatching(query: string): Promise<string[]> {
    const ids: string[] = [];
    for await (const wf of h.temporal.workflow.list({ query })) ids.push(wf.workflowId);
    return ids.sort();
  }

  /** Visibility is eventually consistent: poll until the query returns exactly `expected`. */
  async function expectQuery(query: string, expected: string[]): Promise<void> {
    const want = [...expected].sort();
    let last: string[] = [];
    await waitUntil(
      async () => {
        last = await idsMatching(query);
        return JSON.stringify(last) === JSON.stringify(want);
      },
      { what: `visibility query ${query} to return ${want.length} workflows`, timeoutMs: 20_000, intervalMs: 250 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last result: ${JSON.stringify(last)}`);
    });
  }

  it('agent and status search attributes follow every transition', async () => {
    const agent = h.agent('seek');
    const hanging = [
      (await h.client.startExecution({ agent, prompt: 'hang' })).executionId,
      (await h.client.startExecution({ agent, prompt: 'hang' })).executionId,
    ];
    const done = (await h.client.startExecution({ agent, prompt: 'succeed 0 done' })).executionId;
    const elsewhere = (await h.client.startExecution({ agent: h.agent('other'), prompt: 'hang' })).executionId;
    for (const id of hanging) await waitForAgentProcess(h, 'seek', id);
    await waitForAgentProcess(h, 'other', elsewhere);
    await waitForRowStatus(h.executions, done, 'succeeded');

    await expectQuery(`LifelineAgent="${agent}" AND LifelineStatus="running"`, hanging);
    await expectQuery(`LifelineAgent="${agent}" AND LifelineStatus="succeeded"`, [done]);
    await expectQuery(`LifelineAgent="${agent}" AND LifelineTrigger="api"`, [...hanging, done]);

    const state = await h.temporal.workflow.getHandle(hanging[0]!).query(stateQuery);
    expect(state).toMatchObject<Partial<ExecutionLiveState>>({ executionId: hanging[0], agent, phase: 'running', status: 'running' });

    for (const id of hanging) await h.client.stopExecution(id, 'search test done');
    await h.client.stopExecution(elsewhere, 'search test done');
    await expectQuery(`LifelineAgent="${agent}" AND LifelineStatus="running"`, []);
    await expectQuery(`LifelineAgent="${agent}" AND LifelineStatus="cancelled"`, hanging);
  });

  it("a workflow started without Lifeline's client sets its search attributes itself", async () => {
    const agent = h.agent('seek');
    const workflowId = `raw-${Date.now()}`;
    // A plain Temporal start, as any service might do it: no search attributes given.
    await h.temporal.workflow.start(agentExecution, {
      taskQueue: h.taskQueue,
      workflowId,
      args: [{ agent, prompt: 'succeed 0 raw start', busyPolicy: 'skip', trigger: 'raw' }],
    });
    await waitForRowStatus(h.executions, workflowId, 'succeeded');
    await expectQuery(`LifelineAgent="${agent}" AND LifelineTrigger="raw" AND LifelineStatus="succeeded"`, [workflowId]);
  });
});
