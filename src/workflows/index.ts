export { agentExecution } from './agent-execution.js';
