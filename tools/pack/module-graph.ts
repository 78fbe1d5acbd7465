import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import ts from 'typescript';

export interface ModuleGraph {
  /** Every file reached, absolute. */
  files: Set<string>;
  /** The packages imported (`@temporalio/client`, `pg`), without subpaths. */
  packages: Set<string>;
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/**
 * The files a compiled module needs, found from its imports (TypeScript's own scanner, which also
 * sees `import()` types in declaration files), and the packages they import. Relative imports are
 * followed; `node:` builtins are not packages.
 */
export function moduleGraph(entries: string[]): ModuleGraph {
  const graph: ModuleGraph = { files: new Set(), packages: new Set() };
  const visit = (file: string) => {
    if (graph.files.has(file)) return;
    graph.files.add(file);
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (fileName.startsWith('.')) {
        // A declaration file imports `./x.js` and means `./x.d.ts`.
        const target = resolve(dirname(file), fileName);
        visit(file.endsWith('.d.ts') ? target.replace(/\.js$/, '.d.ts') : target);
      } else if (!fileName.startsWith('node:')) graph.packages.add(packageName(fileName));
    }
  };
  for (const entry of entries) {
    if (!existsSync(entry)) throw new Error(`${entry} does not exist: run \`npm run build\` first`);
    visit(entry);
  }
  return graph;
}
