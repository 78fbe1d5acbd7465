import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentTokenError, resolveAgentToken } from '../../src/agent/token-resolution.js';
import type { TokenReference } from '../../src/agent/token-reference.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeline-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tokenFile(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const resolve = (token: TokenReference, env: NodeJS.ProcessEnv = {}) => resolveAgentToken({ name: 'coder', token }, env);

async function failure(token: TokenReference, env: NodeJS.ProcessEnv = {}): Promise<AgentTokenError> {
  const err: unknown = await resolve(token, env).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgentTokenError);
  return err as AgentTokenError;
}

describe("resolving an agent's token on the worker", () => {
  it('reads a variable of the environment, a file without its trailing newline, or the literal', async () => {
    expect(await resolve({ source: 'env', ref: 'CODER_TOKEN' }, { CODER_TOKEN: 'from-env' })).toBe('from-env');
    expect(await resolve({ source: 'file', ref: tokenFile('lf', 'from-file\n') })).toBe('from-file');
    expect(await resolve({ source: 'file', ref: tokenFile('crlf', 'from-file\r\n') })).toBe('from-file');
    expect(await resolve({ source: 'file', ref: tokenFile('bare', 'from-file') })).toBe('from-file');
    expect(await resolve({ source: 'literal', ref: 'stored' })).toBe('stored');
  });

  it('names the agent, the reference and what is wrong', async () => {
    const cases: [TokenReference, NodeJS.ProcessEnv, string][] = [
      [{ source: 'env', ref: 'CODER_TOKEN' }, {}, `agent "coder": token env:CODER_TOKEN is not set in the worker's environment`],
      [
        { source: 'env', ref: 'CODER_TOKEN' },
        { CODER_TOKEN: '' },
        `agent "coder": token env:CODER_TOKEN is empty in the worker's environment`,
      ],
      [
        { source: 'file', ref: join(dir, 'missing') },
        {},
        `agent "coder": token file:${join(dir, 'missing')} cannot be read on the worker: no such file`,
      ],
      [{ source: 'file', ref: dir }, {}, `agent "coder": token file:${dir} cannot be read on the worker: it is a directory`],
      [{ source: 'file', ref: tokenFile('empty', '\n') }, {}, `agent "coder": token file:${join(dir, 'empty')} is empty`],
      [
        { source: 'file', ref: tokenFile('big', 'x'.repeat(65 * 1024)) },
        {},
        `agent "coder": token file:${join(dir, 'big')} cannot be read on the worker: it is larger than 64 KiB`,
      ],
    ];
    for (const [token, env, message] of cases) expect((await failure(token, env)).message).toBe(message);
  });

  it.skipIf(process.getuid?.() === 0)('says when the worker may not read the file', async () => {
    const path = tokenFile('unreadable', 'secret');
    chmodSync(path, 0o000);
    expect((await failure({ source: 'file', ref: path })).message).toBe(
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
