import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgentClient } from '../../src/agent/agent-client.js';
import { AgentProtocolError, AgentRejectedError } from '../../src/agent/agent-errors.js';
import { maxAgentErrorChars } from '../../src/agent/protocol.js';

/** A hostile or broken agent on a loopback port: `handler` answers every request. */
async function agentAt(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

const run = (fields: Record<string, unknown> = {}) =>
  JSON.stringify({ id: 'e1', status: 'failed', startedAt: '2026-12-06T00:00:00Z', ...fields });
const MiB = 1024 * 1024;

describe('what an agent sends is read within limits', () => {
  it('cuts off an endless body at the response limit with an agent_protocol_error naming it', async () => {
    let written = 0;
    let closed!: () => void;
    const gone = new Promise<void>((resolve) => (closed = resolve));
    const { server, url } = await agentAt((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":"e1","status":"succeeded","startedAt":"x","output":"');
      const chunk = 'x'.repeat(64 * 1024);
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) written += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', closed);
      pump();
    });
    servers.push(server);
    const client = createAgentClient({ baseUrl: url, token: 't', requestTimeoutMs: 60_000, maxResponseBytes: 2 * MiB });

    const err = await client.get('e1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentProtocolError);
    expect((err as Error).message).toMatch(/response larger than 2097152 bytes \(the limit, LIFELINE_AGENT_MAX_RESPONSE_BYTES\)/);
    // The client hung up: the agent could send no more than the limit and what the sockets buffer.
    await gone;
    expect(written).toBeLessThan(2 * MiB + 32 * MiB);
  });

  it('refuses a body whose declared length is over the limit without reading it', async () => {
    const { server, url } = await agentAt((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(100 * MiB) });
      res.write('{');
    });
    servers.push(server);
    const client = createAgentClient({ baseUrl: url, token: 't', maxResponseBytes: MiB });
    await expect(client.get('e1')).rejects.toThrow(/response larger than 1048576 bytes/);
  });

  it('takes a finished run whose output is within the limit', async () => {
    const output = 'y'.repeat(3 * MiB);
    const { server, url } = await agentAt((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(run({ status: 'succeeded', output }));
    });
    servers.push(server);
    const client = createAgentClient({ baseUrl: url, token: 't', maxResponseBytes: 4 * MiB });
    expect((await client.get('e1'))?.output).toHaveLength(output.length);
  });

  it("keeps an agent's error text to a bounded length, in a run and in a refusal", async () => {
    const huge = 'e'.repeat(MiB);
    const { server, url } = await agentAt((req, res) => {
      if (req.method === 'POST') {
        res.writeHead(400, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: huge }));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(run({ error: huge }));
    });
    servers.push(server);
    const client = createAgentClient({ baseUrl: url, token: 't' });
    const exec = await client.get('e1');
    expect(exec?.error).toHaveLength(maxAgentErrorChars + '… [truncated by lifeline]'.length);
    expect(exec?.error).toMatch(/\[truncated by lifeline\]$/);
    const refused = await client.start({ id: 'e1', prompt: 'p', timeoutSeconds: 1 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AgentRejectedError);
    expect((refused as Error).message.length).toBeLessThan(1000);
  });

  it('reads when the agent started from its header, and nothing from a missing or garbled one', async () => {
    const answers = ['2026-12-06T10:00:00.000Z', 'not a time', undefined];
    const { server, url } = await agentAt((_req, res) => {
      const started = answers.shift();
      res.writeHead(404, { 'content-type': 'application/json', ...(started ? { 'lifeline-agent-started-at': started } : {}) });
      res.end('{"error":"unknown execution"}');
    });
    servers.push(server);
    const client = createAgentClient({ baseUrl: url, token: 't' });
    expect(client.agentStartedAt).toBeUndefined();
    await client.get('e1');
    expect(client.agentStartedAt?.toISOString()).toBe('2026-12-06T10:00:00.000Z');
    await client.get('e1');
    expect(client.agentStartedAt).toBeUndefined();
    await client.get('e1');
    expect(client.agentStartedAt).toBeUndefined();
  });

  it('refuses a run whose timestamp is over its limit', async () => {
    const { server, url } = await agentAt((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(run({ status: 'running', startedAt: 'x'.repeat(10_000) }));
    });
    servers.push(server);
    const client = createAgentClient({ baseUrl: url, token: 't' });
    await expect(client.get('e1')).rejects.toThrow(/malformed response: startedAt/);
  });
});
