import { fileURLToPath } from 'node:url';
import { startNodeScript, type NodeScriptProcess } from './node-script-process.js';

const agentServerEntry = fileURLToPath(new URL('../../src/agent-server/main.ts', import.meta.url));

export interface AgentServerProcessOptions {
  configPath: string;
  /** A fixed port keeps the agents' URLs across a restart; by default the config's, else any free one. */
  port?: number;
  env: NodeJS.ProcessEnv;
  logFile?: string;
  /** Each structured log line of the server (execution started, execution ended, ...). */
  onJson?: (entry: Record<string, unknown>, at: number) => void;
}

export interface AgentServerProcess extends NodeScriptProcess {
  url: string;
}

/** The reference agent server as a child process (`src/agent-server/main.ts`), ready once it listens. */
export async function startAgentServerProcess(opts: AgentServerProcessOptions): Promise<AgentServerProcess> {
  let url: string | undefined;
  const proc = await startNodeScript({
    name: 'agent server',
    script: agentServerEntry,
    args: ['--config', opts.configPath, ...(opts.port === undefined ? [] : ['--port', String(opts.port)])],
    env: opts.env,
    logFile: opts.logFile,
    onJson: opts.onJson,
    ready: (entry) => {
      if (entry.event !== 'listening' || typeof entry.url !== 'string') return false;
      url = entry.url;
      return true;
    },
  });
  return { ...proc, url: url! };
}
