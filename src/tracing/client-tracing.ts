import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client/index.js';
import type { ClientInterceptors } from '@temporalio/client';

/**
 * For `new Client({ interceptors })`: a start, signal or cancel carries the caller's active trace
 * context to the workflow in its headers, so the execution's spans join the caller's trace. With no
 * tracer provider registered in the process, it adds nothing.
 */
export function tracingClientInterceptors(): ClientInterceptors {
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}
