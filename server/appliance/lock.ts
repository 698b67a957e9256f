// One appliance per data directory: two would fight over the account store, the
// configuration files and the ports. <data>/appliance.lock holds the pid of the one
// running; a lock whose process is gone (a crash, a power cut) is taken over.

import { promises as fs } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'appliance.lock';

export class DataDirLocked extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`another appliance (process ${pid}) is already running on the data directory ${dataDir}; open its GUI, or stop it first`);
    this.name = 'DataDirLocked';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is just not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the data directory's lock, or throw DataDirLocked. Returns the release. */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fs.writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      return async () => {
        // Only our own lock: never one a later appliance took over.
        const text = await fs.readFile(path, 'utf8').catch(() => '');
        if (Number(text.trim()) === process.pid) await fs.rm(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number((await fs.readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw new DataDirLocked(dataDir, pid);
    if (pid === process.pid) throw new DataDirLocked(dataDir, pid);
    // Stale: its process is gone.
    await fs.rm(path, { force: true });
  }
  throw new Error(`cannot take the lock ${path}`);
}
