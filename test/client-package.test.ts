import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
 * Packs with `npm run -s pack:<kind> -- DIR` and installs what it prints into a new, empty project
 * (with `extra` packages), as a user would. The project's directory is open to others, as a
 * checkout is: under root, the testing kit's agents run as nobody and must read their command.
 */
async function packAndInstall(kind: 'client' | 'testing', dir: string, extra: string[] = []): Promise<string> {
  const packed = await run('npm', ['run', '-s', `pack:${kind}`, '--', join(dir, 'packs')], { cwd: root });
  const tarballs = packed.stdout.trim().split('\n');
  expect(tarballs.every((t) => t.endsWith('.tgz') && existsSync(t))).toBe(true);
  const project = join(dir, kind);
  mkdirSync(project, { recursive: true });
  for (const d of [dir, project]) chmodSync(d, 0o755);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: `${kind}-consumer`, private: true, type: 'module' }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs, ...extra], { cwd: project });
  return project;
}

/**
 * A scheduler in a repository of its own: it installs the tarball `npm run -s pack:client` prints,
 * and uses `lifeline/client` with plain Node and with a strict compiler; a test suite installs the
 * whole package and runs the testing kit.
 */
describe('the packages, installed into empty projects', () => {
  let dir: string;
  let client: string;
  let testing: string;
  let h: Harness;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-packages-'));
    const types = [`typescript@${own.devDependencies.typescript}`, `@types/node@${own.devDependencies['@types/node']}`];
    // One after the other: both build into the same dist.
    client = await packAndInstall('client', dir, types);
    testing = await packAndInstall('testing', dir);
    for (const file of ['scheduler.mjs', 'consumer.ts']) copyFileSync(join(consumers, file), join(client, file));
    copyFileSync(join(consumers, 'testing-kit.mjs'), join(testing, 'testing-kit.mjs'));
    h = await startHarness({ agents: { demo: { capacity: 2 } } });
  }, 300_000);
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the client brings none of the worker's native code", () => {
    expect(existsSync(join(client, 'node_modules/@temporalio/client'))).toBe(true);
    expect(existsSync(join(client, 'node_modules/@temporalio/worker'))).toBe(false);
    expect(existsSync(join(client, 'node_modules/@temporalio/core-bridge'))).toBe(false);
  });

  it('the client runs a scheduler under plain node: start, wait, stop, schedules', async () => {
    const { stdout } = await run(process.execPath, ['scheduler.mjs', h.agent('demo')], { cwd: client, env: cliEnvironment(h) });
    const seen = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(seen).toMatchObject({ succeeded: 'succeeded', stopped: 'cancelled' });
    expect(seen.output).toContain('started by a packed client');
    expect(seen.schedule).toMatchObject({ scheduleId: expect.stringMatching(/^packed-client-\d+$/), intervalSeconds: 3600, paused: true });
  });

  it("the client's declarations typecheck a strict nodenext consumer", async () => {
    writeFileSync(
      join(client, 'tsconfig.json'),
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
    await expect(run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { cwd: client })).resolves.toBeDefined();
  });

  it('the whole package runs the testing kit compiled, and its lifeline command', async () => {
    const env = cliEnvironment(h, { TEMPORAL_NAMESPACE: h.namespace });
    const { stdout } = await run(process.execPath, ['testing-kit.mjs'], { cwd: testing, env });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({
      status: 'succeeded',
      output: expect.stringContaining('from the installed kit'),
    });
    const help = await run(join(testing, 'node_modules/.bin/lifeline'), ['--help'], { cwd: testing });
    expect(help.stdout).toContain('Usage: lifeline');
  });
});
