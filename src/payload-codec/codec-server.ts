import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { PayloadCodec } from '@temporalio/common';
import type { Logger } from '../util/logger.js';
import { payloadFromJson, payloadsBody, payloadToJson } from './payload-json.js';
import { listen } from '../util/listen.js';

export interface CodecServerOptions {
  port: number;
  /** LIFELINE_LISTEN_HOST: loopback unless a deployment opens it (with a token, or explicitly allowed without). */
  host: string;
  codec: PayloadCodec;
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  authToken?: string;
  /** Browser origins (the Temporal UI's) allowed to call the endpoint; `*` allows any. */
  corsOrigins: readonly string[];
  /** Host names (no port) a request's Host may be besides loopback's and `host` (a proxy's name). */
  allowedHosts?: readonly string[];
  log: Logger;
}

/**
 * Names of this machine's loopback a browser uses. A page of any site whose name its owner points
 * at 127.0.0.1 (DNS rebinding) is same-origin with the endpoint, so CORS never asks: only the Host
 * it sends, its own name, gives it away.
 */
const loopbackNames = ['localhost', '127.0.0.1', '::1'];

/** The host name of a Host header, without its port; lower case; brackets of an IPv6 address removed. */
export function hostName(header: string): string {
  const host = header.trim().toLowerCase();
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

export interface CodecServer {
  /** Base URL; the Temporal UI's codec endpoint and the CLI's `--codec-endpoint`. */
  url: string;
  close(): Promise<void>;
}

// Temporal caps one payload at a few MB; a page of history holds many.
const MAX_BODY_BYTES = 32 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The Temporal codec server protocol: `POST .../encode` and `POST .../decode`, each taking and
 * returning `{ payloads: [...] }`. Only the last path segment is matched, so the endpoint may be
 * mounted under a prefix such as `/{namespace}/decode`, as the protocol asks.
 */
export async function startCodecServer(opts: CodecServerOptions): Promise<CodecServer> {
  const expectedAuth = opts.authToken ? digest(`Bearer ${opts.authToken}`) : undefined;
  const wildcard = ['0.0.0.0', '::'].includes(opts.host);
  const hosts = new Set([...loopbackNames, ...(wildcard ? [] : [hostName(opts.host)]), ...(opts.allowedHosts ?? [])]);

  const server = createServer((req, res) => {
    setCorsHeaders(req, res, opts.corsOrigins);
    void handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (status >= 500) opts.log.error({ err: message, url: req.url }, 'codec request failed');
      else opts.log.warn({ status, err: message, url: req.url }, 'codec request rejected');
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (status === 401) headers['www-authenticate'] = 'Bearer';
      if (!res.headersSent) res.writeHead(status, headers).end(JSON.stringify({ error: message }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = hostName(req.headers.host ?? '');
    if (!hosts.has(host)) {
      throw new HttpError(
        421,
        `Host ${JSON.stringify(host)} is not this endpoint's; allow a proxy's name with LIFELINE_CODEC_ALLOWED_HOSTS`,
      );
    }
    const operation = new URL(req.url ?? '/', 'http://codec').pathname.split('/').pop();
    if (operation !== 'encode' && operation !== 'decode') throw new HttpError(404, 'the codec endpoints are POST /encode and POST /decode');
    // Preflights carry no credentials by design; answering them is what lets the UI send the real request.
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    if (req.method !== 'POST') throw new HttpError(405, `${operation} takes POST`);
    if (expectedAuth && !timingSafeEqual(expectedAuth, digest(req.headers.authorization ?? ''))) {
      throw new HttpError(401, 'missing or wrong bearer token');
    }
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError(400, `the body is not JSON: ${(err as Error).message}`);
    }
    const parsed = payloadsBody.safeParse(body);
    if (!parsed.success) throw new HttpError(400, 'the body must be { "payloads": [{ "metadata": {...}, "data": "<base64>" }] }');
    const payloads = parsed.data.payloads.map(payloadFromJson);
    let result;
    try {
      result = operation === 'encode' ? await opts.codec.encode(payloads) : await opts.codec.decode(payloads);
    } catch (err) {
      throw new HttpError(400, `cannot ${operation}: ${(err as Error).message}`);
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ payloads: result.map(payloadToJson) }));
  }

  const { base } = await listen(server, { port: opts.port, host: opts.host, variable: 'LIFELINE_CODEC_PORT' });
  return {
    url: base,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

/** Fixed-length digests, so comparing them takes the same time whatever was sent. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function setCorsHeaders(req: IncomingMessage, res: ServerResponse, allowed: readonly string[]): void {
  const origin = req.headers.origin;
  res.setHeader('vary', 'Origin');
  if (!origin || !(allowed.includes('*') || allowed.includes(origin))) return;
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('access-control-allow-credentials', 'true');
  res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
  res.setHeader('access-control-allow-headers', 'Content-Type, X-Namespace, Authorization');
  res.setHeader('access-control-max-age', '600');
  // A UI on a public origin (Temporal Cloud's) calling a codec on this machine's loopback or private
  // network: Chromium asks first (Private Network Access), and only an allowed origin gets a yes.
  if (req.headers['access-control-request-private-network'] === 'true') res.setHeader('access-control-allow-private-network', 'true');
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
