import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { envDetectorSync, Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ConfigError } from '../config/config.js';

/** A process's tracing, on: what the worker's interceptors and workflow spans are exported through. */
export interface Tracing {
  tracer: Tracer;
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Sends the spans still buffered, then stops; call it before the process exits. */
  shutdown(): Promise<void>;
}

/**
 * Registers a tracer provider for the whole process (context kept across awaits, W3C trace
 * context and baggage propagated unless OTEL_PROPAGATORS says otherwise) that hands every span to
 * `spanProcessor`. `serviceName` is the default; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
 */
export function startTracing(spanProcessor: SpanProcessor, serviceName: string): Tracing {
  const resource = Resource.default()
    .merge(new Resource({ 'service.name': serviceName }))
    .merge(envDetectorSync.detect());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  return {
    tracer: provider.getTracer('lifeline'),
    spanProcessor,
    resource,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
    },
  };
}

/**
 * Tracing as the standard OpenTelemetry variables configure it, or undefined when they leave it
 * off: on with OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set (OTLP over
 * HTTP with protobuf; the exporter reads its headers, timeout and compression from OTEL_EXPORTER_OTLP_*),
 * or with OTEL_TRACES_EXPORTER=otlp|console; off with OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none.
 * Sampling follows OTEL_TRACES_SAMPLER, batching OTEL_BSP_*.
 */
export function startTracingFromEnv(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (exporter === 'none' || (!exporter && !endpoint)) return undefined;
  if (exporter === 'console') return startTracing(new BatchSpanProcessor(new ConsoleSpanExporter()), serviceName);
  if (exporter && exporter !== 'otlp') {
    throw new ConfigError(`OTEL_TRACES_EXPORTER: Lifeline exports traces with otlp or console (or none), not ${JSON.stringify(exporter)}`);
  }
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf').trim();
  if (protocol !== 'http/protobuf') {
    const variable = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
    throw new ConfigError(
      `${variable}: Lifeline sends traces as http/protobuf, not ${JSON.stringify(protocol)}: point OTEL_EXPORTER_OTLP_ENDPOINT at the collector's OTLP/HTTP port (4318 by default)`,
    );
  }
  return startTracing(new BatchSpanProcessor(new OTLPTraceExporter()), serviceName);
}

/** Tracing to one OTLP/HTTP receiver (`npm start -- --traces`: its own viewer), whatever OTEL_* says. */
export function startOtlpTracing(url: string, headers: Record<string, string>, serviceName: string): Tracing {
  return startTracing(new BatchSpanProcessor(new OTLPTraceExporter({ url, headers })), serviceName);
}
