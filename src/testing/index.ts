/**
 * Lifeline's testing kit, for platform engineers testing their scheduler or agent against Lifeline
 * (`import ... from 'lifeline/testing'`): a Temporal test environment (time-skipping, or an existing
 * server), a worker running Lifeline's workflows with real or scripted activities, the reference
 * agent server with the demo behaviours, and waits for a row, a status or a phase.
 */
export { createTimeSkippingEnvironment, connectTestEnvironment } from './test-environment.js';
export type { TestTemporal } from './test-temporal.js';
export { createExecutionWorker, executionWorkerOptions, type ExecutionWorkerOptions } from './test-worker.js';
export {
  scriptedActivities,
  type ActivityScript,
  type ActivityCall,
  type ScriptedActivities,
  type ScriptedRow,
} from './scripted-activities.js';
export { waitForPhase, waitForRowStatus, type WaitForOptions } from './wait-for.js';
export {
  startLifelineUnderTest,
  type LifelineUnderTest,
  type LifelineUnderTestOptions,
  type AgentUnderTest,
} from './lifeline-under-test.js';
export { createActivities } from '../activities/index.js';
export { buildLifelineDeps } from '../wiring/build-lifeline-deps.js';
export { startAgentServer, type AgentServer } from '../agent-server/agent-server.js';
export { demoAgentConfig } from '../agent-server/demo-agents.js';
export { LifelineClient } from '../client/lifeline-client.js';
export { agentExecution } from '../workflows/agent-execution.js';
export {
  stateQuery,
  stopSignal,
  type ExecutionInput,
  type ExecutionLiveState,
  type ExecutionResult,
} from '../contract/execution-contract.js';
