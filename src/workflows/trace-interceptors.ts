import { defaultPayloadConverter, type Headers } from '@temporalio/common';
import type * as OpenTelemetryWorkflow from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import {
  patched,
  workflowInfo,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  type WorkflowInternalsInterceptor,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { executionWorkflowType } from '../contract/execution-contract.js';

/** Where Temporal's OpenTelemetry interceptors carry the trace context, in the start's headers. */
const traceHeader = '_tracer-data';

/** A start that carries a trace: its caller records one (DESIGN: Traces). */
function carriesTrace(headers: Headers): boolean {
  const payload = headers[traceHeader];
  if (!payload) return false;
  try {
    return typeof defaultPayloadConverter.fromPayload<Record<string, unknown>>(payload).traceparent === 'string';
  } catch {
    return false;
  }
}

/**
 * Whether this execution's workflow runs Temporal's OpenTelemetry workflow interceptors. They cost
 * a workflow most of its CPU (the OpenTelemetry SDK's modules load anew in every execution's
 * sandbox), so a lean execution whose start carries no trace goes without: it has no trace to join.
 * Every other workflow, and executions started before the lean lifecycle, run them as they always
 * did, so their replay is what they recorded.
 */
function traced(headers: Headers): boolean {
  if (carriesTrace(headers)) return true;
  return workflowInfo().workflowType !== executionWorkflowType || !patched('lean-lifecycle');
}

type Loaded = {
  inbound: OpenTelemetryWorkflow.OpenTelemetryInboundInterceptor;
  outbound: OpenTelemetryWorkflow.OpenTelemetryOutboundInterceptor;
  internals: OpenTelemetryWorkflow.OpenTelemetryInternalsInterceptor;
};

/** Loaded only for a traced workflow: the bundle holds the modules, a workflow evaluates them on first use. */
function load(): Loaded {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a require evaluates the modules only when called
  const otel = require('@temporalio/interceptors-opentelemetry/lib/workflow/index.js') as typeof OpenTelemetryWorkflow;
  return {
    inbound: new otel.OpenTelemetryInboundInterceptor(),
    outbound: new otel.OpenTelemetryOutboundInterceptor(),
    internals: new otel.OpenTelemetryInternalsInterceptor(),
  };
}

/**
 * The workflow interceptors of every bundle of Lifeline's workflows: Temporal's OpenTelemetry ones
 * for the workflows that are traced, decided when the workflow starts; every call passes straight on otherwise.
 */
export const interceptors: WorkflowInterceptorsFactory = () => {
  let otel: Loaded | undefined;
  const inbound: WorkflowInboundCallsInterceptor = {
    execute(input, next) {
      if (traced(input.headers)) otel = load();
      return otel ? otel.inbound.execute(input, next) : next(input);
    },
    handleSignal: (input, next) => (otel ? otel.inbound.handleSignal(input, next) : next(input)),
    handleUpdate: (input, next) => (otel ? otel.inbound.handleUpdate(input, next) : next(input)),
    validateUpdate: (input, next) => (otel ? otel.inbound.validateUpdate(input, next) : next(input)),
    handleQuery: (input, next) => (otel ? otel.inbound.handleQuery(input, next) : next(input)),
  };
  const outbound: WorkflowOutboundCallsInterceptor = {
    scheduleActivity: (input, next) => (otel ? otel.outbound.scheduleActivity(input, next) : next(input)),
    scheduleLocalActivity: (input, next) => (otel ? otel.outbound.scheduleLocalActivity(input, next) : next(input)),
    startNexusOperation: (input, next) => (otel ? otel.outbound.startNexusOperation(input, next) : next(input)),
    startChildWorkflowExecution: (input, next) => (otel ? otel.outbound.startChildWorkflowExecution(input, next) : next(input)),
    continueAsNew: (input, next) => (otel ? otel.outbound.continueAsNew(input, next) : next(input)),
    signalWorkflow: (input, next) => (otel ? otel.outbound.signalWorkflow(input, next) : next(input)),
    getLogAttributes: (input, next) => (otel ? otel.outbound.getLogAttributes(input, next) : next(input)),
  };
  const internals: WorkflowInternalsInterceptor = {
    dispose: (input, next) => (otel ? otel.internals.dispose(input, next) : next(input)),
  };
  return { inbound: [inbound], outbound: [outbound], internals: [internals] };
};
