import { loadClientConfigProfile, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';

/**
 * One piece of TLS material and the setting that named it, so that a file that cannot be read or a
 * certificate that expired is reported by the name the user wrote (`TEMPORAL_TLS_CLIENT_CERT_PATH`,
 * or `tls.client_cert_path of profile "prod" in ~/.config/temporalio/temporal.toml`).
 */
export type TlsMaterial = ({ path: string } | { data: string }) & { setting: string };

export interface TemporalTlsSettings {
  serverName?: string;
  clientCert?: TlsMaterial;
  clientKey?: TlsMaterial;
  serverCa?: TlsMaterial;
}

/**
 * How to reach Temporal, gathered by Temporal's own convention (`TEMPORAL_*` variables and
 * `temporal.toml` profiles, read with @temporalio/envconfig) plus Lifeline's aliases. Holds an API
 * key and maybe key data: never log it whole (describeTemporalSettings is the printable form).
 */
export interface TemporalConnectionSettings {
  address: string | undefined;
  namespace: string;
  apiKey: string | undefined;
  /** Off (false), on with the system's roots (true or an empty object), or on with this material. */
  tls: TemporalTlsSettings | boolean;
  /** gRPC headers sent with every call (`TEMPORAL_GRPC_META_*`, a profile's `grpc_meta`). */
  metadata: Record<string, string>;
  /** The setting the address came from, for messages ("set by TEMPORAL_ADDRESS"). */
  addressFrom: string | undefined;
  /** The setting the namespace came from; `default` when nothing set it. */
  namespaceFrom: string;
  /** The config-file profile that took part, if any. */
  profile: { name: string; file: string } | undefined;
}

export class TemporalSettingsError extends Error {
  override name = 'TemporalSettingsError';
}

/** Where envconfig looks for temporal.toml on Linux and macOS when TEMPORAL_CONFIG_FILE is unset. */
function defaultConfigFile(env: Record<string, string>): string {
  if (process.platform === 'darwin') return `${env.HOME ?? '~'}/Library/Application Support/temporalio/temporal.toml`;
  return `${env.XDG_CONFIG_HOME ?? `${env.HOME ?? '~'}/.config`}/temporalio/temporal.toml`;
}

/** Compose passes unset variables as empty strings: an empty variable means "not set" here too. */
function withoutEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].trim() !== ''));
}

function loadProfile(env: Record<string, string>, disableEnv: boolean): ClientConfigProfile {
  try {
    return loadClientConfigProfile({ overrideEnvVars: env, disableEnv });
  } catch (err) {
    const message = (err as Error).message;
    const file = env.TEMPORAL_CONFIG_FILE ?? defaultConfigFile(env);
    const notFound = /Profile '(.*)' not found/.exec(message);
    if (notFound) throw new TemporalSettingsError(`TEMPORAL_PROFILE: no profile "${notFound[1]}" in ${file}`);
    const code = (err as NodeJS.ErrnoException).code;
    if (code) throw new TemporalSettingsError(`TEMPORAL_CONFIG_FILE: cannot read ${file} (${code})`);
    throw new TemporalSettingsError(`${file}: not a Temporal client config file: ${message}`);
  }
}

/** Each piece of TLS material: its key in envconfig's profile, its variable prefix and its TOML key prefix. */
const materials = {
  clientCert: { key: 'clientCert', variable: 'TEMPORAL_TLS_CLIENT_CERT', toml: 'client_cert' },
  clientKey: { key: 'clientKey', variable: 'TEMPORAL_TLS_CLIENT_KEY', toml: 'client_key' },
  serverCa: { key: 'serverCACert', variable: 'TEMPORAL_TLS_SERVER_CA_CERT', toml: 'server_ca_cert' },
} as const;

/**
 * Reads Temporal's connection settings the way the Temporal CLI and SDKs do, with Lifeline's
 * aliases on top. Precedence, highest first: LIFELINE_TEMPORAL_ADDRESS / LIFELINE_TEMPORAL_NAMESPACE,
 * then TEMPORAL_* variables, then the profile (TEMPORAL_PROFILE, else "default") of the config file
 * (TEMPORAL_CONFIG_FILE, else temporal.toml in the user's config directory). What none of them sets
 * may come from `npm start`'s stack file (resolveConfig), and the namespace defaults to `default`.
 */
export function loadTemporalSettings(rawEnv: NodeJS.ProcessEnv): TemporalConnectionSettings {
  const env = withoutEmpty(rawEnv);
  const fromFile = loadProfile(env, true);
  const merged = loadProfile(env, false);
  const file = env.TEMPORAL_CONFIG_FILE ?? defaultConfigFile(env);
  const profileName = env.TEMPORAL_PROFILE ?? 'default';
  const usesProfile = Object.keys(fromFile).length > 0;
  const inProfile = (key: string) => `${key} of profile "${profileName}" in ${file}`;
  const origin = (value: unknown, fileValue: unknown, variable: string, key: string) =>
    value === undefined ? undefined : value !== fileValue || !usesProfile ? variable : inProfile(key);

  const material = (which: keyof typeof materials): TlsMaterial | undefined => {
    const { key, variable, toml } = materials[which];
    const source: ConfigDataSource | undefined = merged.tls?.[key];
    if (!source) return undefined;
    const fileSource = fromFile.tls?.[key];
    const kind = 'path' in source ? 'path' : 'data';
    const sameAsFile = fileSource !== undefined && JSON.stringify(fileSource) === JSON.stringify(source);
    const setting = sameAsFile ? inProfile(`tls.${toml}_${kind}`) : `${variable}_${kind.toUpperCase()}`;
    if ('path' in source) return { path: source.path, setting };
    const data = typeof source.data === 'string' ? source.data : Buffer.from(source.data).toString('utf8');
    return { data, setting };
  };

  const address = env.LIFELINE_TEMPORAL_ADDRESS ?? merged.address;
  const namespace = env.LIFELINE_TEMPORAL_NAMESPACE ?? merged.namespace;
  const tlsOn = merged.tls !== undefined && merged.tls.disabled !== true;
  const tls: TemporalTlsSettings | boolean = tlsOn
    ? Object.fromEntries(
        Object.entries({
          serverName: merged.tls?.serverName,
          clientCert: material('clientCert'),
          clientKey: material('clientKey'),
          serverCa: material('serverCa'),
        }).filter(([, v]) => v !== undefined),
      )
    : merged.tls?.disabled === true
      ? false
      : // An API key is sent only over TLS: on unless turned off, as in the Temporal CLI and SDKs.
        merged.apiKey !== undefined;
  return {
    address,
    namespace: namespace ?? 'default',
    apiKey: merged.apiKey,
    tls,
    metadata: merged.grpcMeta ?? {},
    addressFrom: env.LIFELINE_TEMPORAL_ADDRESS
      ? 'LIFELINE_TEMPORAL_ADDRESS'
      : origin(merged.address, fromFile.address, 'TEMPORAL_ADDRESS', 'address'),
    namespaceFrom: env.LIFELINE_TEMPORAL_NAMESPACE
      ? 'LIFELINE_TEMPORAL_NAMESPACE'
      : (origin(merged.namespace, fromFile.namespace, 'TEMPORAL_NAMESPACE', 'namespace') ?? 'default'),
    profile: usesProfile ? { name: profileName, file } : undefined,
  };
}

/** The settings without secrets: for the configuration summary a worker logs at start. */
export function describeTemporalSettings(s: TemporalConnectionSettings): Record<string, unknown> {
  const describeMaterial = (m: TlsMaterial | undefined, secret: boolean) =>
    m && ('path' in m ? `${m.path} (${m.setting})` : secret ? `*** (${m.setting})` : `inline PEM (${m.setting})`);
  const tls =
    typeof s.tls === 'boolean'
      ? s.tls
      : {
          serverName: s.tls.serverName,
          clientCert: describeMaterial(s.tls.clientCert, false),
          clientKey: describeMaterial(s.tls.clientKey, true),
          serverCa: describeMaterial(s.tls.serverCa, false),
        };
  return {
    address: s.address,
    namespace: s.namespace,
    apiKey: s.apiKey === undefined ? undefined : '***',
    tls,
    // Header values may be credentials too: names only.
    metadata: Object.keys(s.metadata),
    profile: s.profile && `${s.profile.name} (${s.profile.file})`,
  };
}
