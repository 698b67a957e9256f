// Failed logins per remote address (authenticator.ts): how long to wait before answering a
// failure (doubling with each further failure from the address, up to a cap), one attempt at
// a time from an address with recent failures, and a success forgiving only its own user's
// failures from that address. Bounded: at most MAX_TRACKED_ADDRESSES addresses (least
// recently failed dropped first), MAX_USERS_PER_ADDRESS users apart per address.

import { usernameKey, usernameProblem } from './account-store.js';

/** Addresses remembered at most (also bounds other per-login records, authenticator.ts). */
export const MAX_TRACKED_ADDRESSES = 10_000;
/** Target users counted apart per address; failures for further names go to one pool no success clears. */
const MAX_USERS_PER_ADDRESS = 64;
/** The pool's key, and the key of names that are not valid usernames: no username contains NUL. */
const OTHER_USERS = '\0';

interface AddressState {
  /** All failures of the address still remembered (the sum over `byUser`). */
  failures: number;
  /** Failures per target username key. */
  byUser: Map<string, number>;
  lastFailureAt: number;
  /** Resolves when the attempt in progress from this address is finished. */
  tail: Promise<void>;
}

export class LoginFailures {
  private readonly addresses = new Map<string, AddressState>();

  constructor(
    private readonly delayMs: number,
    private readonly maxDelayMs: number,
    /** Failures older than this are forgotten. */
    private readonly memoryMs: number,
  ) {}

  /** Current failure count of an address, or of one target user from it. */
  count(address: string, user?: string): number {
    const state = this.addresses.get(address);
    if (!state || Date.now() - state.lastFailureAt >= this.memoryMs) return 0;
    return user === undefined ? state.failures : (state.byUser.get(targetKey(user)) ?? 0);
  }

  /** Waits for the attempt in progress from an address with recent failures; returns the release. */
  async enter(address: string): Promise<() => void> {
    const state = this.addresses.get(address);
    if (!state || state.failures === 0) return () => undefined;
    if (Date.now() - state.lastFailureAt >= this.memoryMs) {
      this.addresses.delete(address);
      return () => undefined;
    }
    const previous = state.tail;
    let release!: () => void;
    state.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    return release;
  }

  /** Count a failure against a target user; returns how long to wait before answering. */
  record(address: string, user: string): number {
    const target = targetKey(user);
    const now = Date.now();
    let state = this.addresses.get(address);
    if (!state || now - state.lastFailureAt >= this.memoryMs) {
      state = { failures: 0, byUser: new Map(), lastFailureAt: now, tail: state?.tail ?? Promise.resolve() };
    }
    const key = state.byUser.has(target) || state.byUser.size < MAX_USERS_PER_ADDRESS ? target : OTHER_USERS;
    state.byUser.set(key, (state.byUser.get(key) ?? 0) + 1);
    state.failures++;
    state.lastFailureAt = now;
    // Re-insert so that the map's order is least recently failed first.
    this.addresses.delete(address);
    this.addresses.set(address, state);
    if (this.addresses.size > MAX_TRACKED_ADDRESSES) {
      const oldest = this.addresses.keys().next().value;
      if (oldest !== undefined) this.addresses.delete(oldest);
    }
    return Math.min(this.delayMs * 2 ** Math.min(state.failures - 1, 20), this.maxDelayMs);
  }

  /** A success for `user` from the address: only that user's failures are forgiven. */
  forget(address: string, user: string): void {
    const target = targetKey(user);
    const state = this.addresses.get(address);
    if (!state) return;
    if (Date.now() - state.lastFailureAt >= this.memoryMs) {
      this.addresses.delete(address);
      return;
    }
    state.failures -= state.byUser.get(target) ?? 0;
    state.byUser.delete(target);
    if (state.failures <= 0) this.addresses.delete(address);
  }
}

/** Whose failures an attempt counts as: the account key, or the pool for names no account can have. */
function targetKey(user: string): string {
  return usernameProblem(user) ? OTHER_USERS : usernameKey(user);
}
