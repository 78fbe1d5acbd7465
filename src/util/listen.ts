import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Loopback addresses: a listener there serves only this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Listens on `host:port` and returns the port it got and a base URL a client on this machine can
 * use. A port in use is reported with the variable that chose it, not as a raw EADDRINUSE.
 */
export async function listen(
  server: Server,
  opts: { port: number; host: string; variable: string },
): Promise<{ port: number; base: string }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(new Error(`port ${opts.port} on ${opts.host} is already in use: set ${opts.variable} to a free port (or 0 to turn it off)`));
      } else reject(err);
    });
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const reachable = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return { port, base: `http://${reachable}:${port}` };
}
