/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the headers that carry a trace from
 * Lifeline to an agent, and the environment variables that carry it on to the agent's process
 * (the names OpenTelemetry's environment carrier uses), so an agent's own spans join the trace.
 */
export const traceparentHeader = 'traceparent';
export const tracestateHeader = 'tracestate';

/** version 00, a 32-hex trace id and a 16-hex parent id (neither all zeros), 2-hex flags. */
const traceparentFormat = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
/** The specification's limit: 32 list members of at most 256 characters, so about 8 KiB; printable ASCII only. */
const tracestateFormat = /^[\x20-\x7e]{1,8192}$/;

/**
 * The trace context a request carried, checked before it reaches a process's environment: a header
 * that is not one (too long, another version, control characters) is dropped, never passed on.
 */
export function traceContextOf(header: (name: string) => string | undefined): Record<string, string> {
  const parent = header(traceparentHeader)?.trim().toLowerCase();
  if (!parent || !traceparentFormat.test(parent)) return {};
  const state = header(tracestateHeader)?.trim();
  return { TRACEPARENT: parent, ...(state && tracestateFormat.test(state) ? { TRACESTATE: state } : {}) };
}
