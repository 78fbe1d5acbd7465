import { readFileSync } from 'node:fs';

/** CPU time used so far: by this process (worker, client and driver), and by the whole machine (every server too). */
export interface CpuTime {
  processMs: number;
  machineMs: number;
}

/** Clock ticks per second as Linux reports /proc/stat; 100 on every kernel this runs on. */
const ticksPerSecond = 100;

export function cpuTime(): CpuTime {
  const usage = process.cpuUsage();
  // The first line of /proc/stat sums every CPU: user nice system idle iowait irq softirq steal guest
  // guest_nice. Idle and iowait are not busy; guest time is already counted in user.
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const busyTicks = fields.reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0);
  return { processMs: (usage.user + usage.system) / 1000, machineMs: (busyTicks * 1000) / ticksPerSecond };
}

export function cpuSince(start: CpuTime): CpuTime {
  const now = cpuTime();
  return { processMs: now.processMs - start.processMs, machineMs: now.machineMs - start.machineMs };
}
