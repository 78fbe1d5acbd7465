import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../util/logger.js';
import { listen } from '../util/listen.js';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * One Prometheus endpoint per worker: Lifeline's own series, followed by the Temporal SDK's
 * runtime metrics, which the SDK serves on a private loopback port (`sdkMetricsUrl`).
 */
export async function startMetricsServer(opts: {
  port: number;
  /** The port is preferred, not required (npm start): in use, any free one. */
  orAnyFreePort?: boolean;
  /** LIFELINE_LISTEN_HOST: loopback unless a deployment opens it. */
  host: string;
  registry: Registry;
  sdkMetricsUrl?: string;
  log: Logger;
}): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/metrics' && req.url !== '/')) {
      res.writeHead(404).end('not found; try /metrics\n');
      return;
    }
    void (async () => {
      try {
        let body = await opts.registry.metrics();
        if (opts.sdkMetricsUrl) {
          const sdk = await fetch(opts.sdkMetricsUrl, { signal: AbortSignal.timeout(2000) })
            .then((r) => r.text())
            .catch((err: Error) => `# Temporal SDK metrics unavailable: ${err.message}\n`);
          body += `\n${sdk}`;
        }
        res.writeHead(200, { 'content-type': opts.registry.contentType }).end(body);
      } catch (err) {
        opts.log.error({ err: (err as Error).message }, 'metrics collection failed');
        res.writeHead(500).end(`metrics collection failed: ${(err as Error).message}\n`);
      }
    })();
  });
  const { base } = await listen(server, {
    port: opts.port,
    host: opts.host,
    variable: 'LIFELINE_METRICS_PORT',
    orAnyFreePort: opts.orAnyFreePort,
  });
  return {
    url: `${base}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
