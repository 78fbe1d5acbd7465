import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  defaultTokenEnv,
  lifelineSecretFiles,
  parseTokenEnv,
  realFileProblem,
  tokenDirProblem,
  tokenPolicyProblem,
  type AgentTokenPolicy,
} from '../../src/config/token-policy.js';
import type { TokenReference } from '../../src/domain/token-reference.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';

const dir = '/run/lifeline/tokens';
const policy: AgentTokenPolicy = {
  env: defaultTokenEnv,
  dir,
  secretFiles: [{ setting: 'TEMPORAL_TLS_CLIENT_KEY_PATH', path: `${dir}/temporal-client.key` }],
};
const env = (ref: string): TokenReference => ({ source: 'env', ref });
const file = (ref: string): TokenReference => ({ source: 'file', ref });

const notAllowed = (list: string) =>
  `is not allowed by LIFELINE_AGENT_TOKEN_ENV (${list}): rename the variable, or add it there on the workers and where agents are added`;
const lifelines = (rule: string, list = 'AGENT_TOKEN, AGENT_TOKEN_*') =>
  `is refused: Lifeline's own secrets (${rule}) can never be agent tokens; hold the token in a variable LIFELINE_AGENT_TOKEN_ENV allows (${list})`;
const outside = (detail = '') =>
  `is outside LIFELINE_AGENT_TOKEN_DIR (${dir})${detail}: move the file there, or set LIFELINE_AGENT_TOKEN_DIR on the workers and where agents are added`;

describe('which agent token references a worker resolves', () => {
  it('env: only the names and prefixes LIFELINE_AGENT_TOKEN_ENV allows (AGENT_TOKEN and AGENT_TOKEN_* by default)', () => {
    for (const name of ['AGENT_TOKEN', 'AGENT_TOKEN_CODER', 'AGENT_TOKEN_'])
      expect(tokenPolicyProblem(env(name), policy), name).toBeUndefined();
    for (const name of ['CODER_TOKEN', 'AGENT_TOKENS', 'agent_token', 'HOME', 'AWS_SECRET_ACCESS_KEY'])
      expect(tokenPolicyProblem(env(name), policy), name).toBe(notAllowed('AGENT_TOKEN, AGENT_TOKEN_*'));
    expect(tokenPolicyProblem(env('AGENT_TOKEN_CODER'), { ...policy, env: [] })).toBe(notAllowed('none'));
  });

  it("never Lifeline's own secrets, even when the allowlist names them", () => {
    const permissive = { ...policy, env: ['DATABASE_URL', 'REDIS_URL', 'LIFELINE_*', 'TEMPORAL_*', 'PG*', 'P*', 'D*'] };
    const cases: [string, string][] = [
      ['DATABASE_URL', 'DATABASE_URL'],
      ['REDIS_URL', 'REDIS_URL'],
      ['LIFELINE_CODEC_KEYS', 'LIFELINE_*'],
      ['LIFELINE_CODEC_AUTH_TOKEN', 'LIFELINE_*'],
      ['TEMPORAL_API_KEY', 'TEMPORAL_*'],
      ['TEMPORAL_TLS_CLIENT_KEY_DATA', 'TEMPORAL_*'],
      ['PGPASSWORD', 'PG*'],
    ];
    for (const [name, rule] of cases) {
      expect(tokenPolicyProblem(env(name), permissive), name).toBe(lifelines(rule, permissive.env.join(', ')));
      expect(tokenPolicyProblem(env(name), policy), name).toBe(lifelines(rule));
    }
    // Near misses are the allowlist's to decide.
    expect(tokenPolicyProblem(env('DATABASE_URL_OF_AGENT'), permissive)).toBeUndefined();
    expect(tokenPolicyProblem(env('PAGER_TOKEN'), permissive)).toBeUndefined();
  });

  it('file: only inside LIFELINE_AGENT_TOKEN_DIR, as written (the worker then follows symlinks)', () => {
    for (const path of [`${dir}/coder`, `${dir}/agents/coder`, `${dir}//coder`, `${dir}/./coder`, `${dir}/..data/coder`])
      expect(tokenPolicyProblem(file(path), policy), path).toBeUndefined();
    for (const path of ['/etc/passwd', dir, `${dir}-evil/coder`, '/run/lifeline/token', '/run/lifeline'])
      expect(tokenPolicyProblem(file(path), policy), path).toBe(outside());
  });

  it('file: refuses any .. in the path, even one that stays inside', () => {
    const dots = `is refused: a token file's path must not contain .., name the file inside LIFELINE_AGENT_TOKEN_DIR (${dir}) directly`;
    for (const path of [`${dir}/../../../etc/passwd`, `${dir}/agents/../coder`, `${dir}/..`])
      expect(tokenPolicyProblem(file(path), policy), path).toBe(dots);
  });

  it("file: never one of Lifeline's own files, even inside the directory", () => {
    const refused = "is refused: files named by Lifeline's own settings (TEMPORAL_TLS_CLIENT_KEY_PATH) can never be agent tokens";
    expect(tokenPolicyProblem(file(`${dir}/temporal-client.key`), policy)).toBe(refused);
    expect(tokenPolicyProblem(file(`${dir}/./temporal-client.key`), policy)).toBe(refused);
  });

  it('a literal is held in Postgres and needs no policy', () => {
    expect(tokenPolicyProblem({ source: 'literal', ref: 'DATABASE_URL' }, { ...policy, env: [] })).toBeUndefined();
  });

  it('judges a real path against the real directory and the real paths of Lifeline’s own files', () => {
    const realDir = '/var/run/lifeline/tokens';
    expect(realFileProblem(`${realDir}/..2024_05_01/coder`, realDir, [], policy)).toBeUndefined();
    expect(realFileProblem('/etc/passwd', realDir, [], policy)).toBe(outside(' once its symlinks are followed (it is /etc/passwd)'));
    expect(realFileProblem(realDir, realDir, [], policy)).toBe(outside(` once its symlinks are followed (it is ${realDir})`));
    expect(realFileProblem(`${realDir}/toml`, realDir, [{ setting: 'TEMPORAL_CONFIG_FILE', path: `${realDir}/toml` }], policy)).toBe(
      "is refused: files named by Lifeline's own settings (TEMPORAL_CONFIG_FILE) can never be agent tokens",
    );
  });
});

describe('LIFELINE_AGENT_TOKEN_ENV', () => {
  it('is comma-separated names and prefixes ending in *, or none', () => {
    expect(parseTokenEnv('AGENT_TOKEN_*, CODER_TOKEN ,X*')).toEqual({ entries: ['AGENT_TOKEN_*', 'CODER_TOKEN', 'X*'] });
    expect(parseTokenEnv(' none ')).toEqual({ entries: [] });
    // DATABASE_URL* matches more than DATABASE_URL: allowed, and DATABASE_URL itself stays refused.
    expect(parseTokenEnv('DATABASE_URL*')).toEqual({ entries: ['DATABASE_URL*'] });
  });

  it('refuses a malformed entry, a bare *, and an entry that could only name a secret', () => {
    const malformed = { problem: 'each entry must be a variable name or a prefix ending in *, such as AGENT_TOKEN_* (or none)' };
    for (const text of ['*', 'A,,B', 'A*B', '2FA', 'A B', 'none,AGENT_TOKEN']) expect(parseTokenEnv(text), text).toEqual(malformed);
    for (const [text, entry, rule] of [
      ['AGENT_TOKEN,DATABASE_URL', 'DATABASE_URL', 'DATABASE_URL'],
      ['LIFELINE_*', 'LIFELINE_*', 'LIFELINE_*'],
      ['LIFELINE_AGENT_TOKEN_*', 'LIFELINE_AGENT_TOKEN_*', 'LIFELINE_*'],
      ['TEMPORAL_API_KEY', 'TEMPORAL_API_KEY', 'TEMPORAL_*'],
      ['PG*', 'PG*', 'PG*'],
    ]) {
      expect(parseTokenEnv(text!), text).toEqual({
        problem: `${entry} names Lifeline's own secrets (${rule}), which can never be agent tokens`,
      });
    }
  });
});

describe("the files Lifeline's own settings name", () => {
  it('are the absolute values of its variables, those ending in _PATH or _FILE, and the defaults', () => {
    const files = lifelineSecretFiles(
      {
        TEMPORAL_TLS_CLIENT_KEY_PATH: '/etc/temporal/client.key',
        TEMPORAL_CONFIG_FILE: 'conf/temporal.toml',
        LIFELINE_WORKFLOW_BUNDLE: '/opt/bundle.js',
        PGSSLKEY: '/etc/pg/client.key',
        LIFELINE_TASK_QUEUE: 'lifeline',
        DATABASE_URL: 'postgres://u:p@h/db',
        TEMPORAL_API_KEY: '',
        AGENT_TOKEN_FILE: '/run/agent',
        HOME: '/home/me',
      },
      '/home/me',
    );
    expect(files).toEqual([
      { setting: 'TEMPORAL_TLS_CLIENT_KEY_PATH', path: '/etc/temporal/client.key' },
      { setting: 'TEMPORAL_CONFIG_FILE', path: resolve('conf/temporal.toml') },
      { setting: 'LIFELINE_WORKFLOW_BUNDLE', path: '/opt/bundle.js' },
      { setting: 'PGSSLKEY', path: '/etc/pg/client.key' },
      { setting: "TEMPORAL_CONFIG_FILE's default", path: '/home/me/.config/temporalio/temporal.toml' },
      { setting: "TEMPORAL_CONFIG_FILE's default", path: '/home/me/Library/Application Support/temporalio/temporal.toml' },
      { setting: "PGPASSFILE's default", path: '/home/me/.pgpass' },
    ]);
    expect(lifelineSecretFiles({ XDG_CONFIG_HOME: '/xdg' }, '/home/me')[0]).toEqual({
      setting: "TEMPORAL_CONFIG_FILE's default",
      path: '/xdg/temporalio/temporal.toml',
    });
  });
});

describe('the agent token settings', () => {
  it('default to AGENT_TOKEN, AGENT_TOKEN_* and the data directory’s agent-tokens', () => {
    const { agentTokens } = loadConfig({ LIFELINE_DATA_DIR: '/srv/lifeline', TEMPORAL_TLS_CLIENT_KEY_PATH: '/k' });
    expect(agentTokens).toMatchObject({ env: ['AGENT_TOKEN', 'AGENT_TOKEN_*'], dir: '/srv/lifeline/agent-tokens' });
    expect(agentTokens.secretFiles).toContainEqual({ setting: 'TEMPORAL_TLS_CLIENT_KEY_PATH', path: '/k' });
    expect(loadConfig({}).agentTokens.dir).toBe(resolve('.lifeline', 'agent-tokens'));
  });

  it('are read from LIFELINE_AGENT_TOKEN_ENV and LIFELINE_AGENT_TOKEN_DIR (made absolute)', () => {
    const { agentTokens } = loadConfig({ LIFELINE_AGENT_TOKEN_ENV: 'CODER_TOKEN,AGENT_*', LIFELINE_AGENT_TOKEN_DIR: 'secrets' });
    expect(agentTokens).toMatchObject({ env: ['CODER_TOKEN', 'AGENT_*'], dir: join(process.cwd(), 'secrets') });
  });

  it('are refused at start when malformed, naming each variable', () => {
    expect(() => loadConfig({ LIFELINE_AGENT_TOKEN_ENV: 'LIFELINE_*', LIFELINE_AGENT_TOKEN_DIR: '/' })).toThrow(
      new ConfigError(
        'invalid configuration:\n' +
          "  LIFELINE_AGENT_TOKEN_ENV: LIFELINE_* names Lifeline's own secrets (LIFELINE_*), which can never be agent tokens\n" +
          '  LIFELINE_AGENT_TOKEN_DIR: must be a directory for agent token files, not the root of the file system',
      ),
    );
    expect(tokenDirProblem('/run/secrets')).toBeUndefined();
  });
});
