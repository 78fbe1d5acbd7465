import { readFileSync } from 'node:fs';

/** `ESRCH` once no process has this pid any more; `alive` while one does. */
export function probePid(pid: number): string {
  try {
    process.kill(pid, 0);
    return 'alive';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

/** The command line of a live process, words joined by spaces; undefined once it is gone (Linux /proc). */
export function processCommandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}
