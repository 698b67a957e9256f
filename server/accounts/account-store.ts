// The SQLite account store (the default): one file, accounts.sqlite, in the data directory.
// Its logic is the SQL store's (sql-store.ts), shared with PostgreSQL; this module has the
// driver over better-sqlite3 and the SQLite form of the migrations.
//
// better-sqlite3 answers synchronously; the driver hands its answers back as promises, so
// that callers treat every store alike. A transaction (batch) runs synchronously as a whole,
// so no other statement of this process can come between its statements.

import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SqlAccountStore, type SqlDriver, type SqlStatement, type SqlValue } from './sql-store.js';
import { AccountError } from './store.js';

export * from './store.js';

export const ACCOUNTS_FILE = 'accounts.sqlite';

/**
 * Ordered migrations; the database's user_version is the number applied. Never edit one that
 * shipped. postgres-store.ts has the same steps in PostgreSQL's words: keep them in step.
 */
const MIGRATIONS: readonly string[] = [
  // 1: accounts
  `CREATE TABLE accounts (
     id INTEGER PRIMARY KEY,
     username TEXT NOT NULL,
     username_key TEXT NOT NULL UNIQUE,
     password_hash TEXT NOT NULL,
     home TEXT NOT NULL,
     maildir TEXT,
     quota_bytes INTEGER CHECK (quota_bytes IS NULL OR quota_bytes >= 0),
     quota_messages INTEGER CHECK (quota_messages IS NULL OR quota_messages >= 0),
     enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
     create_maildir INTEGER NOT NULL DEFAULT 1 CHECK (create_maildir IN (0, 1)),
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     last_login_at INTEGER,
     last_login_address TEXT
   ) STRICT`,
  // 2: last known quota use, for the GUI
  `ALTER TABLE accounts ADD COLUMN usage_bytes INTEGER;
   ALTER TABLE accounts ADD COLUMN usage_messages INTEGER;
   ALTER TABLE accounts ADD COLUMN usage_updated_at INTEGER`,
  // 3: delivery addresses (removed with their account by remove())
  `CREATE TABLE addresses (
     address_key TEXT PRIMARY KEY,
     address TEXT NOT NULL,
     account_id INTEGER NOT NULL,
     created_at INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX addresses_account ON addresses (account_id)`,
  // 4: the host the account's mail lives on, when not this one (IMAP_PROXY; Courier's "mailhost" option)
  `ALTER TABLE accounts ADD COLUMN mailhost TEXT`,
  // 5: which list of sharable Maildirs ("shared.") the account sees (Account.sharable; NULL: none)
  `ALTER TABLE accounts ADD COLUMN sharable TEXT`,
];
export const SCHEMA_VERSION = MIGRATIONS.length;

class SqliteDriver implements SqlDriver {
  private readonly statements = new Map<string, Database.Statement<SqlValue[]>>();

  constructor(readonly db: Database.Database) {}

  private prepare(sql: string): Database.Statement<SqlValue[]> {
    let stmt = this.statements.get(sql);
    if (!stmt) this.statements.set(sql, (stmt = this.db.prepare<SqlValue[]>(sql)));
    return stmt;
  }

  async one<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return this.prepare(sql).get(...params) as T | undefined;
  }

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.prepare(sql).all(...params) as T[];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.prepare(sql).run(...params).changes;
  }

  async batch(statements: readonly SqlStatement[]): Promise<number[]> {
    return this.db.transaction(() => statements.map(([sql, params]) => this.prepare(sql).run(...params).changes))();
  }

  isUniqueViolation(err: unknown): boolean {
    const code = (err as { code?: string }).code;
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

export class SqliteAccountStore extends SqlAccountStore {
  readonly kind = 'sqlite' as const;

  private constructor(
    private readonly driver: SqliteDriver,
    dataDir: string,
    readonly path: string,
  ) {
    super(driver, dataDir, path);
  }

  /** Open (creating if needed) <dataDir>/accounts.sqlite and bring its schema up to date. */
  static open(dataDir: string): SqliteAccountStore {
    const dir = resolve(dataDir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, ACCOUNTS_FILE);
    // Create the file ourselves so that it is 0600 from the start; SQLite gives its
    // journal and WAL files the database file's permissions.
    closeSync(openSync(path, 'a', 0o600));
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      migrate(db);
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteAccountStore(new SqliteDriver(db), dir, path);
  }

  async schemaVersion(): Promise<number> {
    return this.driver.db.pragma('user_version', { simple: true }) as number;
  }
}

/** Apply the migrations the file has not seen yet, each in its own transaction. */
export function migrate(db: Database.Database, upTo = MIGRATIONS.length): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new AccountError('newer-schema', `the account database has schema version ${current}, newer than this program knows (${MIGRATIONS.length}); refusing to touch it`);
  }
  for (let version = current; version < upTo; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
