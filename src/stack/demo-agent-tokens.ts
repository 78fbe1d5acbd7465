import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenReference } from '../domain/token-reference.js';

interface DemoAgentToken {
  token: string;
  /** What the agent's registration stores: the file, not the token. */
  reference: TokenReference;
}

/**
 * Fresh tokens for `npm start`'s demo agents, each in a file of its own in the token directory
 * (LIFELINE_AGENT_TOKEN_DIR, absolute; `.lifeline/agent-tokens` by default) that its registration
 * references: Postgres holds no secret, and every worker on this machine with that token directory
 * (`npm run worker` too, which does not share `npm start`'s environment) can read them.
 */
export function writeDemoAgentTokens(dir: string, names: string[]): Record<string, DemoAgentToken> {
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
