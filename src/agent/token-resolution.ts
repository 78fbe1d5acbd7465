import { open } from 'node:fs/promises';
import { describeToken, tokenCharacters, type TokenReference } from './token-reference.js';

/**
 * An agent's token reference does not resolve on this worker (a variable unset, a file missing):
 * a configuration error that no retry fixes. Its message names the agent and the reference, never
 * a token.
 */
export class AgentTokenError extends Error {
  constructor(agent: string, token: TokenReference, problem: string) {
    super(`agent "${agent}": token ${describeToken(token)} ${problem}`);
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
};

async function readTokenFile(path: string): Promise<string> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(maxTokenFileBytes + 1);
    const { bytesRead } = await file.read({ buffer, length: buffer.length, position: 0 });
    if (bytesRead > maxTokenFileBytes) throw Object.assign(new Error('too large'), { code: 'E2BIG' });
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await file.close();
  }
}

async function rawToken(agent: string, token: TokenReference, env: NodeJS.ProcessEnv): Promise<string> {
  switch (token.source) {
    case 'literal':
      return token.ref;
    case 'env': {
      const value = env[token.ref];
      if (value === undefined) throw new AgentTokenError(agent, token, "is not set in the worker's environment");
      return value;
    }
    case 'file':
      try {
        // Files written by `echo` or an editor end with a newline that is not part of the token.
        return (await readTokenFile(token.ref)).replace(/\r?\n$/, '');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        const why =
          code === 'E2BIG' ? `it is larger than ${maxTokenFileBytes / 1024} KiB` : (fileErrors[code] ?? (code || (err as Error).message));
        throw new AgentTokenError(agent, token, `cannot be read on the worker: ${why}`);
      }
  }
}

/**
 * The bearer token of `agent`, read when the worker calls it (so an edited variable or file takes
 * effect without re-registering the agent). Called only in activities: the token never enters
 * workflow history.
 */
export async function resolveAgentToken(
  agent: { name: string; token: TokenReference },
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const value = await rawToken(agent.name, agent.token, env);
  if (value === '')
    throw new AgentTokenError(agent.name, agent.token, agent.token.source === 'env' ? "is empty in the worker's environment" : 'is empty');
  // A value fetch would refuse as a header: its error would quote the token.
  if (!tokenCharacters.test(value))
    throw new AgentTokenError(agent.name, agent.token, 'holds spaces or control characters, which a bearer token cannot');
  return value;
}
