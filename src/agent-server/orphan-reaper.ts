import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const reaperScript = fileURLToPath(new URL('./run-reaper.sh', import.meta.url));

let reaper: ChildProcess | undefined;

/**
 * The process's one reaper (run-reaper.sh), started on first use in a process group of its own, so
 * that neither a terminal's Ctrl-C nor this process's death takes it down before it has done its work.
 * It never keeps this process alive.
 */
function reaperInput(): NodeJS.WritableStream | undefined {
  if (!reaper || reaper.exitCode !== null || reaper.signalCode !== null) {
    reaper = spawn('bash', [reaperScript], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    // A reaper that died (killed by hand) loses its list; the next run starts a new one.
    reaper.stdin!.on('error', () => undefined);
    reaper.on('error', () => undefined);
    reaper.unref();
    (reaper.stdin as unknown as { unref(): void }).unref();
  }
  return reaper.stdin ?? undefined;
}

/** From now until `releaseGroup`, this run's process group is killed if this process dies. */
export function guardGroup(pgid: number): void {
  reaperInput()?.write(`+${pgid}\n`);
}

/** The group is gone: its id may be reused, so the reaper must forget it. */
export function releaseGroup(pgid: number): void {
  reaper?.stdin?.write(`-${pgid}\n`);
}
