// The login check every account store makes the same way (AccountStore.check), whatever keeps
// the accounts: refusals that cost as much as a real check, the verified-login cache keyed on a
// stamp of the account as read at this attempt, then the password, then the account's state.

import type { LoginCache } from './login-cache.js';
import { passwordProblem, verifyAgainstDummy } from './password.js';
import { usernameKey, usernameProblem, type Account, type CheckResult } from './store.js';

/** What one store tells of its account record E. */
export interface LoginRecords<E> {
  /** The record, read anew at every attempt (a change by another process is seen at once). */
  find(key: string, username: string): Promise<E | null | undefined>;
  account(record: E): Account;
  /** Changes whenever anything a login depends on changes (password, enabled, identity). */
  stamp(record: E): string;
  enabled(record: E): boolean;
  /** Whether the password is the record's (hashing even when the record has none). */
  verify(record: E, password: string): Promise<boolean>;
  /** After a good password on an enabled account: the record as it is now (e.g. after a rehash). */
  accepted?(record: E, key: string, password: string): Promise<E>;
}

export async function checkLogin<E>(records: LoginRecords<E>, username: string, password: string, cache?: LoginCache): Promise<CheckResult> {
  // Refusals take the time of a hash too: timing tells nothing about which accounts exist.
  if (usernameProblem(username) || passwordProblem(password)) {
    await verifyAgainstDummy('x');
    return { result: 'invalid' };
  }
  const key = usernameKey(username);
  let record = await records.find(key, username);
  if (!record) {
    cache?.forget(key);
    await verifyAgainstDummy(password);
    return { result: 'no-such-user' };
  }
  const found = record;
  const enabled = records.enabled(found);
  if (enabled && cache?.has(key, password, records.stamp(found))) return { result: 'ok', account: records.account(found) };
  const verify = () => records.verify(found, password);
  const good = cache ? await cache.verifyOnce(key, password, records.stamp(found), verify) : await verify();
  if (!good) return { result: 'bad-password', account: records.account(found) };
  if (!enabled) return { result: 'disabled', account: records.account(found) };
  if (records.accepted) record = await records.accepted(found, key, password);
  cache?.remember(key, password, records.stamp(record));
  return { result: 'ok', account: records.account(record) };
}

/** The account for a correct username and password of an enabled account, else null (a check without the login cache). */
export async function verifiedAccount(store: { check(username: string, password: string): Promise<CheckResult> }, username: string, password: string): Promise<Account | null> {
  const r = await store.check(username, password);
  return r.result === 'ok' ? r.account : null;
}
