import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { isPortConflict, retryOnPortConflict } from '../../src/stack/port-conflicts.js';
import { listen } from '../../src/util/listen.js';
import { silentLogger } from '../../src/util/logger.js';

describe('a port taken between being chosen and being bound', () => {
  const servers: Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  it('is chosen again, on a real socket', async () => {
    const squatter = createServer();
    servers.push(squatter);
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = (squatter.address() as AddressInfo).port;
    // The first choice is the port another process took meanwhile; the next is any free one.
    const choices = [taken, 0];
    const tried: number[] = [];
    const bound = await retryOnPortConflict('test server', silentLogger(), async () => {
      const server = createServer();
      const port = choices.shift()!;
      tried.push(port);
      const { port: got } = await listen(server, { port, host: '127.0.0.1', variable: 'TEST_PORT' });
      servers.push(server);
      return got;
    });
    expect(tried).toEqual([taken, 0]);
    expect(bound).not.toBe(taken);
  });

  it('is told apart from other failures, which are not retried', async () => {
    for (const log of [
      'Warning: Could not create server TCP listening socket 127.0.0.1:6379: bind: Address already in use',
      'LOG:  could not bind IPv4 address "127.0.0.1": Address already in use',
      "ERROR:    [Errno 98] error while attempting to bind on address ('127.0.0.1', 6006): address already in use",
    ])
      expect(isPortConflict(new Error(`server exited (code 1); its log:\n${log}`))).toBe(true);
    let attempts = 0;
    await expect(
      retryOnPortConflict('test server', silentLogger(), async () => {
        attempts += 1;
        throw new Error('initdb: permission denied');
      }),
    ).rejects.toThrow('permission denied');
    expect(attempts).toBe(1);
  });
});
