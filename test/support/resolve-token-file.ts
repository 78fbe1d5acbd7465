/**
 * Resolves the token file named on the command line with the default policy and the token directory
 * given after it, and prints what the worker would see: for a test to run the resolution as another
 * user than its own (root reads any file, so only another user meets a file it may not read).
 */
import { AgentTokenError, resolveAgentToken } from '../../src/agent/token-resolution.js';
import { defaultTokenEnv } from '../../src/config/token-policy.js';

const [ref, dir] = process.argv.slice(2) as [string, string];
let outcome: string;
try {
  await resolveAgentToken({ name: 'coder', token: { source: 'file', ref } }, { env: defaultTokenEnv, dir, secretFiles: [] }, {});
  outcome = 'resolved';
} catch (err) {
  outcome = err instanceof AgentTokenError ? err.message : `unexpected: ${String(err)}`;
}
console.log(JSON.stringify({ uid: process.getuid?.(), outcome }));
