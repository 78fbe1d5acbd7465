import type { TemporalConnectionSettings, TlsMaterial } from './connection-settings.js';

/**
 * Why a connection to Temporal failed, in one line naming the setting to look at. `unreachable`
 * may pass (a server restarting); the others will not until a setting changes.
 */
export class TemporalConnectionError extends Error {
  override name = 'TemporalConnectionError';
  constructor(
    message: string,
    readonly reason: 'unreachable' | 'tls' | 'refused',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const describe = (m: TlsMaterial | undefined) => (m ? `${m.setting}${'path' in m ? ` (${m.path})` : ''}` : undefined);

/** Every message of an error and its causes: the SDKs wrap the transport's reason in one or two layers. */
function messages(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    parts.push(e instanceof Error ? `${e.message} ${(e as { details?: string }).details ?? ''}` : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(' | ');
}

/** The words each failure is described with, from the settings involved. */
function wording(settings: TemporalConnectionSettings, err: unknown) {
  const tls = typeof settings.tls === 'object' ? settings.tls : undefined;
  const fail = (reason: TemporalConnectionError['reason'], message: string) =>
    new TemporalConnectionError(
      `cannot connect to Temporal at ${settings.address} (${settings.addressFrom ?? 'address'}): ${message}`,
      reason,
      {
        cause: err,
      },
    );
  return {
    fail,
    ca: describe(tls?.serverCa) ?? 'the system CA store (set TEMPORAL_TLS_SERVER_CA_CERT_PATH for a private CA)',
    cert: describe(tls?.clientCert),
    ns: `namespace ${settings.namespace} (${settings.namespaceFrom})`,
    serverName: tls?.serverName ? `"${tls.serverName}" (TEMPORAL_TLS_SERVER_NAME)` : 'the host of the address',
  };
}

/** OpenSSL's codes, as Node's TLS gives them (see tls-probe.ts), for what the client or the server refused. */
const tlsCodes: { codes: RegExp; explain: (w: ReturnType<typeof wording>) => TemporalConnectionError }[] = [
  {
    codes: /^ERR_TLS_CERT_ALTNAME_INVALID$/,
    explain: (w) =>
      w.fail('tls', `the server's certificate is not valid for ${w.serverName}: set TEMPORAL_TLS_SERVER_NAME to a name in its certificate`),
  },
  {
    codes:
      /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_SIGNATURE_FAILURE)$/,
    explain: (w) => w.fail('tls', `the server's certificate is not signed by a CA trusted through ${w.ca}`),
  },
  { codes: /^CERT_HAS_EXPIRED$/, explain: (w) => w.fail('tls', "the server's certificate has expired") },
  {
    codes: /CERTIFICATE_REQUIRED/,
    explain: (w) =>
      w.fail('refused', 'the server requires a client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH'),
  },
  {
    codes: /ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|UNSUPPORTED_CERTIFICATE|CERTIFICATE_UNKNOWN|DECRYPT_ERROR|ACCESS_DENIED)$/,
    explain: (w) =>
      w.fail('refused', `the server refused the client certificate ${w.cert ?? '(none)'}: is it signed by a CA the server trusts?`),
  },
  {
    codes: /ALERT_CERTIFICATE_EXPIRED$/,
    explain: (w) => w.fail('refused', `the server refused the client certificate ${w.cert ?? '(none)'} as expired`),
  },
  {
    codes: /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG/,
    explain: (w) => w.fail('tls', 'the server does not speak TLS: unset TEMPORAL_TLS (or set it to false)'),
  },
];

/** The one line a TLS probe's error code stands for, or undefined when TLS is not the problem. */
export function explainTlsProbe(code: string, settings: TemporalConnectionSettings, err: unknown): TemporalConnectionError | undefined {
  return tlsCodes.find((t) => t.codes.test(code))?.explain(wording(settings, err));
}

/**
 * Turns what grpc-js (the client) or the Rust core (the worker) reported into one line. The texts
 * matched are those the two transports give for each failure, seen against a real temporal-server
 * with mutual TLS and with API keys.
 */
export function explainConnectFailure(err: unknown, settings: TemporalConnectionSettings): TemporalConnectionError {
  const text = messages(err);
  const { fail, ca, cert, ns, serverName } = wording(settings, err);

  if (/altnames|NotValidForName|not valid for name|hostname mismatch|does not match certificate/i.test(text)) {
    return fail(
      'tls',
      `the server's certificate is not valid for ${serverName}: set TEMPORAL_TLS_SERVER_NAME to a name in its certificate`,
    );
  }
  if (/self[- ]signed|unable to (get local issuer|verify)|UnknownIssuer|unknown ?ca|BadSignature|certificate verify failed/i.test(text)) {
    return fail('tls', `the server's certificate is not signed by a CA trusted through ${ca}`);
  }
  if (/expired|CertExpired|certificate has expired/i.test(text)) {
    return fail('tls', `a certificate has expired (the client's ${cert ?? '(none)'} or the server's)`);
  }
  if (
    /certificate required|CertificateRequired|alert (bad|unknown) certificate|BadCertificate|UnknownCA|tlsv1 alert|sslv3 alert/i.test(text)
  ) {
    return fail(
      'refused',
      cert
        ? `the server refused the client certificate ${cert}: is it signed by a CA the server trusts?`
        : 'the server requires a client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH',
    );
  }
  if (/wrong version number|packet length too long|InvalidContentType|corrupt message|http2 .*(frame|preface)/i.test(text)) {
    return fail(
      'tls',
      settings.tls
        ? 'the server does not speak TLS: unset TEMPORAL_TLS (or set it to false)'
        : 'the server expects TLS: set TEMPORAL_TLS=true',
    );
  }
  if (/PERMISSION_DENIED|UNAUTHENTICATED|unauthorized|permission denied|invalid token|token is (expired|malformed)/i.test(text)) {
    const credential =
      settings.apiKey !== undefined
        ? 'the API key (TEMPORAL_API_KEY)'
        : cert
          ? `the client certificate ${cert}`
          : 'no credentials (set TEMPORAL_API_KEY or a client certificate)';
    return fail('refused', `${credential} was refused for ${ns}`);
  }
  if (/NOT_FOUND.*[Nn]amespace|[Nn]amespace .* (is )?not found/.test(text)) {
    return fail('refused', `${ns} does not exist on this server`);
  }
  const first = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  return fail('unreachable', first ?? 'no answer');
}
