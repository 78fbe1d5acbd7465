import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('the README', () => {
  it('shows the "Testing your integration" example exactly as npm test runs it', () => {
    const readme = read('README.md');
    const section = readme.slice(readme.indexOf('## Testing your integration'));
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block).toBe(read('test/examples/testing-your-integration.test.ts'));
  });

  it('shows the "Using it from a scheduler" example exactly as npm test runs it', () => {
    const readme = read('README.md');
    const section = readme.slice(readme.indexOf('## Using it from a scheduler'));
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block).toBe(read('test/examples/using-it-from-a-scheduler.ts'));
  });
});
