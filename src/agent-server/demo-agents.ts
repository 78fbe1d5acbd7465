import { nodeArgsFor, siblingModule } from '../util/module-path.js';
import type { AgentCommandConfigInput } from './agent-server-config.js';

const demoCommandPath = siblingModule(import.meta.url, './demo-command');

/** The argv that runs the demo command with this Node and tsx; the prompt selects its behaviour. */
export function demoCommand(): string[] {
  return [process.execPath, ...nodeArgsFor(demoCommandPath)];
}

/** The files the demo command needs, for a check that the user who runs agents can reach them (agent-user.ts). */
export function demoCommandFiles(): { path: string; access: 'execute' | 'read' }[] {
  return [
    { path: process.execPath, access: 'execute' },
    { path: demoCommandPath, access: 'read' },
  ];
}

/** A demo agent's configuration for the reference agent server. */
export function demoAgentConfig(token: string, overrides: Partial<AgentCommandConfigInput> = {}): AgentCommandConfigInput {
  return { token, command: demoCommand(), promptVia: 'argument', maxOutputBytes: 16 * 1024 * 1024, stopGraceMs: 10_000, ...overrides };
}
