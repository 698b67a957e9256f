// What the LDAP account store keeps of its own: each account's last login and quota use, which
// a read-only directory has no place for. A small SQLite file in the data directory
// (ldap-state.sqlite, 0600), so that the GUI still shows them after a restart. It is made at the
// first login or usage figure, so that opening the store to count accounts (the GUI's "Test
// connection") leaves nothing behind. Each server keeps its own: with several servers on one
// directory, each shows the logins it saw (the shared answer is PostgreSQL, ACCOUNTS=postgres://).

import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';

export const LDAP_STATE_FILE = 'ldap-state.sqlite';

export interface LoginRecord {
  at: number;
  address: string;
}

export interface UsageRecord {
  bytes: number;
  messages: number;
  updatedAt: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS login (account TEXT PRIMARY KEY, at INTEGER NOT NULL, address TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS usage (account TEXT PRIMARY KEY, bytes INTEGER NOT NULL, messages INTEGER NOT NULL, updated_at INTEGER NOT NULL);
`;

export class LdapLocalState {
  private db: Database.Database | null = null;
  private readonly file: string;

  constructor(private readonly dataDir: string) {
    this.file = join(resolve(dataDir), LDAP_STATE_FILE);
  }

  /** The file, opened when it exists (or made, with `create`); null when there is none yet. */
  private open(create: boolean): Database.Database | null {
    if (this.db) return this.db;
    if (!create && !existsSync(this.file)) return null;
    mkdirSync(resolve(this.dataDir), { recursive: true, mode: 0o700 });
    // Made by us first, so that it is 0600 from the start (SQLite's WAL files take its mode).
    closeSync(openSync(this.file, 'a', 0o600));
    const db = new Database(this.file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      db.exec(SCHEMA);
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
    return db;
  }

  login(account: string): LoginRecord | null {
    const row = this.open(false)?.prepare('SELECT at, address FROM login WHERE account = ?').get(account) as LoginRecord | undefined;
    return row ?? null;
  }

  usage(account: string): UsageRecord | null {
    const row = this.open(false)?.prepare('SELECT bytes, messages, updated_at AS updatedAt FROM usage WHERE account = ?').get(account) as UsageRecord | undefined;
    return row ?? null;
  }

  setLogin(account: string, record: LoginRecord): void {
    this.open(true)!
      .prepare('INSERT INTO login (account, at, address) VALUES (?, ?, ?) ON CONFLICT (account) DO UPDATE SET at = excluded.at, address = excluded.address')
      .run(account, record.at, record.address);
  }

  setUsage(account: string, record: UsageRecord): void {
    this.open(true)!
      .prepare('INSERT INTO usage (account, bytes, messages, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (account) DO UPDATE SET bytes = excluded.bytes, messages = excluded.messages, updated_at = excluded.updated_at')
      .run(account, record.bytes, record.messages, record.updatedAt);
  }

  close(): void {
    this.db?.close();
    this.db = null;
  }
}
