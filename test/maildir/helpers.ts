// Shared helpers for the Maildir engine tests: real temporary Maildirs on disk.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'node:test';
import type { Folder, FolderChange, MailStore } from '../../server/backend/mailstore.js';
import { openMaildirStore, type MaildirStoreOptions } from '../../server/maildir/index.js';
import { LISTING_FILE } from '../../server/maildir/listing.js';

export interface TempMaildir {
  root: string;
  cleanup(): void;
}

/** The Maildir and the store a test made, if any: closed and removed after it. */
export interface StoreFixture {
  md: TempMaildir | undefined;
  mail: MailStore | undefined;
}

/** Registers (for the test file calling it) an afterEach that closes `mail` and removes `md`. */
export function storeFixture(): StoreFixture {
  const fixture: StoreFixture = { md: undefined, mail: undefined };
  afterEach(async () => {
    await fixture.mail?.close();
    fixture.md?.cleanup();
    fixture.mail = undefined;
    fixture.md = undefined;
  });
  return fixture;
}

/** A fresh Maildir (cur/ new/ tmp/) under the system temp directory; `folders` are created as ".Name". */
export function tempMaildir(folders: string[] = []): TempMaildir {
  const base = mkdtempSync(path.join(tmpdir(), 'maildir-test-'));
  const root = path.join(base, 'Maildir');
  for (const dir of ['', ...folders.map((f) => `.${f}`)]) {
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(path.join(root, dir, sub), { recursive: true });
    if (dir) writeFileSync(path.join(root, dir, 'maildirfolder'), '');
  }
  return { root, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

let counter = 0;

/** A small RFC 5322 message with LF line ends. */
export function message(subject: string, body = 'Hello.\n'): Buffer {
  return Buffer.from(`From: a@example.org\nTo: b@example.org\nSubject: ${subject}\nDate: Mon, 13 Nov 2023 10:00:00 +0000\n\n${body}`);
}

/** Delivers a message the way an MDA does (tmp/, then new/); returns its file name. */
export function deliver(root: string, folder: string, content: Buffer, options: { mtime?: number; dir?: 'new' | 'cur'; flags?: string } = {}): string {
  counter += 1;
  const dir = folder ? path.join(root, `.${folder}`) : root;
  const base = `${1700000000 + counter}.M${counter}P99.testhost,S=${content.length}`;
  const name = options.dir === 'cur' ? `${base}:2,${options.flags ?? ''}` : base;
  const tmp = path.join(dir, 'tmp', base);
  writeFileSync(tmp, content);
  if (options.mtime !== undefined) utimesSync(tmp, options.mtime / 1000, options.mtime / 1000);
  renameSync(tmp, path.join(dir, options.dir ?? 'new', name));
  return name;
}

export async function store(root: string, options: Partial<MaildirStoreOptions> = {}): Promise<MailStore> {
  // Short retention: tests must not leave timers behind.
  return openMaildirStore({ root, idleRetentionMs: 10, ...options });
}

/** Collects folder changes; flags sets are turned into sorted arrays for easy comparison, and
 * modseqs (whose values come from the clock, see modseq.ts) are left out of plain(). */
export function recorder(): { changes: FolderChange[]; listener: (change: FolderChange) => void; plain: () => unknown[] } {
  const changes: FolderChange[] = [];
  return {
    changes,
    listener: (change) => changes.push(change),
    plain: () =>
      changes.map((change) => {
        if (change.kind === 'flags') return { kind: change.kind, uid: change.uid, flags: [...change.flags].sort() };
        if (change.kind === 'added') return { ...change, messages: change.messages.map((m) => ({ uid: m.uid, flags: [...m.flags].sort() })) };
        return change;
      }),
  };
}

/** Waits until `check` returns true (polling every 5 ms), or fails after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function flagsOf(flags: ReadonlySet<string>): string[] {
  return [...flags].sort();
}

/** RFC822.SIZE and INTERNALDATE of messages (the snapshot does not carry them: they may need the files). */
export async function infoOf(folder: Folder, uids: number[]): Promise<{ uid: number; size: number; internalDate: number }[]> {
  const data = await folder.messageData(uids, { info: true });
  return data.map((d, i) => {
    if (!d) throw new Error(`message ${uids[i]} is gone`);
    return { uid: uids[i], size: d.size!, internalDate: d.internalDate! };
  });
}

/** Opens a folder as the IMAP session's SELECT does: open, then refresh() (numbers and claims what is new). */
export async function select(mail: MailStore, name: string): Promise<Folder> {
  const folder = await mail.openFolder(name);
  await folder.refresh();
  return folder;
}

/** Directory mtimes of cur/ and new/ put 10 s back: the folder looks settled (as one untouched for a while). */
export function age(root: string): void {
  const past = Date.now() / 1000 - 10;
  for (const sub of ['cur', 'new']) utimesSync(path.join(root, sub), past, past);
}

/** A pause long enough for the engine to drop an idle folder's state. */
export const drop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 30));

/**
 * Three messages in cur/ (`a`, `b`, `c`) of a settled Maildir, looked at once by a store that
 * then closed: the listing is left (asserted). `takeRecent`: by a session that takes \Recent.
 */
export async function listedMaildir(fx: StoreFixture, options: { takeRecent?: boolean } = {}): Promise<{ root: string; names: string[] }> {
  const md = (fx.md = tempMaildir());
  const names = ['a', 'b', 'c'].map((s) => deliver(md.root, '', message(s), { dir: 'cur' }));
  age(md.root);
  const mail = (fx.mail = await store(md.root, { watch: false }));
  const folder = await mail.openFolder('INBOX');
  if (options.takeRecent) folder.subscribe(() => undefined);
  await folder.refresh();
  folder.release();
  await mail.close();
  fx.mail = undefined;
  await drop();
  assert.ok(existsSync(path.join(md.root, LISTING_FILE)), 'a settled look leaves a listing');
  return { root: md.root, names };
}
