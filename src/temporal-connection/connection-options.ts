import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import {
  TemporalSettingsError,
  type TemporalConnectionSettings,
  type TemporalTlsSettings,
  type TlsMaterial,
} from './connection-settings.js';

/** What both the client's Connection and the worker's NativeConnection take. */
export interface TemporalConnectOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
}

const fileErrors: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a directory' };

/** A PEM file or inline PEM, read now so that a wrong path is named before any connection is tried. */
function pem(material: TlsMaterial, what: string): Buffer {
  let bytes: Buffer;
  if ('path' in material) {
    try {
      bytes = readFileSync(material.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      throw new TemporalSettingsError(`${material.setting}: cannot read ${what} ${material.path}: ${fileErrors[code] ?? code}`);
    }
  } else bytes = Buffer.from(material.data);
  if (!bytes.includes('-----BEGIN ')) {
    const where = 'path' in material ? ` ${material.path}` : '';
    throw new TemporalSettingsError(`${material.setting}:${where} is not a PEM ${what} (no -----BEGIN line)`);
  }
  return bytes;
}

/** A client certificate past its end (or before its start) is refused by the server with a vaguer message: say it here. */
function checkValidity(certificate: Buffer, material: TlsMaterial, now: Date): void {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certificate);
  } catch {
    throw new TemporalSettingsError(`${material.setting}: not a readable X.509 certificate`);
  }
  const where = 'path' in material ? ` ${material.path}` : '';
  if (new Date(cert.validTo) < now)
    throw new TemporalSettingsError(`${material.setting}: the certificate${where} expired on ${cert.validTo}`);
  if (new Date(cert.validFrom) > now)
    throw new TemporalSettingsError(`${material.setting}: the certificate${where} is not valid before ${cert.validFrom}`);
}

function tlsConfig(tls: TemporalTlsSettings, now: Date): TLSConfig {
  const { clientCert, clientKey, serverCa, serverName } = tls;
  if ((clientCert === undefined) !== (clientKey === undefined)) {
    const [given, missing] = clientCert
      ? [clientCert.setting, 'TEMPORAL_TLS_CLIENT_KEY_PATH']
      : [clientKey!.setting, 'TEMPORAL_TLS_CLIENT_CERT_PATH'];
    throw new TemporalSettingsError(`${given} is set but ${missing} (or its _DATA form) is not: mutual TLS needs both`);
  }
  const config: TLSConfig = {};
  if (serverName) config.serverNameOverride = serverName;
  if (serverCa) config.serverRootCACertificate = pem(serverCa, 'CA certificate');
  if (clientCert && clientKey) {
    const crt = pem(clientCert, 'certificate');
    checkValidity(crt, clientCert, now);
    config.clientCertPair = { crt, key: pem(clientKey, 'private key') };
  }
  return config;
}

/**
 * The options to connect with, TLS material read and checked. Throws TemporalSettingsError naming
 * the setting when a file is missing, is not PEM, or holds an expired certificate, or when there
 * is no address at all.
 */
export function temporalConnectOptions(settings: TemporalConnectionSettings, now = new Date()): TemporalConnectOptions {
  if (!settings.address)
    throw new TemporalSettingsError('no Temporal address: set TEMPORAL_ADDRESS (or LIFELINE_TEMPORAL_ADDRESS, or a temporal.toml profile)');
  return {
    address: settings.address,
    tls: typeof settings.tls === 'boolean' ? settings.tls : tlsConfig(settings.tls, now),
    ...(settings.apiKey !== undefined ? { apiKey: settings.apiKey } : {}),
    ...(Object.keys(settings.metadata).length > 0 ? { metadata: settings.metadata } : {}),
  };
}
