// Choosing the account store from the ACCOUNTS setting: "sqlite" (the default: accounts.sqlite
// in the data directory), "postgres://..." / "postgresql://..." (PostgreSQL), or
// "ldap://..." / "ldaps://..." (an LDAP directory, read-only).

import { SqliteAccountStore } from './account-store.js';
import { LdapAccountStore, parseLdapUrl } from './ldap-store.js';
import { PostgresAccountStore, redactedUrl } from './postgres-store.js';
import type { AccountStore } from './store.js';

export type AccountsSpec = { kind: 'sqlite' } | { kind: 'postgres'; url: string } | { kind: 'ldap'; url: string };

/** What an ACCOUNTS value asks for; throws an Error saying what is wrong with it. */
export function parseAccountsSetting(value: string): AccountsSpec {
  const v = value.trim();
  if (v === '' || v.toLowerCase() === 'sqlite') return { kind: 'sqlite' };
  if (/^postgres(ql)?:\/\//i.test(v)) {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      throw new Error('not a valid URL (postgres://user:password@host:5432/database)');
    }
    if (!u.hostname && !u.searchParams.has('host')) throw new Error('the PostgreSQL URL names no host');
    return { kind: 'postgres', url: v };
  }
  if (/^ldaps?:\/\//i.test(v)) {
    parseLdapUrl(v);
    return { kind: 'ldap', url: v };
  }
  throw new Error('expected sqlite, postgres://user:password@host/database or ldap://host/base-dn');
}

/** The ACCOUNTS value as it may be shown or logged: passwords hidden. */
export function describeAccountsSetting(value: string): string {
  const spec = parseAccountsSetting(value);
  return spec.kind === 'sqlite' ? 'sqlite' : redactedUrl(spec.url);
}

/** Open the account store ACCOUNTS names (a PostgreSQL schema is brought up to date). */
export async function openAccountStore(value: string, dataDir: string): Promise<AccountStore> {
  const spec = parseAccountsSetting(value);
  switch (spec.kind) {
    case 'sqlite':
      return SqliteAccountStore.open(dataDir);
    case 'postgres':
      return PostgresAccountStore.open(spec.url, dataDir);
    case 'ldap':
      return LdapAccountStore.open(spec.url, dataDir);
  }
}

export interface ConnectionTest {
  ok: boolean;
  /** One sentence for the GUI: what was reached and how many accounts it has, or what went wrong. */
  message: string;
  accounts: number | null;
}

/** Connect to the store ACCOUNTS would name, count its accounts, and disconnect (the GUI's "Test connection"). */
export async function testAccountStore(value: string, dataDir: string, timeoutMs = 10_000): Promise<ConnectionTest> {
  let spec: AccountsSpec;
  try {
    spec = parseAccountsSetting(value);
  } catch (err) {
    return { ok: false, message: `ACCOUNTS: ${(err as Error).message}`, accounts: null };
  }
  let store: AccountStore | null = null;
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  try {
    const work = (async () => {
      const opened = spec.kind === 'postgres' ? await PostgresAccountStore.open(spec.url, dataDir, { connectTimeoutMs: timeoutMs }) : await openAccountStore(value, dataDir);
      // Opened after the answer was given: closed here, as nobody else will.
      if (timedOut) await opened.close();
      else store = opened;
      return (await opened.list()).length;
    })();
    work.catch(() => undefined);
    const timeout = new Promise<never>(
      (_, reject) =>
        (timer = setTimeout(() => {
          timedOut = true;
          reject(new Error(`no answer within ${timeoutMs / 1000} s`));
        }, timeoutMs)),
    );
    const count = await Promise.race([work, timeout]);
    const where = spec.kind === 'sqlite' ? 'the SQLite file in the data directory' : redactedUrl(spec.url);
    return { ok: true, message: `Connected to ${where}: ${count} account${count === 1 ? '' : 's'}${spec.kind === 'ldap' ? ' (read-only)' : ''}.`, accounts: count };
  } catch (err) {
    return { ok: false, message: (err as Error).message, accounts: null };
  } finally {
    clearTimeout(timer);
    await (store as AccountStore | null)?.close().catch(() => undefined);
  }
}
