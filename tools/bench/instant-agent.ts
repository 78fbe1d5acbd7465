import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startExecutionRequest, type AgentExecution } from '../../src/agent/protocol.js';

/** When the agent saw an execution: the POST's arrival, which is also when the run finished. */
export interface AgentArrival {
  receivedAtMs: number;
}

export interface InstantAgent {
  /** The protocol base URL (what the `agents` row stores). */
  baseUrl: string;
  arrivals: Map<string, AgentArrival>;
  close(): Promise<void>;
}

/**
 * An agent (DESIGN §8 protocol) whose every execution has succeeded by the time the start request
 * is answered, so a lifecycle measured against it is Lifeline's own cost. The reference agent
 * cannot stand in: it spawns a process per execution, and its first answer is always `running`,
 * which leaves the run to the status poll.
 */
export async function startInstantAgent(token: string): Promise<InstantAgent> {
  const executions = new Map<string, AgentExecution>();
  const arrivals = new Map<string, AgentArrival>();

  const server = createServer((req, res) => {
    const receivedAtMs = Date.now();
    handle(req, res, receivedAtMs).catch((err: unknown) => reply(res, 500, { error: String(err) }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse, receivedAtMs: number): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://agent');
    const [resource, id, action] = url.pathname.split('/').slice(1).map(decodeURIComponent);
    if (resource === 'healthz') return reply(res, 200, { status: 'ok' });
    if (req.headers.authorization !== `Bearer ${token}`) return reply(res, 401, { error: 'bad token' });
    if (resource !== 'executions') return reply(res, 404, { error: 'no such route' });
    if (id === undefined && req.method === 'GET') {
      const status = url.searchParams.get('status');
      return reply(res, 200, {
        executions: [...executions.values()].filter((e) => !status || e.status === status),
      });
    }
    if (id === undefined && req.method === 'POST') {
      const parsed = startExecutionRequest.safeParse(await readJson(req));
      if (!parsed.success) return reply(res, 400, { error: parsed.error.message });
      const known = executions.get(parsed.data.id);
      if (known) return reply(res, 200, known);
      const at = new Date(receivedAtMs).toISOString();
      const execution: AgentExecution = {
        id: parsed.data.id,
        status: 'succeeded',
        output: '',
        outputBytes: 0,
        exitCode: 0,
        startedAt: at,
        finishedAt: at,
      };
      executions.set(execution.id, execution);
      arrivals.set(execution.id, { receivedAtMs });
      return reply(res, 201, execution);
    }
    const execution = id === undefined ? undefined : executions.get(id);
    if (!execution) return reply(res, 404, { error: `unknown execution ${id}` });
    // A stop of a finished run is a no-op that returns its record, as the protocol asks.
    if ((action === undefined && req.method === 'GET') || (action === 'stop' && req.method === 'POST')) return reply(res, 200, execution);
    return reply(res, 404, { error: 'no such route' });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    arrivals,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}
