import { isAbsolute, join, parse, relative, resolve, sep } from 'node:path';
import type { TokenReference } from '../domain/token-reference.js';

/**
 * Which token references a worker resolves, so that registering an agent cannot turn the worker's
 * own secrets into a bearer token sent to the agent's URL: `env:` only variables the allowlist
 * names, `file:` only files inside one directory, and never Lifeline's own secrets, whatever the
 * allowlist or the directory. Pure: symlinks are followed by the caller (token-resolution.ts), which
 * hands the real paths to realFileProblem.
 */
export interface AgentTokenPolicy {
  /** LIFELINE_AGENT_TOKEN_ENV: the names, and prefixes ending in `*`, an env: reference may name; empty: none. */
  env: string[];
  /** LIFELINE_AGENT_TOKEN_DIR, absolute: a file: reference must be inside it. */
  dir: string;
  /** Files named by Lifeline's own settings: never a token, even inside `dir`. */
  secretFiles: SecretFile[];
}

/** A file one of Lifeline's settings names, and that setting. */
export interface SecretFile {
  setting: string;
  path: string;
}

export const defaultTokenEnv = ['AGENT_TOKEN', 'AGENT_TOKEN_*'];

/** Lifeline's own connections and secrets (Postgres, libpq's PG*, Redis, Temporal, payload keys): never an agent token. */
export const lifelineSecretVariables = ['DATABASE_URL', 'REDIS_URL', 'LIFELINE_*', 'TEMPORAL_*', 'PG*'];

const matches = (name: string, pattern: string) => (pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern);

/** The deny rule a variable name falls under, or undefined. */
function secretRule(name: string): string | undefined {
  return lifelineSecretVariables.find((rule) => matches(name, rule));
}

const envEntry = /^[A-Za-z_][A-Za-z0-9_]*\*?$/;

/**
 * LIFELINE_AGENT_TOKEN_ENV's entries (comma-separated names and prefixes ending in `*`, or `none`),
 * or why not. An entry all of whose names are Lifeline's own secrets is refused: it could never work.
 */
export function parseTokenEnv(text: string): { entries: string[] } | { problem: string } {
  if (text.trim() === 'none') return { entries: [] };
  const entries = text.split(',').map((e) => e.trim());
  if (entries.some((e) => e === 'none' || !envEntry.test(e)))
    return { problem: 'each entry must be a variable name or a prefix ending in *, such as AGENT_TOKEN_* (or none)' };
  for (const entry of entries) {
    const rule = secretRule(entry.replace(/\*$/, ''));
    // A prefix inside a denied prefix (LIFELINE_X*) only ever matches denied names; DATABASE_URL* does not.
    if (rule !== undefined && (!entry.endsWith('*') || rule.endsWith('*'))) {
      return { problem: `${entry} names Lifeline's own secrets (${rule}), which can never be agent tokens` };
    }
  }
  return { entries };
}

/** Why `dir` cannot be LIFELINE_AGENT_TOKEN_DIR, or undefined. */
export function tokenDirProblem(dir: string): string | undefined {
  const absolute = resolve(dir);
  return absolute === parse(absolute).root ? 'must be a directory for agent token files, not the root of the file system' : undefined;
}

/**
 * The files Lifeline's own settings name (absolute, symlinks not followed): the value of every
 * variable under a deny rule that is an absolute path or whose name ends in _PATH or _FILE
 * (TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_CONFIG_FILE, PGPASSFILE, PGSSLKEY...), and the defaults
 * of Temporal's configuration file (Linux and macOS) and libpq's password file.
 */
export function lifelineSecretFiles(env: NodeJS.ProcessEnv, home: string): SecretFile[] {
  const named = Object.entries(env).flatMap(([setting, value]) =>
    value && secretRule(setting) && (value.startsWith('/') || /_(PATH|FILE)$/.test(setting)) ? [{ setting, path: resolve(value) }] : [],
  );
  const configHome = env.XDG_CONFIG_HOME || join(home, '.config');
  return [
    ...named,
    { setting: "TEMPORAL_CONFIG_FILE's default", path: join(configHome, 'temporalio', 'temporal.toml') },
    { setting: "TEMPORAL_CONFIG_FILE's default", path: join(home, 'Library', 'Application Support', 'temporalio', 'temporal.toml') },
    { setting: "PGPASSFILE's default", path: join(home, '.pgpass') },
  ];
}

const envList = (policy: AgentTokenPolicy) => (policy.env.length > 0 ? policy.env.join(', ') : 'none');

function envProblem(name: string, policy: AgentTokenPolicy): string | undefined {
  const rule = secretRule(name);
  if (rule !== undefined) {
    return `is refused: Lifeline's own secrets (${rule}) can never be agent tokens; hold the token in a variable LIFELINE_AGENT_TOKEN_ENV allows (${envList(policy)})`;
  }
  if (!policy.env.some((pattern) => matches(name, pattern))) {
    return `is not allowed by LIFELINE_AGENT_TOKEN_ENV (${envList(policy)}): rename the variable, or add it there on the workers and where agents are added`;
  }
  return undefined;
}

/** Strictly inside `dir` (not `dir` itself); both absolute and normalized. */
function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

const outside = (policy: AgentTokenPolicy, detail = '') =>
  `is outside LIFELINE_AGENT_TOKEN_DIR (${policy.dir})${detail}: move the file there, or set LIFELINE_AGENT_TOKEN_DIR on the workers and where agents are added`;

function secretFileProblem(path: string, secretFiles: SecretFile[]): string | undefined {
  const secret = secretFiles.find((f) => f.path === path);
  return secret && `is refused: files named by Lifeline's own settings (${secret.setting}) can never be agent tokens`;
}

function fileProblem(path: string, policy: AgentTokenPolicy): string | undefined {
  if (path.split(/[\\/]/).includes('..'))
    return `is refused: a token file's path must not contain .., name the file inside LIFELINE_AGENT_TOKEN_DIR (${policy.dir}) directly`;
  const absolute = resolve(path);
  if (!isInside(absolute, policy.dir)) return outside(policy);
  return secretFileProblem(absolute, policy.secretFiles);
}

/**
 * Why `policy` refuses `token`, or undefined: at registration and, before reading anything, on the
 * worker. For a file the path is judged as written; the worker judges its real path after too.
 */
export function tokenPolicyProblem(token: TokenReference, policy: AgentTokenPolicy): string | undefined {
  switch (token.source) {
    case 'env':
      return envProblem(token.ref, policy);
    case 'file':
      return fileProblem(token.ref, policy);
    case 'literal':
      return undefined;
  }
}

/**
 * Why a file reference is refused once its symlinks are followed, or undefined: `realFile` (the
 * file's real path) must be inside `realDir` (LIFELINE_AGENT_TOKEN_DIR's) and none of `realSecretFiles`.
 */
export function realFileProblem(
  realFile: string,
  realDir: string,
  realSecretFiles: SecretFile[],
  policy: AgentTokenPolicy,
): string | undefined {
  if (!isInside(realFile, realDir)) return outside(policy, ` once its symlinks are followed (it is ${realFile})`);
  return secretFileProblem(realFile, realSecretFiles);
}
