import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const reaper = fileURLToPath(new URL('../../src/agent-server/run-reaper.sh', import.meta.url));
const nobody = { uid: 65534, gid: 65534 };
const asRoot = process.getuid?.() === 0;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Runs the reaper with these lines as its whole input, as `user`; resolves when it has exited. */
async function reap(lines: string[], user: { uid?: number; gid?: number } = {}): Promise<void> {
  const child = spawn('bash', [reaper], { ...user, stdio: ['pipe', 'ignore', 'inherit'] });
  child.stdin!.end(lines.map((l) => `${l}\n`).join(''));
  const [code] = (await once(child, 'exit')) as [number];
  expect(code).toBe(0);
}

/** A process in a group of its own (its pid is the group id). */
function sleeper(user: { uid?: number; gid?: number } = {}): ChildProcess {
  const child = spawn('sleep', ['60'], { ...user, detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}

describe("the agent server's reaper", () => {
  const started: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-reaper-'));
  afterAll(() => {
    for (const child of started) if (child.pid && alive(child.pid)) process.kill(child.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('kills every group still listed when its input ends, and none taken off the list', async () => {
    const listed = sleeper();
    const removed = sleeper();
    started.push(listed, removed);
    await reap([`+${listed.pid}`, `+${removed.pid}`, `-${removed.pid}`]);
    await expect.poll(() => alive(listed.pid!), { timeout: 5000 }).toBe(false);
    expect(alive(removed.pid!)).toBe(true);
  });

  it.skipIf(!asRoot)('never runs a crafted line as code, and never signals every process for "+1"', async () => {
    // The reaper runs as `nobody` here, beside a process of nobody's that "+1" would kill.
    chmodSync(dir, 0o777);
    const canary = sleeper(nobody);
    started.push(canary);
    const marker = (n: number) => join(dir, `ran-${n}`);
    await reap(
      [`-$(touch ${marker(1)})`, `+$(touch ${marker(2)})`, `-x[$(touch ${marker(3)})]`, '+1', '+0', '+01', '-1', '+-5', `+${canary.pid} x`],
      nobody,
    );
    expect([1, 2, 3].filter((n) => existsSync(marker(n)))).toEqual([]);
    expect(alive(canary.pid!)).toBe(true);
  });
});
