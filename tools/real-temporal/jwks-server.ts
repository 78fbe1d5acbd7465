import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JsonWebKey } from 'node:crypto';

export interface JwksServer {
  /** What the server's `jwtKeyProvider.keySourceURIs` points at. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `{ keys }` on a free loopback port. The server fetches it at start and then every
 * refreshInterval, so it must stay up for as long as the Temporal server runs, restarts included.
 */
export async function serveJwks(keys: JsonWebKey[]): Promise<JwksServer> {
  const body = JSON.stringify({ keys });
  const server = createServer((req, res) => {
    if (req.url !== '/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  // Not a reason to keep the process alive: the Temporal server goes when its owner goes, and so may this.
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
