import { context, propagation, SpanStatusCode, trace, type Span, type SpanOptions } from '@opentelemetry/api';

/** Lifeline's own spans; with no tracer provider registered in the process (tracing off) they cost next to nothing. */
const tracer = () => trace.getTracer('lifeline');

/**
 * Runs `fn` as a span under the active one (and active inside it). The span ends with `fn`; an
 * error marks it failed and is rethrown unchanged.
 */
export async function inSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, options, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The headers that carry the active span's context to a server (traceparent, tracestate). */
export function traceHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(context.active(), headers);
  return headers;
}

/** The active span's trace id, when a trace is being recorded. */
export function activeTraceId(): string | undefined {
  const span = trace.getActiveSpan();
  return span?.isRecording() ? span.spanContext().traceId : undefined;
}
