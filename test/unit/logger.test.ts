import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/util/logger.js';

describe('the JSON logger', () => {
  it('prints the message and stack of an Error logged under `error`, as the Temporal SDK logs its failures', () => {
    const lines: string[] = [];
    const log = createLogger('test', 'info', { write: (line: string) => lines.push(line) });
    log.warn({ error: new Error('agent run failed: exit code 3') }, 'Workflow failed');
    const entry = JSON.parse(lines[0]!) as { error: { message: string; stack: string } };
    expect(entry.error.message).toBe('agent run failed: exit code 3');
    expect(entry.error.stack).toContain('logger.test.ts');
  });
});
