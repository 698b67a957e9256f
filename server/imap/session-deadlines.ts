// A session's deadlines: one timer for the earliest of the login, inactivity, command-line and
// literal deadlines, which disconnects the client when it passes.

import type { ReaderProgress } from './protocol/reader.js';

export const DEFAULT_TIMEOUTS = { unauthenticated: 60_000, authenticated: 30 * 60_000, literal: 60_000 };
export type SessionTimeouts = typeof DEFAULT_TIMEOUTS;

/**
 * Deadlines, not inactivity timers (a byte now and then must not keep a connection): a
 * client has `unauthenticated` ms from connecting to log in; each command line must arrive
 * within `literal` ms of its first byte, and each literal within `literal` ms plus its size
 * at this rate (a 40 MB upload may take 60 s + 640 s). Logged in, `authenticated` ms
 * without input ends the connection (IDLE included, as RFC 2177 allows).
 */
const LITERAL_MIN_RATE = 64 * 1024; // octets per second
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the deadlines need of their session. */
export interface DeadlineSubject {
  readonly connectedAt: number;
  /** Not logged in yet (the login deadline applies). */
  loggingIn(): boolean;
  /** Since when the current command line or literal is arriving (the reader's progress). */
  progress(): ReaderProgress | null;
  /** The session has ended, or a relay keeps the deadlines now: no timer. */
  stopped(): boolean;
  /** A deadline passed: disconnect with this reason. */
  expire(reason: string): void;
}

export class Deadlines {
  private timer: NodeJS.Timeout | undefined;
  private lastInput = Date.now();

  constructor(
    readonly timeouts: SessionTimeouts,
    private readonly subject: DeadlineSubject,
  ) {}

  /** Input came: the inactivity deadline starts again. */
  input(): void {
    this.lastInput = Date.now();
    this.refresh();
  }

  /** The earliest deadline that applies now, and what to tell the client when it passes. */
  private deadline(): { at: number; reason: string } {
    const t = this.timeouts;
    const login = this.subject.loggingIn();
    let at = login ? this.subject.connectedAt + t.unauthenticated : this.lastInput + t.authenticated;
    let reason = login ? 'No login in time.' : 'Disconnected for inactivity.';
    const part = this.subject.progress();
    if (part) {
      const end = part.since + t.literal + (part.kind === 'literal' ? (part.size / LITERAL_MIN_RATE) * 1000 : 0);
      if (end < at) {
        at = end;
        reason = part.kind === 'literal' ? 'Literal data too slow.' : 'Command line too slow.';
      }
    }
    return { at, reason };
  }

  refresh(): void {
    if (this.subject.stopped()) return;
    if (this.timer) clearTimeout(this.timer);
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, this.deadline().at - Date.now()));
    this.timer = setTimeout(() => {
      const { at, reason } = this.deadline();
      if (Date.now() >= at) this.subject.expire(reason);
      else this.refresh(); // the deadline moved (a literal began, input came)
    }, wait);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
