import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { isLoopback, listen } from '../../src/util/listen.js';

describe('listening on a port', () => {
  it('names the variable that chose a port already in use, instead of a raw EADDRINUSE', async () => {
    const first = createServer();
    const { port, base } = await listen(first, { port: 0, host: '127.0.0.1', variable: 'LIFELINE_METRICS_PORT' });
    expect(base).toBe(`http://127.0.0.1:${port}`);
    try {
      await expect(listen(createServer(), { port, host: '127.0.0.1', variable: 'LIFELINE_METRICS_PORT' })).rejects.toThrow(
        `port ${port} on 127.0.0.1 is already in use: set LIFELINE_METRICS_PORT to a free port (or 0 to turn it off)`,
      );
    } finally {
      first.close();
    }
  });

  it('takes any free port when the preferred one is in use (npm start)', async () => {
    const first = createServer();
    const second = createServer();
    const { port } = await listen(first, { port: 0, host: '127.0.0.1', variable: 'LIFELINE_METRICS_PORT' });
    try {
      const other = await listen(second, { port, host: '127.0.0.1', variable: 'LIFELINE_METRICS_PORT', orAnyFreePort: true });
      expect(other.port).not.toBe(port);
      expect(second.listening).toBe(true);
    } finally {
      first.close();
      second.close();
    }
  });

  it('tells loopback hosts from the others', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.5', 'example.com'].some(isLoopback)).toBe(false);
  });
});
