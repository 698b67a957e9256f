// Temporary Maildirs for tests: empty ones, and the peers' standard test Maildir
// (test/peers/make-maildir.sh), which Courier and Dovecot also get in
// differential tests.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PEERS } from './imap-client.js';

/** A fresh directory under /tmp that the peers' users can also read (not 0700). */
export function tempDir(prefix: string): string {
  const base = path.join(os.tmpdir(), 'imapd-ts-tests');
  fs.mkdirSync(base, { recursive: true, mode: 0o755 });
  fs.chmodSync(base, 0o755);
  const dir = fs.mkdtempSync(path.join(base, `${prefix}-`));
  fs.chmodSync(dir, 0o755);
  return dir;
}

export function emptyMaildir(root: string): string {
  for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(root, sub), { recursive: true });
  return root;
}

/** The peers' test Maildir with `count` INBOX messages, subfolders .Sent .Archive .Archive.2025. */
export function standardMaildir(root: string, count = 12): string {
  execFileSync(path.join(PEERS, 'make-maildir.sh'), [root, String(count)], { stdio: 'pipe' });
  return root;
}

let deliveries = 0;

/**
 * Drop a message into new/ the way a delivery agent does: write in tmp/, rename. Names sort in
 * the order of the calls (a counter, not the clock's microseconds, which wrap), so the messages
 * of a test get their UIDs in the order it delivered them.
 */
export function deliver(root: string, message: string | Buffer, folder = ''): string {
  const dir = folder ? path.join(root, folder) : root;
  const unique = `${Math.floor(Date.now() / 1000)}.M${String(++deliveries).padStart(6, '0')}P${process.pid}.testhost`;
  const tmp = path.join(dir, 'tmp', unique);
  fs.writeFileSync(tmp, message);
  const size = fs.statSync(tmp).size;
  const final = path.join(dir, 'new', `${unique},S=${size}`);
  fs.renameSync(tmp, final);
  return final;
}

export function copyTree(from: string, to: string): void {
  execFileSync('cp', ['-a', from, to]);
}

export function removeTree(dir: string): void {
  // Retries: a killed imapd's full-text index writer may still be closing its files there.
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 });
}

export { courierSkip } from './peers.js';
export const hasPython = (() => {
  try {
    execFileSync('python3', ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();

export function simpleMessage(subject: string, body = 'Hello there.\r\n', extra = ''): Buffer {
  return Buffer.from(
    `From: "Test Sender" <sender@example.org>\r\nTo: rcpt@example.com\r\nSubject: ${subject}\r\n` +
      `Date: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.org>\r\n${extra}` +
      `\r\n${body}`,
  );
}

/**
 * The message files of a folder's cur/, in UID order (from Courier's UID database): file
 * names do not sort in delivery order within one second (the microsecond part of the names
 * our engine makes is not zero-padded). Files without a UID come last, by name.
 */
export function messagesInUidOrder(folderDir: string): Buffer[] {
  const cur = path.join(folderDir, 'cur');
  if (!fs.existsSync(cur)) return [];
  const uidOf = new Map<string, number>();
  const db = path.join(folderDir, 'courierimapuiddb');
  if (fs.existsSync(db)) {
    for (const line of fs.readFileSync(db, 'utf8').split('\n').slice(1)) {
      const [uid, base] = line.split(' ');
      if (uid && base) uidOf.set(base, Number(uid));
    }
  }
  const uid = (name: string) => uidOf.get(name.split(':')[0]!) ?? Number.MAX_SAFE_INTEGER;
  return fs
    .readdirSync(cur)
    .sort((a, b) => uid(a) - uid(b) || (a < b ? -1 : 1))
    .map((name) => fs.readFileSync(path.join(cur, name)));
}
