import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'undici';
import type { z } from 'zod';
import { SpanKind } from '@opentelemetry/api';
import { defaultMaxResponseBytes } from '../config/config.js';
import { inSpan, traceHeaders } from '../tracing/spans.js';
import { readBoundedBody } from '../util/bounded-body.js';
import { AgentProtocolError, AgentRejectedError, AgentUnreachableError, AgentError } from './agent-errors.js';
import {
  agentExecution,
  agentExecutionList,
  agentStartedAtHeader,
  longPollHeader,
  maxWaitSeconds,
  outputTailParam,
  costAboveParam,
  type AgentExecution,
  type StartExecutionRequest,
} from './protocol.js';

export interface AgentClientOptions {
  /** The agent's base URL; protocol paths such as `/executions` are appended to it. */
  baseUrl: string;
  token: string;
  requestTimeoutMs?: number;
  /** The most bytes one response may have: a run's whole output comes in one (see defaultMaxResponseBytes). */
  maxResponseBytes?: number;
}

/** How to read an execution (protocol 2's options; an agent without them answers a plain read). */
export interface ReadOptions {
  /** A long poll: the agent answers when the run ends, or after this long. */
  waitSeconds?: number;
  /** The answer carries the output's tail. */
  outputTail?: boolean;
  /** A long poll also answers once the run reports a cost in USD above this. */
  costAboveUsd?: number;
}

export interface AgentClient {
  readonly baseUrl: string;
  start(req: StartExecutionRequest, signal?: AbortSignal): Promise<AgentExecution>;
  /** One execution, read as `options` say where the agent supports them, a plain read where it does not. */
  get(id: string, signal?: AbortSignal, options?: ReadOptions): Promise<AgentExecution | undefined>;
  /** Whether the agent's last answer to a start or read said it supports the long poll (undefined before any). */
  readonly longPoll: boolean | undefined;
  /** When the agent's memory of its runs began, as its last answer said (protocol.ts agentStartedAtHeader); undefined if it does not say. */
  readonly agentStartedAt: Date | undefined;
  stop(id: string, signal?: AbortSignal): Promise<AgentExecution | undefined>;
  listRunning(signal?: AbortSignal): Promise<AgentExecution[]>;
  health(signal?: AbortSignal): Promise<boolean>;
}

type Method = 'GET' | 'POST';

/** The answer headers this client reads. */
interface ResponseHeaders {
  get(name: string): string | null;
}

interface RawResponse {
  status: number;
  body: string;
  headers: ResponseHeaders;
}

/** Statuses meaning the agent understood the request and refused it; retrying cannot help. */
const rejectedStatuses = new Set([400, 401, 403, 409]);
/** Overload and gateway statuses: the agent (or the path to it) may recover, so they are retryable. */
const transientStatuses = new Set([408, 429]);

const bodyExcerptChars = 300;

export function createAgentClient({
  baseUrl,
  token,
  requestTimeoutMs = 10_000,
  maxResponseBytes = defaultMaxResponseBytes,
}: AgentClientOptions): AgentClient {
  const base = baseUrl.replace(/\/+$/, '');
  // A span names the agent by origin: never a URL's user:password@ or a path.
  const origin = originOf(base);

  const describe = (method: Method, path: string) => `agent ${base}: ${method} ${path}`;
  let agentStartedAt: Date | undefined;

  /** Each protocol request is a span of the execution's trace, and carries its context to the agent. */
  function send(method: Method, path: string, signal?: AbortSignal, body?: unknown, waitMs = 0): Promise<RawResponse> {
    const attributes = { 'http.request.method': method, 'url.path': path.split('?')[0]!, 'server.address': origin };
    return inSpan(`agent ${method} ${routeOf(path)}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      const res = await sendTraced(method, path, traceHeaders(), signal, body, waitMs);
      span.setAttribute('http.response.status_code', res.status);
      return res;
    });
  }

  async function sendTraced(
    method: Method,
    path: string,
    context: Record<string, string>,
    signal?: AbortSignal,
    body?: unknown,
    waitMs = 0,
  ): Promise<RawResponse> {
    const where = describe(method, path);
    // A long poll may take its wait on top of the usual answer time.
    const timeout = AbortSignal.timeout(requestTimeoutMs + waitMs);
    const headers: Record<string, string> = { ...context, authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let status: number;
    let text: string | undefined;
    let responseHeaders: ResponseHeaders;
    try {
      const res = await request(base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      status = res.statusCode;
      responseHeaders = responseHeadersOf(res.headers);
      const startedAt = Date.parse(responseHeaders.get(agentStartedAtHeader) ?? '');
      agentStartedAt = Number.isNaN(startedAt) ? undefined : new Date(startedAt);
      text = await readBoundedBody(res.body, Number(responseHeaders.get('content-length') ?? NaN), maxResponseBytes);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      const reason = timeout.aborted ? `no response within ${requestTimeoutMs + waitMs} ms` : networkReason(err);
      throw new AgentUnreachableError(`${where} failed: ${reason}`, undefined, { cause: err });
    }
    if (text === undefined) {
      throw new AgentProtocolError(
        `${where}: response larger than ${maxResponseBytes} bytes (the limit, LIFELINE_AGENT_MAX_RESPONSE_BYTES); it was cut off there`,
        status,
      );
    }
    if (status >= 500 || transientStatuses.has(status)) {
      throw new AgentUnreachableError(`${where} failed: HTTP ${status} ${excerpt(text)}`, status);
    }
    if (rejectedStatuses.has(status)) {
      const message = agentMessage(text);
      throw new AgentRejectedError(`${where} rejected with HTTP ${status}: ${message}`, status, message);
    }
    return { status, body: text, headers: responseHeaders };
  }

  function parse<S extends z.ZodType>(schema: S, method: Method, path: string, res: RawResponse): z.infer<S> {
    const where = describe(method, path);
    let json: unknown;
    try {
      json = JSON.parse(res.body);
    } catch {
      throw new AgentProtocolError(`${where}: response is not JSON: ${excerpt(res.body)}`, res.status);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
      throw new AgentProtocolError(`${where}: malformed response: ${issues}`, res.status);
    }
    return parsed.data;
  }

  function unexpected(method: Method, path: string, res: RawResponse): AgentProtocolError {
    return new AgentProtocolError(`${describe(method, path)}: unexpected HTTP ${res.status} ${excerpt(res.body)}`, res.status);
  }

  /** One execution, checked to be the one asked for: an agent answering for another id is a protocol bug. */
  function parseExecution(method: Method, path: string, res: RawResponse, id: string): AgentExecution {
    const execution = parse(agentExecution, method, path, res);
    if (execution.id !== id) {
      throw new AgentProtocolError(
        `${describe(method, path)}: response is for execution ${JSON.stringify(execution.id)}, not ${JSON.stringify(id)}`,
        res.status,
      );
    }
    return execution;
  }

  const executionPath = (id: string) => `/executions/${encodeURIComponent(id)}`;

  let longPoll: boolean | undefined;

  return {
    baseUrl: base,
    get longPoll() {
      return longPoll;
    },
    get agentStartedAt() {
      return agentStartedAt;
    },

    async start(req, signal) {
      const path = '/executions';
      const res = await send('POST', path, signal, req);
      longPoll = res.headers.get(longPollHeader) === 'true';
      if (res.status !== 200 && res.status !== 201) throw unexpected('POST', path, res);
      return parseExecution('POST', path, res, req.id);
    },

    async get(id, signal, { waitSeconds, outputTail, costAboveUsd }: ReadOptions = {}) {
      const wait = longPoll && waitSeconds ? Math.min(waitSeconds, maxWaitSeconds) : 0;
      const query = new URLSearchParams();
      if (wait > 0) query.set('waitSeconds', String(wait));
      if (wait > 0 && costAboveUsd !== undefined) query.set(costAboveParam, String(costAboveUsd));
      if (outputTail) query.set(outputTailParam, 'true');
      const path = query.size > 0 ? `${executionPath(id)}?${query}` : executionPath(id);
      const res = await send('GET', path, signal, undefined, wait * 1000);
      longPoll = res.headers.get(longPollHeader) === 'true';
      if (res.status === 404) return undefined;
      if (res.status !== 200) throw unexpected('GET', path, res);
      return parseExecution('GET', path, res, id);
    },

    async stop(id, signal) {
      const path = `${executionPath(id)}/stop`;
      const res = await send('POST', path, signal);
      if (res.status === 404) return undefined;
      if (res.status !== 200 && res.status !== 202) throw unexpected('POST', path, res);
      return parseExecution('POST', path, res, id);
    },

    async listRunning(signal) {
      const path = '/executions?status=running';
      const res = await send('GET', path, signal);
      if (res.status !== 200) throw unexpected('GET', path, res);
      return parse(agentExecutionList, 'GET', path, res).executions;
    },

    async health(signal) {
      try {
        const res = await send('GET', '/healthz', signal);
        return res.status >= 200 && res.status < 300;
      } catch (err) {
        if (err instanceof AgentError) return false;
        throw err;
      }
    },
  };
}

/** A network failure by its code (ECONNREFUSED, UND_ERR_SOCKET...) and message, from the error or its cause. */
function networkReason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const failure = err.cause instanceof Error ? err.cause : err;
  const code = (failure as NodeJS.ErrnoException).code;
  return code ? `${code} (${failure.message})` : failure.message;
}

/** An answer's headers, read by name whatever their case; a repeated header reads as its first value. */
function responseHeadersOf(headers: IncomingHttpHeaders): ResponseHeaders {
  return {
    get(name: string) {
      const value = headers[name.toLowerCase()];
      return (Array.isArray(value) ? value[0] : value) ?? null;
    },
  };
}

function agentMessage(body: string): string {
  try {
    const json: unknown = JSON.parse(body);
    if (json && typeof json === 'object' && 'error' in json && typeof json.error === 'string') return excerpt(json.error);
  } catch {
    // not JSON: the raw body is the best explanation available
  }
  return excerpt(body) || '(empty body)';
}

function excerpt(body: string): string {
  const oneLine = body.replace(/\s+/g, ' ').trim();
  return oneLine.length > bodyExcerptChars ? `${oneLine.slice(0, bodyExcerptChars)}…` : oneLine;
}

function originOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid url)';
  }
}

/** A span's name stays one per kind of request: an execution's id goes in no name. */
function routeOf(path: string): string {
  return path.split('?')[0]!.replace(/^\/executions\/[^/]+/, '/executions/{id}');
}
