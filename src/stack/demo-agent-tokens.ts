import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TokenReference } from '../agent/token-reference.js';

interface DemoAgentToken {
  token: string;
  /** What the agent's registration stores: the file, not the token. */
  reference: TokenReference;
}

/**
 * Fresh tokens for `npm start`'s demo agents, each in a file of its own under the data directory
 * that its registration references: Postgres holds no secret, and every worker on this machine
 * (`npm run worker` too, which does not share `npm start`'s environment) can read them.
 */
export function writeDemoAgentTokens(dataDir: string, names: string[]): Record<string, DemoAgentToken> {
  const dir = join(resolve(dataDir), 'agent-tokens');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return Object.fromEntries(
    names.map((name) => {
      const token = randomBytes(16).toString('hex');
      const path = join(dir, name);
      writeFileSync(path, `${token}\n`, { mode: 0o600 });
      return [name, { token, reference: { source: 'file', ref: path } }];
    }),
  );
}
