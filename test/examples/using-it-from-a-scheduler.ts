import { connectLifeline } from 'lifeline/client';

// The environment (see Configuration), else the addresses `npm start` wrote to .lifeline/stack.json.
const { lifeline, close } = await connectLifeline();
try {
  const { executionId } = await lifeline.startExecution({
    agent: 'demo-coder',
    prompt: 'succeed 2 hello',
    timeoutSeconds: 600, // else the agent's default, else LIFELINE_DEFAULT_TIMEOUT_SECONDS
    busyPolicy: 'queue', // or 'skip': a terminal `skipped` row at once when the agent is full
    idleTimeoutSeconds: 300, // optional, 5 to 86400: no progress reported for this long → timed_out/agent_stalled
    maxCostUsd: 2.5, // optional, up to 1,000,000: a reported cost in USD above it → failed/budget_exceeded
    // executionId: 'nightly-2026-11-22', // optional; starting the same id again never runs it twice
  });
  const row = await lifeline.waitForExecution(executionId);
  console.log(`${executionId}: ${row.status}`);
  await lifeline.stopExecution(executionId, 'reason for the audit log'); // no-op once finished
} finally {
  await close();
}
