import getPort, { portNumbers } from 'get-port';

/** The services one server process runs; `internal-frontend` only with an authorizer (Trap 3 in TEMPORAL-NOTES). */
export type TemporalService = 'frontend' | 'internal-frontend' | 'history' | 'matching' | 'worker';

export interface ServicePorts {
  grpc: number;
  membership: number;
}

export type ServerPorts = Partial<Record<TemporalService, ServicePorts>>;

/**
 * The cluster_membership table stores membership ports as smallint: one above 32767 makes the
 * server exit with `value "..." is out of range for type smallint`. The kernel's ephemeral ports
 * start at 32768, so these come from below it, starting at a random place so that servers
 * started at once by different processes rarely reach for the same port.
 */
async function membershipPort(): Promise<number> {
  const from = 20_000 + Math.floor(Math.random() * 10_000);
  // reserve: the same process may start a second server, or restart this one, while these ports are free.
  const port = await getPort({ host: '127.0.0.1', port: portNumbers(from, 32_767), reserve: true });
  // get-port falls back to an ephemeral port when none of the preferred ones is free.
  if (port > 32_767) throw new Error(`no free loopback port between ${from} and 32767 for Temporal membership`);
  return port;
}

/** Free loopback ports for each service, kept across restarts so clients and config stay valid. */
export async function allocateServerPorts(services: readonly TemporalService[]): Promise<ServerPorts> {
  const ports: ServerPorts = {};
  for (const service of services) {
    ports[service] = { grpc: await getPort({ host: '127.0.0.1', reserve: true }), membership: await membershipPort() };
  }
  return ports;
}
