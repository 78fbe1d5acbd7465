import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to the command's standard input, then closed (a secret stays off the command line); empty when absent. */
  input?: string;
  /** Receives each output line (stdout and stderr), for progress reporting. */
  onLine?: (line: string) => void;
}

/** Runs a command to completion; rejects with its exit status and last output lines on failure. */
export async function runCommand(command: string, args: string[], options: RunOptions = {}): Promise<void> {
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // A command that never reads its input (openssl with no use for it) may exit before the write
  // lands: the broken pipe is not the command's failure, which its exit status says.
  child.stdin.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') child.emit('error', err);
  });
  child.stdin.end(options.input ?? '');
  const recent: string[] = [];
  const collect = (line: string) => {
    recent.push(line);
    if (recent.length > 30) recent.shift();
    options.onLine?.(line);
  };
  createInterface({ input: child.stdout }).on('line', collect);
  createInterface({ input: child.stderr }).on('line', collect);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, s) => resolve([c, s]));
  });
  if (code !== 0) {
    throw new Error(`\`${command} ${args.join(' ')}\` failed (${signal ?? `exit code ${code}`}). Last output:\n${recent.join('\n')}`);
  }
}
