import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import getPort from 'get-port';
import type { Logger } from '../util/logger.js';
import { waitUntil } from '../util/wait-until.js';
import { privateDir } from './private-dir.js';
import { ensurePythonVenv } from './python-venv.js';
import { logTail, startServerProcess, type ServerProcess } from './server-process.js';

/** Arize Phoenix, an open-source trace viewer that takes OTLP over HTTP; pinned so a second start installs nothing. */
const phoenixRequirement = 'arize-phoenix==20.26.1';
const launcher = fileURLToPath(new URL('./phoenix-serve.py', import.meta.url));

/** Made once per data dir and kept: the admin account's password is set only when Phoenix creates it. */
interface PhoenixSecrets {
  /** Signs Phoenix's sessions. */
  secret: string;
  /** A bearer token for its API and OTLP receiver: what Lifeline sends spans with. */
  adminSecret: string;
  /** The UI's sign-in for admin@localhost. */
  adminPassword: string;
}

/** Phoenix wants at least 32 characters with a digit and a lowercase letter. */
const secretValue = () => `${randomBytes(24).toString('hex')}a1`;

function secretsIn(dir: string): PhoenixSecrets {
  const file = join(dir, 'secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as PhoenixSecrets;
  const secrets = { secret: secretValue(), adminSecret: secretValue(), adminPassword: randomBytes(12).toString('base64url') };
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}

export interface PhoenixServer {
  /** The UI. */
  url: string;
  /** Where spans go: OTLP over HTTP with protobuf. */
  tracesUrl: string;
  /** The headers an exporter sends its spans with. */
  exportHeaders: Record<string, string>;
  /** The file that holds the UI's sign-in password. */
  secretsFile: string;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * A private Phoenix for `npm start -- --traces`: installed once into ~/.cache/lifeline/phoenix, its
 * data under `dir` (0700), the UI and both receivers on loopback, sign-in required (loopback is every
 * local user's): the UI as admin@localhost with a password of its own, spans with a bearer token.
 */
export async function startPhoenix(opts: {
  dir: string;
  log: Logger;
  onUnexpectedExit?: (message: string) => void;
}): Promise<PhoenixServer> {
  const { log } = opts;
  const venv = await ensurePythonVenv({
    name: 'phoenix',
    what: 'Phoenix, the local trace viewer (about 900 MB, a minute or two)',
    requirements: [phoenixRequirement],
    log,
  });
  const dir = privateDir(opts.dir);
  const secrets = secretsIn(dir);
  const [port, grpcPort] = [await getPort({ host: '127.0.0.1', port: 6006 }), await getPort({ host: '127.0.0.1' })];
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(dir, 'phoenix.log');
  const proc: ServerProcess = startServerProcess({
    name: 'Phoenix',
    command: join(venv, 'bin', 'python'),
    args: [launcher],
    stopSignal: 'SIGINT',
    logFile,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LANG: process.env.LANG,
      PHOENIX_WORKING_DIR: dir,
      PHOENIX_HOST: '127.0.0.1',
      PHOENIX_PORT: String(port),
      PHOENIX_GRPC_PORT: String(grpcPort),
      PHOENIX_ENABLE_AUTH: 'true',
      PHOENIX_SECRET: secrets.secret,
      PHOENIX_ADMIN_SECRET: secrets.adminSecret,
      PHOENIX_DEFAULT_ADMIN_INITIAL_PASSWORD: secrets.adminPassword,
      PHOENIX_TELEMETRY_ENABLED: 'false',
    },
    onUnexpectedExit: opts.onUnexpectedExit,
  });
  await waitUntil(
    async () => {
      const res = await fetch(`${url}/healthz`).catch(() => undefined);
      return res?.ok === true;
    },
    {
      what: `Phoenix on ${url} to answer`,
      timeoutMs: 120_000,
      intervalMs: 250,
      abortReason: proc.exitReason,
      hint: () => `Phoenix log ${logFile}:\n${logTail(logFile)}`,
    },
  );
  log.info({ url, logFile }, 'Phoenix is up');
  return {
    url,
    tracesUrl: `${url}/v1/traces`,
    exportHeaders: { authorization: `Bearer ${secrets.adminSecret}` },
    secretsFile: join(dir, 'secrets.json'),
    logFile,
    stop: () => proc.stop(),
  };
}
