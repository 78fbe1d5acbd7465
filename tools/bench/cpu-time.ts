import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU milliseconds used so far, by part: this process (worker, client, the instant agent and the
 * driver), and the servers it started (Temporal, Postgres, Redis: its descendants, by program
 * name). Other processes on the machine do not count.
 */
export type CpuTime = Record<string, number>;

/** Clock ticks per second as Linux reports /proc/<pid>/stat; 100 on every kernel this runs on. */
const ticksPerSecond = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  name: string;
  cpuMs: number;
}

function readStat(pid: string): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The program name is in parentheses and may hold spaces; the fields after it are numbered from 3.
    const close = text.lastIndexOf(')');
    const name = text.slice(text.indexOf('(') + 1, close);
    const fields = text.slice(close + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    return { pid: Number(pid), ppid: Number(fields[1]), name, cpuMs: (ticks * 1000) / ticksPerSecond };
  } catch {
    return undefined; // gone meanwhile
  }
}

/** Postgres backends name themselves `postgres`; the Temporal CLI's dev server runs as `temporal`. */
function partOf(name: string): string {
  if (name.startsWith('postgres')) return 'postgres';
  if (name.startsWith('temporal')) return 'temporal';
  if (name.startsWith('redis')) return 'redis';
  return name;
}

export function cpuTime(): CpuTime {
  const usage = process.cpuUsage();
  const parts: CpuTime = { process: (usage.user + usage.system) / 1000 };
  const stats = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(readStat)
    .filter((stat): stat is ProcStat => stat !== undefined);
  const children = new Map<number, ProcStat[]>();
  for (const stat of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat]);
  // Exited children's time is in cutime/cstime of their parent: only live processes count, which the servers are.
  const pending = [...(children.get(process.pid) ?? [])];
  for (let stat = pending.pop(); stat; stat = pending.pop()) {
    const part = partOf(stat.name);
    parts[part] = (parts[part] ?? 0) + stat.cpuMs;
    pending.push(...(children.get(stat.pid) ?? []));
  }
  return parts;
}

export function cpuSince(start: CpuTime): CpuTime {
  const now = cpuTime();
  return Object.fromEntries(Object.entries(now).map(([part, ms]) => [part, ms - (start[part] ?? 0)]));
}
