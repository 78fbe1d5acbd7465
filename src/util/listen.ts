import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Loopback addresses: a listener there serves only this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A configured port another process has: a setting to change, said in one line. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

/**
 * Listens on `host:port` and returns the port it got and a base URL a client on this machine can
 * use. A port in use is reported with the variable that chose it, not as a raw EADDRINUSE; with
 * `orAnyFreePort`, the port is only preferred.
 */
export async function listen(
  server: Server,
  opts: { port: number; host: string; variable: string; orAnyFreePort?: boolean },
): Promise<{ port: number; base: string }> {
  const bind = (port: number) =>
    new Promise<void>((resolve, reject) => {
      const failed = (err: NodeJS.ErrnoException) => reject(err);
      server.once('error', failed);
      server.listen(port, opts.host, () => {
        server.off('error', failed);
        resolve();
      });
    });
  try {
    await bind(opts.port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    // A preferred port (npm start's): another process has it, so the system picks one, with no race.
    if (opts.orAnyFreePort) await bind(0);
    else
      throw new PortInUseError(
        `port ${opts.port} on ${opts.host} is already in use: set ${opts.variable} to a free port (or 0 to turn it off)`,
      );
  }
  const { port } = server.address() as AddressInfo;
  const reachable = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return { port, base: `http://${reachable}:${port}` };
}
