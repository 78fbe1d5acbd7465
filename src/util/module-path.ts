import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The path of a module of this project beside the calling one (`relative` without its extension),
 * with the caller's own extension: `.ts` in development under tsx, `.js` when compiled. For modules
 * named at run time rather than imported: workflow bundles, child-process entry points.
 */
export function siblingModule(callerUrl: string, relative: string): string {
  return fileURLToPath(new URL(`${relative}${extname(fileURLToPath(callerUrl))}`, callerUrl));
}

/** Node's arguments to run one of this project's entry points: through tsx for TypeScript, as is when compiled. */
export function nodeArgsFor(entry: string): string[] {
  return entry.endsWith('.ts') ? ['--import', 'tsx', entry] : [entry];
}
