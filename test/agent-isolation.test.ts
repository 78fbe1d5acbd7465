import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentClient } from '../src/agent/agent-client.js';
import type { AgentExecution } from '../src/agent/protocol.js';
import { startStackAgentServer, type StackAgentServer } from '../src/stack/agent-server-process.js';
import { writeDemoAgentTokens } from '../src/stack/demo-agent-tokens.js';
import { waitUntil } from '../src/util/wait-until.js';

/**
 * An agent process is untrusted code. What it finds when it looks for secrets the way the security
 * review did: its parent's environment, the agent server's configuration, the token files.
 */
const probe = `for f in /proc/$PPID/environ "$0" "$1"; do echo "== $f"; tr '\\0' '\\n' < "$f"; done; echo "uid=$(id -u)"`;
// Set in the environment npm start's agent server is launched from: a database password, a codec key.
const secret = `isolation-probe-secret-${process.pid}`;
const secretVariables = { DATABASE_URL: `postgres://lifeline:${secret}@db/lifeline`, LIFELINE_CODEC_KEYS: `k1:${secret}` };

interface Probe {
  server: StackAgentServer;
  dir: string;
  token: string;
  run(): Promise<string>;
}

async function startProbe(runAgentsAs: string | undefined): Promise<Probe> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-isolation-'));
  // Only the files' own modes keep them private here: the directory is open to everyone.
  chmodSync(dir, 0o755);
  const token = writeDemoAgentTokens(join(dir, 'agent-tokens'), ['probe']).probe!;
  const saved = { ...process.env };
  Object.assign(process.env, secretVariables);
  let server: StackAgentServer;
  try {
    server = await startStackAgentServer({
      dir,
      config: {
        runAgentsAs,
        agents: { probe: { token: token.token, command: ['/bin/sh', '-c', probe, join(dir, 'agent-server.json'), token.reference.ref] } },
      },
      logLevel: 'warn',
    });
  } finally {
    for (const name of Object.keys(secretVariables)) if (saved[name] === undefined) delete process.env[name];
  }
  const client = createAgentClient({ baseUrl: server.baseUrlFor('probe'), token: token.token });
  let runs = 0;
  return {
    server,
    dir,
    token: token.token,
    async run() {
      const { id } = await client.start({ id: `isolation-${process.pid}-${++runs}`, prompt: 'look around', timeoutSeconds: 30 });
      const ended = await waitUntil<AgentExecution>(
        async () => {
          const execution = await client.get(id);
          return execution && execution.status !== 'running' ? execution : undefined;
        },
        { what: `probe ${id} to end`, timeoutMs: 30_000, intervalMs: 100 },
      );
      return ended.output ?? '';
    },
  };
}

async function stopProbe(p: Probe | undefined): Promise<void> {
  await p?.server.stop();
  if (p) rmSync(p.dir, { recursive: true, force: true });
}

describe("npm start's agent server, a process of its own", () => {
  let own: Probe;
  beforeAll(async () => {
    // As the server's own user: the case where only its scrubbed environment protects anything.
    own = await startProbe(userInfo().username);
  }, 90_000);
  afterAll(() => stopProbe(own));

  it("has none of Lifeline's settings or secrets in its environment, for an agent that reads it to find", async () => {
    const output = await own.run();
    const environ = output.slice(output.indexOf('== /proc/'), output.indexOf('\n== ', 1));
    // The control: the probe did read the environment.
    expect(environ).toMatch(/^PATH=/m);
    expect(environ).not.toContain(secret);
    expect(environ).not.toMatch(/^(DATABASE_URL|LIFELINE_CODEC_KEYS|REDIS_URL)=/m);
    expect(environ).toContain('LIFELINE_LOG_LEVEL=warn');
  });
});

// Another user is only to be had as root; CI runs as root.
describe.skipIf(process.getuid?.() !== 0)('agent processes of an agent server run as root', () => {
  let root: Probe;
  beforeAll(async () => {
    root = await startProbe(undefined);
  }, 90_000);
  afterAll(() => stopProbe(root));

  it("run as nobody, and read neither the server's environment nor its configuration nor the token files", async () => {
    const output = await root.run();
    expect(output).toContain('uid=65534');
    expect(output).not.toContain(secret);
    expect(output).not.toContain(root.token);
    expect(output).not.toMatch(/^PATH=/m);
    expect(output.match(/Permission denied/g)).toHaveLength(3);
  });
});
