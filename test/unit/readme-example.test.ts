import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** The first ```ts block of a document after the given heading. */
const firstTsBlockAfter = (document: string, heading: string) => {
  const at = document.indexOf(heading);
  expect(at, `heading "${heading}"`).toBeGreaterThanOrEqual(0);
  return /```ts\n([\s\S]*?)```/.exec(document.slice(at))?.[1];
};

describe('the documentation examples', () => {
  it('docs/testing.md shows the "Testing your integration" example exactly as npm test runs it', () => {
    const block = firstTsBlockAfter(read('docs/testing.md'), '# Testing your integration');
    expect(block).toBe(read('test/examples/testing-your-integration.test.ts'));
  });

  it('README.md shows the "Using it from a scheduler" example exactly as npm test runs it', () => {
    const block = firstTsBlockAfter(read('README.md'), '## Using it from a scheduler');
    expect(block).toBe(read('test/examples/using-it-from-a-scheduler.ts'));
  });
});
