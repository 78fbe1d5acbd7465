import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultTokenEnv, type AgentTokenPolicy } from '../../src/config/token-policy.js';
import { AgentTokenError, resolveAgentToken } from '../../src/agent/token-resolution.js';
import type { TokenReference } from '../../src/domain/token-reference.js';

const root = mkdtempSync(join(tmpdir(), 'lifeline-token-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
/** The token directory, and beside it files no token reference may reach. */
const dir = join(root, 'tokens');
const elsewhere = join(root, 'elsewhere');
mkdirSync(dir);
mkdirSync(elsewhere);
const policy: AgentTokenPolicy = { env: defaultTokenEnv, dir, secretFiles: [] };

function tokenFile(name: string, content: string, inDir = dir): string {
  const path = join(inDir, name);
  writeFileSync(path, content);
  return path;
}

const nobody = { uid: 65534, gid: 65534 };
const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const resolveTokenFileScript = fileURLToPath(new URL('../support/resolve-token-file.ts', import.meta.url));
const execFileAsync = promisify(execFile);

const resolve = (token: TokenReference, env: NodeJS.ProcessEnv = {}, withPolicy = policy) =>
  resolveAgentToken({ name: 'coder', token }, withPolicy, env);

async function failure(token: TokenReference, env: NodeJS.ProcessEnv = {}, withPolicy = policy): Promise<AgentTokenError> {
  const err: unknown = await resolve(token, env, withPolicy).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgentTokenError);
  return err as AgentTokenError;
}

/**
 * The failure resolving the token file `path` gives to a worker that is not root. Root reads any
 * file, so as root (as CI runs) the resolution runs in a child process as `nobody`, with the
 * directories on the way open to it: only the file itself is refused.
 */
async function failureForAnUnprivilegedWorker(path: string): Promise<string> {
  if (process.getuid?.() !== 0) return (await failure({ source: 'file', ref: path })).message;
  for (const open of [root, dir]) chmodSync(open, 0o755);
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', resolveTokenFileScript, path, dir], {
    cwd: projectRoot,
    uid: nobody.uid,
    gid: nobody.gid,
  });
  const { uid, outcome } = JSON.parse(stdout) as { uid: number; outcome: string };
  expect(uid).toBe(nobody.uid);
  return outcome;
}

describe("resolving an agent's token on the worker", () => {
  it('reads a variable of the environment, a file without its trailing newline, or the literal', async () => {
    expect(await resolve({ source: 'env', ref: 'AGENT_TOKEN_CODER' }, { AGENT_TOKEN_CODER: 'from-env' })).toBe('from-env');
    expect(await resolve({ source: 'file', ref: tokenFile('lf', 'from-file\n') })).toBe('from-file');
    expect(await resolve({ source: 'file', ref: tokenFile('crlf', 'from-file\r\n') })).toBe('from-file');
    expect(await resolve({ source: 'file', ref: tokenFile('bare', 'from-file') })).toBe('from-file');
    expect(await resolve({ source: 'literal', ref: 'stored' })).toBe('stored');
  });

  it('names the agent, the reference and what is wrong', async () => {
    mkdirSync(join(dir, 'a-directory'));
    const cases: [TokenReference, NodeJS.ProcessEnv, string][] = [
      [
        { source: 'env', ref: 'AGENT_TOKEN_CODER' },
        {},
        `agent "coder": token env:AGENT_TOKEN_CODER is not set in the worker's environment`,
      ],
      [
        { source: 'env', ref: 'AGENT_TOKEN_CODER' },
        { AGENT_TOKEN_CODER: '' },
        `agent "coder": token env:AGENT_TOKEN_CODER is empty in the worker's environment`,
      ],
      [
        { source: 'file', ref: join(dir, 'missing') },
        {},
        `agent "coder": token file:${join(dir, 'missing')} cannot be read on the worker: no such file`,
      ],
      [
        { source: 'file', ref: join(dir, 'a-directory') },
        {},
        `agent "coder": token file:${join(dir, 'a-directory')} cannot be read on the worker: it is a directory`,
      ],
      [{ source: 'file', ref: tokenFile('empty', '\n') }, {}, `agent "coder": token file:${join(dir, 'empty')} is empty`],
      [
        { source: 'file', ref: tokenFile('big', 'x'.repeat(65 * 1024)) },
        {},
        `agent "coder": token file:${join(dir, 'big')} cannot be read on the worker: it is larger than 64 KiB`,
      ],
    ];
    for (const [token, env, message] of cases) expect((await failure(token, env)).message).toBe(message);
  });

  it('says when the worker may not read the file', async () => {
    const path = tokenFile('unreadable', 'secret');
    chmodSync(path, 0o000);
    expect(await failureForAnUnprivilegedWorker(path)).toBe(
      `agent "coder": token file:${path} cannot be read on the worker: permission denied`,
    );
  });

  it('refuses a value no bearer token can be, without quoting it', async () => {
    const err = await failure({ source: 'file', ref: tokenFile('two-lines', 'top-secret\nsecond line\n') });
    expect(err.message).toBe(
      `agent "coder": token file:${join(dir, 'two-lines')} holds spaces or control characters, which a bearer token cannot`,
    );
    const literal = await failure({ source: 'literal', ref: 'top secret' });
    expect(literal.message).toBe(
      'agent "coder": token literal (stored in Postgres) holds spaces or control characters, which a bearer token cannot',
    );
    expect(literal.message + err.message).not.toContain('secret');
  });
});

describe('a token reference the policy refuses', () => {
  const outside = (path: string, real?: string) =>
    `agent "coder": token file:${path} is outside LIFELINE_AGENT_TOKEN_DIR (${dir})${real ? ` once its symlinks are followed (it is ${real})` : ''}: move the file there, or set LIFELINE_AGENT_TOKEN_DIR on the workers and where agents are added`;

  it("is never read: Lifeline's own variables, whatever the allowlist, and variables it does not allow", async () => {
    const env = { DATABASE_URL: 'postgres://lifeline:pw@db/lifeline', LIFELINE_CODEC_KEYS: 'k1:key', HOME_TOKEN: 'h' };
    const allowingAll = { ...policy, env: ['DATABASE_URL', 'LIFELINE_*', 'HOME_*'] };
    const database = await failure({ source: 'env', ref: 'DATABASE_URL' }, env, allowingAll);
    expect(database.message).toBe(
      `agent "coder": token env:DATABASE_URL is refused: Lifeline's own secrets (DATABASE_URL) can never be agent tokens; hold the token in a variable LIFELINE_AGENT_TOKEN_ENV allows (DATABASE_URL, LIFELINE_*, HOME_*)`,
    );
    const keys = await failure({ source: 'env', ref: 'LIFELINE_CODEC_KEYS' }, env, allowingAll);
    expect(keys.message).toContain("Lifeline's own secrets (LIFELINE_*) can never be agent tokens");
    const home = await failure({ source: 'env', ref: 'HOME_TOKEN' }, env);
    expect(home.message).toBe(
      'agent "coder": token env:HOME_TOKEN is not allowed by LIFELINE_AGENT_TOKEN_ENV (AGENT_TOKEN, AGENT_TOKEN_*): rename the variable, or add it there on the workers and where agents are added',
    );
    for (const err of [database, keys, home]) for (const value of ['pw', 'k1:key']) expect(err.message).not.toContain(value);
  });

  it('is a file outside the token directory, or reached through .. out of it', async () => {
    const path = tokenFile('outside', 'not-for-agents', elsewhere);
    expect((await failure({ source: 'file', ref: path })).message).toBe(outside(path));
    const dotted = `${dir}/../elsewhere/outside`;
    expect((await failure({ source: 'file', ref: dotted })).message).toBe(
      `agent "coder": token file:${dotted} is refused: a token file's path must not contain .., name the file inside LIFELINE_AGENT_TOKEN_DIR (${dir}) directly`,
    );
  });

  it('is a symlink in the token directory to a file outside it, or to a directory outside it', async () => {
    const target = tokenFile('target', 'not-for-agents', elsewhere);
    symlinkSync(target, join(dir, 'escape'));
    symlinkSync(elsewhere, join(dir, 'escape-dir'));
    const real = realpathSync(target);
    expect((await failure({ source: 'file', ref: join(dir, 'escape') })).message).toBe(outside(join(dir, 'escape'), real));
    expect((await failure({ source: 'file', ref: join(dir, 'escape-dir', 'target') })).message).toBe(
      outside(join(dir, 'escape-dir', 'target'), real),
    );
  });

  it("is one of Lifeline's own files, even inside the token directory and under another name", async () => {
    const config = tokenFile('temporal.toml', 'address="x"');
    symlinkSync(config, join(dir, 'innocent'));
    const withSecrets = { ...policy, secretFiles: [{ setting: 'TEMPORAL_CONFIG_FILE', path: config }] };
    for (const path of [config, join(dir, 'innocent')]) {
      expect((await failure({ source: 'file', ref: path }, {}, withSecrets)).message).toBe(
        `agent "coder": token file:${path} is refused: files named by Lifeline's own settings (TEMPORAL_CONFIG_FILE) can never be agent tokens`,
      );
    }
  });
});

describe('symlinks that stay inside the token directory', () => {
  it('resolve: a token directory that is itself a symlink, and a Kubernetes secret volume’s ..data links', async () => {
    const real = join(root, 'real-tokens');
    mkdirSync(join(real, '..2024_05_01_12_00_00.1'), { recursive: true });
    writeFileSync(join(real, '..2024_05_01_12_00_00.1', 'coder'), 'mounted\n');
    symlinkSync('..2024_05_01_12_00_00.1', join(real, '..data'));
    symlinkSync(join('..data', 'coder'), join(real, 'coder'));
    const linkedDir = join(root, 'linked-tokens');
    symlinkSync(real, linkedDir);
    for (const tokenDir of [real, linkedDir]) {
      expect(await resolve({ source: 'file', ref: join(tokenDir, 'coder') }, {}, { ...policy, dir: tokenDir })).toBe('mounted');
    }
  });
});
