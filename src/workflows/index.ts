export { agentExecution } from './agent-execution.js';
export { reconcileWorkflow } from './reconcile.js';
