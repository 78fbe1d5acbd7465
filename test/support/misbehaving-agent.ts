import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the agent answers each protocol call; `undefined` means the request is counted and answered 404. */
export interface Misbehaviour {
  start?: (id: string) => { status: number; body: string };
  get?: (id: string) => { status: number; body: string };
  stop?: (id: string) => { status: number; body: string };
}

export interface MisbehavingAgent {
  url: string;
  /** Requests received, as `METHOD path`. */
  requests: string[];
  close(): Promise<void>;
}

/** A finished run as a well-behaved agent reports it. */
export function finishedRun(id: string, status: 'succeeded' | 'failed' = 'succeeded'): string {
  const at = new Date().toISOString();
  return JSON.stringify({ id, status, exitCode: status === 'succeeded' ? 0 : 1, startedAt: at, finishedAt: at });
}

/**
 * An agent HTTP server on 127.0.0.1 that breaks the protocol on purpose, one call at a time: for
 * the paths where Lifeline must end an execution whatever the agent answers.
 */
export async function startMisbehavingAgent(behaviour: Misbehaviour): Promise<MisbehavingAgent> {
  const requests: string[] = [];
  const answer = (res: ServerResponse, reply: { status: number; body: string } | undefined) => {
    res.writeHead(reply?.status ?? 404, { 'content-type': 'application/json' });
    res.end(reply?.body ?? '{"error":"unknown execution"}');
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      requests.push(`${req.method} ${path}`);
      const stop = /^\/executions\/([^/]+)\/stop$/.exec(path);
      const get = /^\/executions\/([^/]+)$/.exec(path);
      if (req.method === 'POST' && path === '/executions') {
        const { id } = JSON.parse(raw) as { id: string };
        return answer(res, behaviour.start?.(id));
      }
      if (req.method === 'POST' && stop) return answer(res, behaviour.stop?.(decodeURIComponent(stop[1]!)));
      if (req.method === 'GET' && get) return answer(res, behaviour.get?.(decodeURIComponent(get[1]!)));
      answer(res, undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
