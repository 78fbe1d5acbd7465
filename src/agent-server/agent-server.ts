import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { traceContextOf } from '../tracing/trace-context-headers.js';
import type { AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import type { Logger } from '../util/logger.js';
import {
  agentStartedAtHeader,
  costAboveParam,
  longPollHeader,
  maxWaitSeconds,
  outputTailParam,
  startExecutionRequest,
} from '../agent/protocol.js';
import { agentRunStatuses, type AgentRunStatus } from '../domain/agent-run-status.js';
import { loadAgentServerConfig, type AgentCommandConfig, type AgentServerConfigInput } from './agent-server-config.js';
import { checkReachable, resolveAgentUser } from './agent-user.js';
import { ProcessRegistry } from './process-registry.js';

export interface AgentServer {
  /** Root URL, such as http://127.0.0.1:41234. */
  url: string;
  port: number;
  /** The protocol base URL of one configured agent: `${url}/agents/${agent}`. */
  baseUrlFor(agent: string): string;
  /** Stops accepting, stops every running execution (SIGTERM, then SIGKILL after grace) and waits for them. */
  close(): Promise<void>;
}

interface Agent {
  config: AgentCommandConfig;
  registry: ProcessRegistry;
}

/** Prompts can be long, but a start request is never megabytes of anything legitimate. */
const maxRequestBytes = 4 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The reference agent: serves the agent HTTP protocol (DESIGN §8) for each configured agent
 * under /agents/<name>, running every execution as a child process of that agent's command.
 */
export async function startAgentServer(configInput: AgentServerConfigInput, logger: Logger): Promise<AgentServer> {
  const config = loadAgentServerConfig(configInput);
  const agentUser = resolveAgentUser(config.runAgentsAs);
  if (agentUser)
    for (const [name, a] of Object.entries(config.agents)) checkReachable(name, [{ path: a.command[0]!, access: 'execute' }], agentUser);
  const agents = new Map<string, Agent>(
    Object.entries(config.agents).map(([name, agentConfig]) => [
      name,
      { config: agentConfig, registry: new ProcessRegistry(name, agentConfig, agentUser, logger) },
    ]),
  );
  logger.info({ agentUser: agentUser?.name ?? userInfo().username }, 'agent processes run as this user');
  let closing: Promise<void> | undefined;
  // Runs live in this process' memory only: they began with it.
  const startedAt = new Date().toISOString();

  const server = createServer((req, res) => {
    res.setHeader(agentStartedAtHeader, startedAt);
    route(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) logger.error({ err, method: req.method, url: req.url }, 'agent server request failed');
      const message = err instanceof HttpError ? err.message : 'internal error';
      if (res.headersSent) res.destroy();
      else reply(res, status, { error: message });
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://agent');
    const segments = url.pathname.split('/').slice(1).map(decodeSegment);
    const method = req.method ?? 'GET';

    if (segments.length === 1 && segments[0] === 'healthz') {
      allow(method, 'GET');
      return reply(res, 200, { status: 'ok' });
    }
    const [prefix, name, ...rest] = segments;
    if (prefix !== 'agents' || name === undefined) throw new HttpError(404, `no route for ${url.pathname}`);
    // An unknown agent and a wrong token get the same answer: agent names cannot be found by trying.
    const agent = agents.get(name);
    if (!agent || !hasToken(req, agent.config.token)) throw new HttpError(401, `missing or invalid bearer token for agent ${name}`);

    if (rest.length === 1 && rest[0] === 'healthz') {
      allow(method, 'GET');
      return reply(res, 200, { status: 'ok' });
    }
    if (rest.length === 2 && rest[0] === '_debug' && rest[1] === 'starts') {
      allow(method, 'GET');
      // How many processes each of this agent's executions got: what tests and chaos check "started once" with.
      return reply(res, 200, agent.registry.spawnCounts());
    }
    if (rest[0] !== 'executions' || rest.length > 3) throw new HttpError(404, `no route for ${url.pathname}`);

    const [, id, action] = rest;
    if (id === undefined) {
      if (method === 'GET') return reply(res, 200, { executions: agent.registry.list(statusFilter(url)) });
      allow(method, 'POST');
      if (closing) throw new HttpError(503, 'agent server is shutting down');
      const parsed = startExecutionRequest.safeParse(await readJson(req));
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
        throw new HttpError(400, `invalid start request: ${issues}`);
      }
      const trace = traceContextOf((name) => {
        const value = req.headers[name];
        return typeof value === 'string' ? value : undefined;
      });
      const result = agent.registry.start(parsed.data, trace);
      if (result.outcome === 'conflict') throw new HttpError(409, result.message);
      if (result.outcome === 'busy') throw new HttpError(429, result.message);
      return reply(res, result.outcome === 'created' ? 201 : 200, result.execution, { [longPollHeader]: 'true' });
    }
    if (action === undefined) {
      allow(method, 'GET');
      const waitSeconds = waitSecondsOf(url);
      if (waitSeconds > 0) {
        const gone = new AbortController();
        res.once('close', () => gone.abort());
        await agent.registry.waitForEnd(id, waitSeconds * 1000, gone.signal, costAboveOf(url));
      }
      return replyExecution(res, agent.registry.get(id, url.searchParams.get(outputTailParam) === 'true'), id, {
        [longPollHeader]: 'true',
      });
    }
    if (action !== 'stop') throw new HttpError(404, `no route for ${url.pathname}`);
    allow(method, 'POST');
    return replyExecution(res, agent.registry.stop(id), id);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${hostForUrl(config.host)}:${port}`;
  logger.info({ url, agents: [...agents.keys()] }, 'agent server listening');

  return {
    url,
    port,
    baseUrlFor(agent) {
      if (!agents.has(agent)) throw new Error(`agent server has no agent named ${agent}`);
      return `${url}/agents/${agent}`;
    },
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all([...agents.values()].map((a) => a.registry.stopAll()));
        server.closeAllConnections();
        await stopped;
        logger.info({ url }, 'agent server closed');
      })();
      return closing;
    },
  };
}

function allow(method: string, expected: string): void {
  if (method !== expected) throw new HttpError(405, `method ${method} not allowed here; use ${expected}`);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `malformed URL path segment ${segment}`);
  }
}

function statusFilter(url: URL): AgentRunStatus | undefined {
  const status = url.searchParams.get('status');
  if (status === null) return undefined;
  if (!(agentRunStatuses as readonly string[]).includes(status)) {
    throw new HttpError(400, `status must be one of ${agentRunStatuses.join(', ')}`);
  }
  return status as AgentRunStatus;
}

/** Compares digests so neither the token's content nor its length leaks through timing. */
function hasToken(req: IncomingMessage, token: string): boolean {
  const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  if (!match?.[1]) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(match[1]), digest(token));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxRequestBytes) throw new HttpError(413, `request body exceeds ${maxRequestBytes} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body is not valid JSON');
  }
}

function replyExecution(res: ServerResponse, execution: unknown, id: string, headers: Record<string, string> = {}): void {
  if (execution === undefined) throw new HttpError(404, `unknown execution ${id}`);
  reply(res, 200, execution, headers);
}

/** `?costAboveUsd=X`: a long poll also ends once the run's reported cost in USD is above X. */
function costAboveOf(url: URL): number | undefined {
  const raw = url.searchParams.get(costAboveParam);
  if (raw === null) return undefined;
  if (!/^\d+(\.\d+)?$/.test(raw))
    throw new HttpError(400, `${costAboveParam}: must be a number of USD such as 2 or 0.50, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** `?waitSeconds=N` (0 to 60): answer once the run ends, or after N seconds with its state then. */
function waitSecondsOf(url: URL): number {
  const raw = url.searchParams.get('waitSeconds');
  if (raw === null) return 0;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > maxWaitSeconds)
    throw new HttpError(400, `waitSeconds: must be a whole number from 0 to ${maxWaitSeconds}, got ${JSON.stringify(raw)}`);
  return n;
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), ...headers });
  res.end(json);
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
