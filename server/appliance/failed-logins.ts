// Failed logins of the last day, per remote address, for the Overview (and the desktop's
// notification when one address keeps failing). Fed from the authenticator's log events
// ("LOGIN FAILED user=... ip=..."), so nothing in the login path changes. Bounded: at most
// MAX_EVENTS kept (the oldest go first), and a few usernames per address.

import type { FailedLoginsView } from './api.js';

const DAY_MS = 24 * 3600_000;
const MAX_EVENTS = 10_000;
const MAX_USERNAMES = 5;
const MAX_ADDRESSES_SHOWN = 20;

interface Failure {
  at: number;
  address: string;
  username: string;
}

export class FailedLogins {
  private readonly events: Failure[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  add(address: string, username: string, at = this.now()): void {
    this.events.push({ at, address, username: username.slice(0, 100) });
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
  }

  /** Failures from this address within the last `ms`. */
  recentFrom(address: string, ms: number): number {
    const since = this.now() - ms;
    let n = 0;
    for (let i = this.events.length - 1; i >= 0 && this.events[i]!.at >= since; i--) if (this.events[i]!.address === address) n++;
    return n;
  }

  view(): FailedLoginsView {
    const since = this.now() - DAY_MS;
    // Old ones out first (they are in time order).
    let drop = 0;
    while (drop < this.events.length && this.events[drop]!.at < since) drop++;
    if (drop) this.events.splice(0, drop);
    const by = new Map<string, { address: string; count: number; lastAt: number; usernames: string[] }>();
    for (const e of this.events) {
      let entry = by.get(e.address);
      if (!entry) by.set(e.address, (entry = { address: e.address, count: 0, lastAt: 0, usernames: [] }));
      entry.count++;
      entry.lastAt = Math.max(entry.lastAt, e.at);
      if (!entry.usernames.includes(e.username) && entry.usernames.length < MAX_USERNAMES) entry.usernames.push(e.username);
    }
    const addresses = [...by.values()].sort((a, b) => b.count - a.count || b.lastAt - a.lastAt).slice(0, MAX_ADDRESSES_SHOWN);
    return { count: this.events.length, addresses };
  }
}
