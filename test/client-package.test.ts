import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnvironment } from './support/cli-process.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const consumers = join(root, 'test/fixtures/package-consumers');
const own = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };

/**
 * A scheduler in a repository of its own: it installs the tarball `npm run -s pack:client` prints,
 * as a user would, and uses `lifeline/client` with plain Node and with a strict compiler.
 */
describe('the client package, installed into an empty project', () => {
  let dir: string;
  let project: string;
  let h: Harness;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-client-package-'));
    project = join(dir, 'scheduler');
    const packed = await run('npm', ['run', '-s', 'pack:client', '--', join(dir, 'packs')], { cwd: root });
    const tarballs = packed.stdout.trim().split('\n');
    expect(tarballs.every((t) => t.endsWith('.tgz') && existsSync(t))).toBe(true);
    await run('mkdir', [project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scheduler', private: true, type: 'module' }));
    await run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        ...tarballs,
        `typescript@${own.devDependencies.typescript}`,
        `@types/node@${own.devDependencies['@types/node']}`,
      ],
      { cwd: project },
    );
    for (const file of ['scheduler.mjs', 'consumer.ts']) copyFileSync(join(consumers, file), join(project, file));
    h = await startHarness({ agents: { demo: { capacity: 2 } } });
  }, 300_000);
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("brings none of the worker's native code", () => {
    expect(existsSync(join(project, 'node_modules/@temporalio/client'))).toBe(true);
    expect(existsSync(join(project, 'node_modules/@temporalio/worker'))).toBe(false);
    expect(existsSync(join(project, 'node_modules/@temporalio/core-bridge'))).toBe(false);
  });

  it('runs a scheduler under plain node: start, wait, stop, schedules', async () => {
    const { stdout } = await run(process.execPath, ['scheduler.mjs', h.agent('demo')], { cwd: project, env: cliEnvironment(h) });
    const seen = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(seen).toMatchObject({ succeeded: 'succeeded', stopped: 'cancelled' });
    expect(seen.output).toContain('started by a packed client');
    expect(seen.listed).toContain(seen.scheduleId);
  });

  it('typechecks a strict nodenext consumer against its declarations', async () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          noEmit: true,
          types: ['node'],
        },
        include: ['consumer.ts'],
      }),
    );
    // tsc exits non-zero, and `run` rejects with its output, on any error.
    await expect(run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { cwd: project })).resolves.toBeDefined();
  });
});
