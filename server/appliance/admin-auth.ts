// The GUI's own password, for a browser that has not the token printed at start (another
// computer through `ssh -L`, a bookmark after a restart). Stored as a scrypt hash (the
// accounts' password module) in <data>/gui-password; a signed-in browser gets a cookie
// that names its expiry and carries an HMAC over it and the password hash, keyed by a
// random secret in <data>/gui-secret: it lasts across restarts, and changing the password
// ends every signed-in browser. Both files are readable by their owner only.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { hashPassword, passwordProblem, verifyPassword } from '../accounts/index.js';
import { writeFileAtomic } from '../config/index.js';

export const ADMIN_PASSWORD_FILE = 'gui-password';
const SECRET_FILE = 'gui-secret';
export const MIN_ADMIN_PASSWORD = 10;
export const SESSION_DAYS = 30;
/** After a wrong password: one guess a second at most, whatever the number of browsers. */
const FAILURE_DELAY_MS = 1000;

export class AdminAuth {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly dataDir: string,
    private hash: string | null,
    private readonly secret: Buffer,
    private readonly failureDelayMs: number,
  ) {}

  static async open(dataDir: string, failureDelayMs = FAILURE_DELAY_MS): Promise<AdminAuth> {
    const hash = (await fs.readFile(join(dataDir, ADMIN_PASSWORD_FILE), 'utf8').catch(() => '')).trim() || null;
    let secret = await fs.readFile(join(dataDir, SECRET_FILE)).catch(() => null);
    if (!secret || secret.length < 32) {
      secret = randomBytes(32);
      await writeFileAtomic(join(dataDir, SECRET_FILE), secret.toString('hex'), { mode: 0o600 });
    } else {
      secret = Buffer.from(secret.toString('utf8').trim(), 'hex');
    }
    return new AdminAuth(dataDir, hash, secret, failureDelayMs);
  }

  get isSet(): boolean {
    return this.hash !== null;
  }

  /** Why this cannot be the GUI password, or null. */
  static problem(password: string): string | null {
    if (password.length < MIN_ADMIN_PASSWORD) return `use at least ${MIN_ADMIN_PASSWORD} characters`;
    return passwordProblem(password);
  }

  async set(password: string): Promise<void> {
    const problem = AdminAuth.problem(password);
    if (problem) throw new Error(problem);
    const hash = await hashPassword(password);
    await writeFileAtomic(join(this.dataDir, ADMIN_PASSWORD_FILE), hash + '\n', { mode: 0o600 });
    this.hash = hash;
  }

  /** Check a password; one check at a time, and a wrong one waits before the next may run. */
  verify(password: string): Promise<boolean> {
    const run = this.queue.then(async () => {
      if (this.hash === null) return false;
      const ok = await verifyPassword(password, this.hash);
      if (!ok) await new Promise((r) => setTimeout(r, this.failureDelayMs));
      return ok;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** A cookie value for a browser that just signed in. */
  issue(now = Date.now()): string {
    const expires = now + SESSION_DAYS * 86_400_000;
    return `${expires}.${this.mac(String(expires))}`;
  }

  check(value: string, now = Date.now()): boolean {
    if (this.hash === null) return false;
    const dot = value.indexOf('.');
    if (dot < 1 || dot > 16) return false;
    const expires = value.slice(0, dot);
    if (!/^\d+$/.test(expires) || Number(expires) < now) return false;
    const given = Buffer.from(value.slice(dot + 1));
    const wanted = Buffer.from(this.mac(expires));
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  }

  private mac(expires: string): string {
    return createHmac('sha256', this.secret).update(`${expires}\0${this.hash ?? ''}`).digest('base64url');
  }
}
