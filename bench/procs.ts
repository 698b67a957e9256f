// Process-tree memory accounting from /proc, for servers that fork a process per connection.

import fs from 'node:fs';

export interface MemoryFigures {
  processes: number;
  rssKiB: number;
  /** proportional set size: shared pages split between the processes that map them */
  pssKiB: number;
}

/** All live pids whose parent chain reaches one of `roots` (the roots included). */
export function processTree(roots: number[]): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'latin1');
      // the command name may contain spaces and parentheses: the ppid comes after the last ')'
      const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(after[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      /* the process ended while we looked */
    }
  }
  const out: number[] = [];
  const todo = roots.filter((p) => fs.existsSync(`/proc/${p}`));
  while (todo.length) {
    const pid = todo.pop()!;
    out.push(pid);
    for (const c of children.get(pid) ?? []) todo.push(c);
  }
  return out;
}

/** Pids whose executable is `exe` (e.g. gam_server, which is re-parented to init). */
export function pidsOfExe(exe: string): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readlinkSync(`/proc/${entry}/exe`) === exe) out.push(Number(entry));
    } catch {
      /* kernel thread or gone */
    }
  }
  return out;
}

export function memoryOfPids(pids: number[]): MemoryFigures {
  const figures: MemoryFigures = { processes: 0, rssKiB: 0, pssKiB: 0 };
  for (const pid of pids) {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
      const rss = /VmRSS:\s+(\d+) kB/.exec(status);
      if (!rss) continue; // kernel thread or zombie
      let pss = 0;
      try {
        const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
        pss = Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
      } catch {
        pss = Number(rss[1]);
      }
      figures.processes++;
      figures.rssKiB += Number(rss[1]);
      figures.pssKiB += pss;
    } catch {
      /* gone */
    }
  }
  return figures;
}

/** MemAvailable in KiB. */
export function memAvailableKiB(): number {
  const info = fs.readFileSync('/proc/meminfo', 'latin1');
  return Number(/MemAvailable:\s+(\d+) kB/.exec(info)?.[1] ?? 0);
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux everywhere). */
const TICKS_PER_S = 100;

/**
 * CPU time (user + system, ms) of these processes and of the children they have reaped: a
 * process per connection that has ended is counted in its parent (the master) once reaped.
 * Differences between two calls are what the server spent meanwhile, less dependent on the
 * machine's load than any latency.
 */
export function cpuMsOfPids(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // after the name: state(0) ... utime(11) stime(12) cutime(13) cstime(14)
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      /* gone */
    }
  }
  return (ticks * 1000) / TICKS_PER_S;
}

/** The pid in a pid file, if it holds one. */
export function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
