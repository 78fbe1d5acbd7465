// The client's public surface (`lifeline/client`): what a scheduler or any service needs to start,
// wait for, stop and schedule executions.
export { connectLifeline, type ConnectedLifeline } from './connect-lifeline.js';
export { LifelineClient, type LifelineClientOptions, type StartedExecution } from './lifeline-client.js';
export { tracingClientInterceptors } from '../tracing/client-tracing.js';
export * from './client-errors.js';
export { ConfigError } from '../config/config.js';
