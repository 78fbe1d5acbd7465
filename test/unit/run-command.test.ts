import { describe, expect, it } from 'vitest';
import { runCommand } from '../../src/stack/run-command.js';

describe('runCommand', () => {
  it('judges a command by its exit status when it exits without reading its input (a broken pipe is not a crash)', async () => {
    // 4 MiB outgrows any pipe buffer, so the write meets the closed pipe of a command that never reads.
    const input = 'x'.repeat(4 * 1024 * 1024);
    for (let i = 0; i < 5; i++) await expect(runCommand('true', [], { input })).resolves.toBeUndefined();
    await expect(runCommand('false', [], { input })).rejects.toThrow(/`false ` failed \(exit code 1\)/);
  });
});
