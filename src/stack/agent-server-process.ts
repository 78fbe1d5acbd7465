import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import getPort from 'get-port';
import type { AgentServerConfigInput } from '../agent-server/agent-server-config.js';
import { ordinaryEnvironment } from '../agent-server/process-environment.js';
import { nodeArgsFor, siblingModule } from '../util/module-path.js';
import { waitUntil } from '../util/wait-until.js';
import { logTail, startServerProcess } from './server-process.js';

const entry = siblingModule(import.meta.url, '../agent-server/main');

export interface StackAgentServerOptions {
  /** Private (0700): the configuration written here holds every agent's token. */
  dir: string;
  config: AgentServerConfigInput;
  logLevel: string;
  onUnexpectedExit?: (message: string) => void;
}

export interface StackAgentServer {
  url: string;
  /** The protocol base URL of one configured agent. */
  baseUrlFor(agent: string): string;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * `npm start`'s reference agent server, as a process of its own rather than inside the worker: its
 * environment has none of Lifeline's settings or secrets (the database URL, codec keys), so an
 * agent process that reads its parent's environment finds nothing, and its configuration, the
 * agents' tokens, is a 0600 file in the private data directory, out of reach of agent processes
 * run as another user (agent-user.ts).
 */
export async function startStackAgentServer(opts: StackAgentServerOptions): Promise<StackAgentServer> {
  const port = await getPort({ host: '127.0.0.1' });
  const configFile = join(opts.dir, 'agent-server.json');
  writeFileSync(configFile, JSON.stringify({ ...opts.config, host: '127.0.0.1', port }), { mode: 0o600 });
  const logFile = join(opts.dir, 'agent-server.log');
  const proc = startServerProcess({
    name: 'agent server',
    command: process.execPath,
    args: [...nodeArgsFor(entry), '--config', configFile],
    // Its close stops every run, each within its stopGraceMs.
    stopSignal: 'SIGTERM',
    logFile,
    env: { ...ordinaryEnvironment(process.env), LIFELINE_LOG_LEVEL: opts.logLevel },
    onUnexpectedExit: opts.onUnexpectedExit,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.ok === true, {
    what: `the agent server on ${url} to answer`,
    timeoutMs: 60_000,
    intervalMs: 200,
    abortReason: proc.exitReason,
    hint: () => `agent server log ${logFile}:\n${logTail(logFile)}`,
  });
  return { url, baseUrlFor: (agent) => `${url}/agents/${agent}`, logFile, stop: () => proc.stop(30_000) };
}
