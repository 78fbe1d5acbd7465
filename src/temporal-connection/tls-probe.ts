import { isIP } from 'node:net';
import { connect } from 'node:tls';
import type { TemporalConnectOptions } from './connection-options.js';

/** What one TLS handshake with the frontend showed: it served HTTP/2, or the error code OpenSSL gave. */
export type TlsProbeResult = { ok: true } | { ok: false; code: string };

/** The HTTP/2 client preface and an empty SETTINGS frame: a server that accepted our certificate answers with its own SETTINGS. */
const http2Preface = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);

/**
 * One TLS handshake with the settings given, for the reason a connection failed: grpc-js reports
 * every TLS failure as "Failed to connect before the deadline", and the Rust core reports a refused
 * client certificate as a closed connection about as often as by the server's alert. Node's TLS
 * names the cause (a name not in the certificate, an unknown issuer, the server's alert). With TLS
 * 1.3 the server judges the client's certificate after the handshake, so the probe speaks first and
 * waits for the server's answer or its alert.
 */
export function probeTls(options: TemporalConnectOptions, timeoutMs = 5000): Promise<TlsProbeResult> {
  const tls = typeof options.tls === 'object' ? options.tls : {};
  const separator = options.address.lastIndexOf(':');
  const host = options.address.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(options.address.slice(separator + 1));
  const servername = tls.serverNameOverride ?? (isIP(host) ? undefined : host);
  return new Promise((resolve) => {
    const socket = connect({
      host,
      port,
      ...(servername ? { servername } : {}),
      ...(tls.serverRootCACertificate ? { ca: Buffer.from(tls.serverRootCACertificate) } : {}),
      ...(tls.clientCertPair ? { cert: Buffer.from(tls.clientCertPair.crt), key: Buffer.from(tls.clientCertPair.key) } : {}),
      ALPNProtocols: ['h2'],
    });
    const done = (result: TlsProbeResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ ok: false, code: 'ETIMEDOUT' }), timeoutMs);
    socket.once('secureConnect', () => socket.write(http2Preface));
    socket.once('data', () => done({ ok: true }));
    socket.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, code: err.code ?? err.message }));
    socket.once('close', () => done({ ok: false, code: 'ECONNRESET' }));
  });
}
