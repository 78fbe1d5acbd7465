import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracing, type Tracing } from '../src/tracing/tracing.js';
import { waitUntil } from '../src/util/wait-until.js';
import { cliEnvironment, runCli } from './support/cli-process.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';

describe('one trace from the scheduler to the agent process', () => {
  let h: Harness;
  let tracing: Tracing;
  const exported = new InMemorySpanExporter();
  beforeAll(async () => {
    tracing = startTracing(new SimpleSpanProcessor(exported), 'lifeline-test');
    // An agent that prints the trace context its process was given.
    const probe = ['sh', '-c', 'echo "TRACEPARENT=$TRACEPARENT"', 'sh'];
    h = await startHarness({ agents: { probe: { config: { command: probe } } }, tracing });
  });
  afterAll(async () => {
    await h?.close();
    await tracing?.shutdown();
  });

  it('ties the start, the workflow, its activities, each agent request and the agent process into one trace', async () => {
    // The scheduler's own span, as a service that traces its work would have active.
    const { executionId, traceId } = await trace.getTracer('scheduler').startActiveSpan('scheduler tick', async (tick) => {
      const started = await h.client.startExecution({ agent: h.agent('probe'), prompt: 'report' });
      tick.end();
      return { ...started, traceId: tick.spanContext().traceId };
    });
    const row = await h.client.waitForExecution(executionId, 60_000);
    expect(row.status).toBe('succeeded');
    expect(row.traceId).toBe(traceId);

    const spans = await waitUntil(
      async () => {
        await tracing.spanProcessor.forceFlush();
        const ours = exported.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
        return ours.some((s) => s.name === 'RunWorkflow:agentExecution') && ours.some((s) => s.name === 'agent POST /executions')
          ? ours
          : undefined;
      },
      { what: "the execution's workflow and agent spans to be exported", timeoutMs: 30_000, intervalMs: 200 },
    );
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const ancestry = (span: ReadableSpan): string[] => {
      const parent = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId);
      return parent ? [...ancestry(parent), parent.name] : [];
    };
    const agentStart = spans.find((s) => s.name === 'agent POST /executions')!;
    expect(ancestry(agentStart)).toEqual([
      'scheduler tick',
      'lifeline startExecution',
      'StartWorkflow:agentExecution',
      'RunWorkflow:agentExecution',
      'StartActivity:runAgent',
      'RunActivity:runAgent',
    ]);
    expect(agentStart.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 201 });
    // The admission step and the run's reads are spans of the same trace too.
    expect(spans.map((s) => s.name)).toEqual(expect.arrayContaining(['RunActivity:admit', 'agent GET /executions/{id}']));
    expect(spans.find((s) => s.name === 'lifeline startExecution')!.attributes).toMatchObject({
      'lifeline.execution_id': executionId,
      'lifeline.tenant': 'default',
    });

    // The agent process got the context of the request that started it: its spans would be children of that span.
    expect(row.output).toContain(`TRACEPARENT=00-${traceId}-${agentStart.spanContext().spanId}-01`);

    const shown = await runCli(['executions', 'show', executionId], cliEnvironment(h));
    expect(shown.stdout).toMatch(new RegExp(`^trace +${traceId}$`, 'm'));
  });

  it('passes an agent process no trace context from a header that is not one', async () => {
    const base = h.agentServer().baseUrlFor(h.agent('probe'));
    const authorization = `Bearer ${h.agentServerConfig.agents[h.agent('probe')]!.token}`;
    const res = await fetch(`${base}/executions`, {
      method: 'POST',
      headers: {
        authorization,
        'content-type': 'application/json',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01;$(touch /tmp/owned)',
      },
      body: JSON.stringify({ id: 'forged-context', prompt: 'report', timeoutSeconds: 30 }),
    });
    expect(res.status).toBe(201);
    const ended = await waitUntil(
      async () => {
        const answer = await fetch(`${base}/executions/forged-context`, { headers: { authorization } });
        const run = (await answer.json()) as { status: string; output?: string };
        return run.status === 'running' ? undefined : run;
      },
      { what: 'the probe to end', timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(ended.output).toBe('TRACEPARENT=\n');
  });
});
