import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { moduleGraph } from './module-graph.js';

/**
 * `npm run -s pack:client -- DIR` / `npm run -s pack:testing -- DIR`: the tarball a scheduler (or a
 * test suite) installs, written into DIR, its path printed on stdout (progress goes to stderr).
 *
 * Both are the package `lifeline`, so `import … from 'lifeline/client'` reads the same with either:
 * - client: `lifeline/client` alone, the compiled modules it reaches and the packages they import
 *   (the Temporal client, pg, zod, pino): none of the worker's native code;
 * - testing: the whole compiled package (`lifeline/client`, `lifeline/testing`, the worker, the
 *   `lifeline` CLI, the migrations), with every runtime dependency.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const usage = 'usage: npm run -s pack:client -- DIR   |   npm run -s pack:testing -- DIR';

const [kind, destination] = process.argv.slice(2);
if (process.argv.includes('--help') || (kind !== 'client' && kind !== 'testing') || !destination) {
  console.error(usage);
  process.exit(process.argv.includes('--help') ? 0 : 2);
}

interface PackageJson {
  name: string;
  version: string;
  description: string;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}
const own = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
const dist = join(root, 'dist');

/**
 * Type packages a strict consumer's compiler needs for declarations it reads: pg ships none, and
 * @temporalio/common's import `ms`, whose installed version ships none either.
 */
const typePackages: Record<string, string[]> = { pg: ['@types/pg'], '@temporalio/common': ['@types/ms'] };
/** Needed to develop and run from a checkout, never by compiled code. */
const checkoutOnly = new Set(['tsx']);

function versionOf(name: string): string {
  const version = own.dependencies[name] ?? own.devDependencies[name];
  if (!version) throw new Error(`${name} is imported by what ships but is not in package.json`);
  return version;
}

function dependenciesFor(packages: Iterable<string>): Record<string, string> {
  const names = [...packages].flatMap((p) => [p, ...(typePackages[p] ?? [])]).filter((p) => !checkoutOnly.has(p));
  return Object.fromEntries([...new Set(names)].sort().map((n) => [n, versionOf(n)]));
}

const exportOf = (entry: string) => ({ types: `./dist/${entry}/index.d.ts`, default: `./dist/${entry}/index.js` });

function clientPackage(stage: string) {
  const graph = moduleGraph([join(dist, 'client/index.js'), join(dist, 'client/index.d.ts')]);
  for (const file of graph.files) {
    for (const companion of [file, `${file}.map`]) {
      if (existsSync(companion)) cpSync(companion, join(stage, 'dist', relative(dist, companion)), { recursive: true });
    }
  }
  return { exports: { './client': exportOf('client') }, dependencies: dependenciesFor(graph.packages), files: ['dist'] };
}

function wholePackage(stage: string) {
  cpSync(dist, join(stage, 'dist'), { recursive: true, filter: (f) => !f.endsWith('.tsbuildinfo') });
  cpSync(join(root, 'migrations'), join(stage, 'migrations'), { recursive: true });
  mkdirSync(join(stage, 'deploy/temporal'), { recursive: true });
  cpSync(join(root, 'deploy/temporal/dynamic-config.yaml'), join(stage, 'deploy/temporal/dynamic-config.yaml'));
  const graph = moduleGraph([
    join(dist, 'main.js'),
    join(dist, 'cli/main.js'),
    join(dist, 'testing/index.js'),
    join(dist, 'testing/index.d.ts'),
  ]);
  const runtime = Object.keys(own.dependencies).filter((d) => !checkoutOnly.has(d));
  return {
    exports: { './client': exportOf('client'), './testing': exportOf('testing') },
    bin: { lifeline: 'dist/cli/main.js' },
    dependencies: dependenciesFor(new Set([...runtime, ...graph.packages])),
    files: ['dist', 'migrations', 'deploy'],
  };
}

const stage = mkdtempSync(join(tmpdir(), `lifeline-pack-${kind}-`));
try {
  console.error(`packing lifeline (${kind}) from ${dist}`);
  const parts = kind === 'client' ? clientPackage(stage) : wholePackage(stage);
  const manifest = {
    name: own.name,
    version: own.version,
    description: own.description,
    type: 'module',
    engines: own.engines,
    ...parts,
  };
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const out = resolve(destination);
  mkdirSync(out, { recursive: true });
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: stage, encoding: 'utf8' })) as {
    filename: string;
    size: number;
    unpackedSize: number;
    entryCount: number;
  }[];
  // Named for what it holds: both are the package `lifeline`, and one DIR may take both.
  const tarball = join(out, packed!.filename.replace(/^lifeline-/, `lifeline-${kind}-`));
  execFileSync('mv', [join(out, packed!.filename), tarball]);
  console.error(
    `${packed!.entryCount} files, ${(packed!.unpackedSize / 1024).toFixed(0)} KiB unpacked; dependencies: ${Object.keys(manifest.dependencies).join(', ')}`,
  );
  console.log(tarball);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
