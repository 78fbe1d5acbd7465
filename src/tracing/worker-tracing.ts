import { Resource } from '@opentelemetry/resources';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/worker/index.js';
import type { WorkerOptions } from '@temporalio/worker';
import { siblingModule } from '../util/module-path.js';
import type { Tracing } from './tracing.js';

/**
 * The workflow interceptors every bundle of Lifeline's workflows includes (`workflowInterceptorModules`
 * of bundleWorkflowCode, `interceptors.workflowModules` of a worker given a workflowsPath): a traced
 * workflow's span joins the trace of whoever started it, and each activity it schedules carries the
 * context on (workflows/trace-interceptors.ts). Always, so the workflow code and its build never depend on configuration.
 */
export const workflowInterceptorModules = [siblingModule(import.meta.url, '../workflows/trace-interceptors')];

/**
 * What a worker running Lifeline's workflows needs for their spans: they leave workflow code through
 * the `exporter` sink, so every worker (replay and test workers included) registers it; with tracing
 * off, the spans are dropped there. With tracing on, activities join the workflow's trace too.
 */
export function workerTracingOptions(tracing?: Tracing): Pick<WorkerOptions, 'sinks' | 'interceptors'> {
  const sinks = {
    exporter: makeWorkflowExporter(tracing?.spanProcessor ?? new NoopSpanProcessor(), tracing?.resource ?? Resource.empty()),
  };
  if (!tracing) return { sinks };
  const options = { tracer: tracing.tracer };
  return {
    sinks,
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx, options),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
  };
}
