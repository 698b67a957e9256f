// Opening the appliance's data directory (host.ts): on a first start it is made, with the
// configuration files at their defaults; it is locked to this appliance, and the account
// store that ACCOUNTS names is opened.

import { promises as fs, existsSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteAccountStore, describeAccountsSetting, openAccountStore, type AccountStore } from '../accounts/index.js';
import { loadSettings, writeFileAtomic } from '../config/index.js';
import { CONFIG_FILES } from './configuration.js';
import { defaultConfigText } from './defaults.js';
import { lockDataDir } from './lock.js';
import { configDirOf } from './paths.js';

export interface OpenedDataDir {
  /** The configuration files made with their defaults just now. */
  created: string[];
  releaseLock: () => Promise<void>;
  accounts: AccountStore;
  /** Why the store ACCOUNTS names could not be opened (the SQLite file stands in), or null. */
  accountsProblem: string | null;
}

export async function openDataDir(dataDir: string): Promise<OpenedDataDir> {
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const configDir = configDirOf(dataDir);
  await fs.mkdir(configDir, { recursive: true, mode: 0o700 });
  const created: string[] = [];
  for (const which of CONFIG_FILES) {
    const path = join(configDir, which);
    if (!existsSync(path)) {
      await writeFileAtomic(path, defaultConfigText(which), { mode: 0o644 });
      created.push(path);
    }
  }
  const releaseLock = await lockDataDir(dataDir);
  let accounts: AccountStore;
  // ACCOUNTS is read at start: a store that cannot be reached leaves the server stopped with
  // the reason (the GUI comes up on the SQLite file, so that Settings can fix it).
  let accountsProblem: string | null = null;
  try {
    const wanted = await loadSettings({ configDir }).then((l) => l.settings.accounts, () => 'sqlite');
    try {
      accounts = await openAccountStore(wanted, dataDir);
    } catch (err) {
      accountsProblem = `account store ${describeAccountsSetting(wanted)}: ${(err as Error).message}`;
      accounts = SqliteAccountStore.open(dataDir);
    }
  } catch (err) {
    await releaseLock();
    throw err;
  }
  return { created, releaseLock, accounts, accountsProblem };
}
