// The verified-login cache, as Dovecot's auth cache: after a password has been checked with
// scrypt (60-250 ms of CPU on a small machine), the same user with the same password is let in
// without hashing again for a short while, so that a phone reconnecting every minute costs
// microseconds. Only successes are kept: a wrong password always costs the full hash and the
// failure delay.
//
// Nothing reversible is kept: the password is remembered as an HMAC under a key made at random
// when the process starts (a memory dump does not give an offline-guessable hash that outlives
// the process's key, and the key never leaves it). Each entry also remembers a stamp of the
// account row it was verified against (see AccountStore.check): the row is read on every login
// anyway, so a password change, disable or removal made by any process, including the
// imapd-accounts command or the appliance, invalidates the entry at the next attempt.
//
// Attempts that arrive while the same user's password is being hashed, with the same password
// against the same row, wait for that hash instead of starting their own (50 clients logging
// in at once ran 50 hashes of 32 MiB each, and the last waited 25 s). Any other password,
// right or wrong, gets its own hash.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Default time an entry stays valid: Dovecot's auth_cache_ttl is 1 hour; we keep it short. */
export const DEFAULT_LOGIN_CACHE_TTL_MS = 5 * 60_000;
const MAX_ENTRIES = 10_000;

interface Entry {
  mac: Buffer;
  stamp: string;
  expiresAt: number;
}

export class LoginCache {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, Entry>();
  /** The verification running now per user key, with the password (as its HMAC) and row stamp it checks. */
  private readonly running = new Map<string, { mac: Buffer; stamp: string; result: Promise<boolean> }>();

  constructor(
    readonly ttlMs: number = DEFAULT_LOGIN_CACHE_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when this user key last verified with this password against an account row with this stamp, within the TTL. */
  has(userKey: string, password: string, stamp: string): boolean {
    const entry = this.entries.get(userKey);
    if (!entry) return false;
    if (entry.expiresAt <= this.now() || entry.stamp !== stamp) {
      this.entries.delete(userKey);
      return false;
    }
    return timingSafeEqual(entry.mac, this.mac(userKey, password));
  }

  /** Remember a successful verification (one password per user: the last good one). */
  remember(userKey: string, password: string, stamp: string): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(userKey);
    this.entries.set(userKey, { mac: this.mac(userKey, password), stamp, expiresAt: this.now() + this.ttlMs });
    // Oldest first in a Map: drop from the front when full.
    while (this.entries.size > MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  /** `verify()`, or the result of the same verification already running (not with a TTL of 0). */
  verifyOnce(userKey: string, password: string, stamp: string, verify: () => Promise<boolean>): Promise<boolean> {
    if (this.ttlMs <= 0) return verify();
    const mac = this.mac(userKey, password);
    const current = this.running.get(userKey);
    if (current && current.stamp === stamp && timingSafeEqual(current.mac, mac)) return current.result;
    const result = verify();
    if (!current) {
      this.running.set(userKey, { mac, stamp, result });
      const done = () => {
        if (this.running.get(userKey)?.result === result) this.running.delete(userKey);
      };
      result.then(done, done);
    }
    return result;
  }

  forget(userKey: string): void {
    this.entries.delete(userKey);
  }

  get size(): number {
    return this.entries.size;
  }

  private mac(userKey: string, password: string): Buffer {
    // NUL cannot occur in a valid username or password, so the pair is unambiguous.
    return createHmac('sha256', this.key).update(userKey).update('\0').update(password.normalize('NFC')).digest();
  }
}
