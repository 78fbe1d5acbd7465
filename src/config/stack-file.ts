import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/**
 * Where `npm start`'s local stack listens, written once it is up so that the CLI reaches it
 * without exported variables, and removed when it stops so that nothing points at dead servers.
 */
const stackFileSchema = z.object({
  /** The dev server `npm start` ran; absent when it ran against an external Temporal (whose settings, TLS and keys among them, are not copied here). */
  temporal: z
    .object({
      address: z.string().min(1),
      namespace: z.string().min(1),
      taskQueue: z.string().min(1),
      uiUrl: z.string().optional(),
    })
    .optional(),
  databaseUrl: z.string().min(1),
  redisUrl: z.string().min(1),
  /** What `lifeline status` shows: each place to open, by name (no credentials), and the logs. */
  places: z.array(z.tuple([z.string(), z.string()])).optional(),
  logFiles: z.array(z.string()).optional(),
  /** The local trace viewer's link to one trace (LIFELINE_TRACE_URL), when `npm start -- --traces` runs one. */
  traceUrl: z.string().optional(),
});
export type StackFile = z.infer<typeof stackFileSchema>;

export function stackFilePath(dataDir: string): string {
  return join(resolve(dataDir), 'stack.json');
}

/** Written under a temporary name and renamed, so a reader never sees half a file. */
export function writeStackFile(dataDir: string, stack: StackFile): string {
  const path = stackFilePath(dataDir);
  mkdirSync(resolve(dataDir), { recursive: true });
  // The URLs may hold database credentials.
  writeFileSync(`${path}.tmp`, `${JSON.stringify(stack, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  return path;
}

/** The stack file, or undefined when there is none; a file that is not one is an error naming it. */
export function readStackFile(dataDir: string): StackFile | undefined {
  const path = stackFilePath(dataDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not JSON; delete it or restart \`npm start\``);
  }
  const parsed = stackFileSchema.safeParse(json);
  if (!parsed.success)
    throw new Error(`${path} is not a Lifeline stack file: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  return parsed.data;
}

export function removeStackFile(dataDir: string): void {
  rmSync(stackFilePath(dataDir), { force: true });
}
