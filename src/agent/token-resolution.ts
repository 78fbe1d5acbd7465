import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { realFileProblem, tokenPolicyProblem, type AgentTokenPolicy, type SecretFile } from '../config/token-policy.js';
import { describeTokenProblem, tokenCharacters, type TokenReference } from '../domain/token-reference.js';

/**
 * An agent's token reference does not resolve on this worker (a variable unset, a file missing) or
 * is refused by its AgentTokenPolicy: a configuration error that no retry fixes. Its message names
 * the agent and the reference, never a token.
 */
export class AgentTokenError extends Error {
  constructor(agent: string, token: TokenReference, problem: string) {
    super(describeTokenProblem(agent, token, problem));
    this.name = 'AgentTokenError';
  }
}

/** A token file holds one token; anything bigger is the wrong file (or a device that never ends). */
const maxTokenFileBytes = 64 * 1024;

const fileErrors: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ELOOP: 'too many symlinks, or a symlink put in its place while it was read',
};

async function readTokenFile(path: string): Promise<string> {
  // `path` is real: a symlink put in its place since it was checked is not followed.
  const file = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  try {
    const buffer = Buffer.alloc(maxTokenFileBytes + 1);
    const { bytesRead } = await file.read({ buffer, length: buffer.length, position: 0 });
    if (bytesRead > maxTokenFileBytes) throw Object.assign(new Error('too large'), { code: 'E2BIG' });
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await file.close();
  }
}

function refuseIf(agent: string, token: TokenReference, problem: string | undefined): void {
  if (problem !== undefined) throw new AgentTokenError(agent, token, problem);
}

/** `read`, its failure worded as a token file that cannot be read. */
async function onTheWorker<T>(agent: string, token: TokenReference, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const why =
      code === 'E2BIG' ? `it is larger than ${maxTokenFileBytes / 1024} KiB` : (fileErrors[code] ?? (code || (err as Error).message));
    throw new AgentTokenError(agent, token, `cannot be read on the worker: ${why}`);
  }
}

/** The real paths of Lifeline's own files that exist; a file that does not is no token either. */
async function realSecretFiles(files: SecretFile[]): Promise<SecretFile[]> {
  const real = await Promise.all(
    files.map((f) =>
      realpath(f.path).then(
        (path) => ({ ...f, path }),
        () => undefined,
      ),
    ),
  );
  return real.filter((f) => f !== undefined);
}

/** The real path of a file reference, once it is known to be inside the token directory and none of Lifeline's own files. */
async function confinedPath(agent: string, token: TokenReference, policy: AgentTokenPolicy): Promise<string> {
  const real = await onTheWorker(agent, token, () => realpath(token.ref));
  const [realDir, secrets] = await Promise.all([
    onTheWorker(agent, token, () => realpath(policy.dir)),
    realSecretFiles(policy.secretFiles),
  ]);
  refuseIf(agent, token, realFileProblem(real, realDir, secrets, policy));
  return real;
}

async function rawToken(agent: string, token: TokenReference, policy: AgentTokenPolicy, env: NodeJS.ProcessEnv): Promise<string> {
  refuseIf(agent, token, tokenPolicyProblem(token, policy));
  switch (token.source) {
    case 'literal':
      return token.ref;
    case 'env': {
      const value = env[token.ref];
      if (value === undefined) throw new AgentTokenError(agent, token, "is not set in the worker's environment");
      return value;
    }
    case 'file': {
      const real = await confinedPath(agent, token, policy);
      // Files written by `echo` or an editor end with a newline that is not part of the token.
      return (await onTheWorker(agent, token, () => readTokenFile(real))).replace(/\r?\n$/, '');
    }
  }
}

/**
 * The bearer token of `agent`, read when the worker calls it (so an edited variable or file takes
 * effect without re-registering the agent), if `policy` allows its reference: nothing is read
 * otherwise. Called only in activities: the token never enters workflow history.
 */
export async function resolveAgentToken(
  agent: { name: string; token: TokenReference },
  policy: AgentTokenPolicy,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const value = await rawToken(agent.name, agent.token, policy, env);
  if (value === '')
    throw new AgentTokenError(agent.name, agent.token, agent.token.source === 'env' ? "is empty in the worker's environment" : 'is empty');
  // A value fetch would refuse as a header: its error would quote the token.
  if (!tokenCharacters.test(value))
    throw new AgentTokenError(agent.name, agent.token, 'holds spaces or control characters, which a bearer token cannot');
  return value;
}
