// OBJECTID (RFC 8474) and SAVEDATE (RFC 8514) for Maildir folders, from what is on disk.
//
// MAILBOXID: `imapd-ts.mailboxid` in the folder's own directory (INBOX: the Maildir root), one
// id and a newline, made on first need (SELECT, STATUS, CREATE). It goes with the directory on
// RENAME and away on DELETE, so a folder made again under an old name gets a new id (RFC 8474
// 4.1). Renaming INBOX makes a new folder and moves the messages into it (RFC 3501 6.3.5): the
// new folder gets a new id, INBOX keeps its own. Made by link(2) from a scratch file, so that two
// processes that make it at once agree on the one that won.
//
// EMAILID: derived from the message's Maildir base name (the unique part before ":2,", which
// flag changes keep): "M" and 24 hex digits of its SHA-256. COPY and MOVE give the message a new
// base name, so they record the source's EMAILID for the new name in the target folder's
// `imapd-ts.emailids` ("<base> <emailid>" lines, appended) before the new message gets its UID:
// a copy keeps the original's EMAILID (RFC 8474 5.1). Safe to lose: ids then fall back to the
// derived ones. THREADID is not kept: FETCH makes it from the header (commands/fetch-ext.ts).
//
// SAVEDATE: the seconds at the start of the base name, the time the file was delivered to this
// folder (Courier, Dovecot, maildrop, ours: "<seconds>.<unique>..."); APPEND, COPY and MOVE make
// new names, so a copy's save date is the time of the copy (RFC 8514 3). Not the file's mtime
// (APPEND sets it to the INTERNALDATE asked for) nor its ctime (every flag change renames the
// file and moves it). A name that does not start with a plausible time falls back to INTERNALDATE.

import { createHash, randomBytes } from 'node:crypto';
import { promises as fs, statSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ensureFolderTmp } from './folderdir.js';
import { errorCode } from './fsutil.js';

export const MAILBOX_ID_FILE = 'imapd-ts.mailboxid';
export const EMAIL_ID_FILE = 'imapd-ts.emailids';

const ID_SYNTAX = /^[A-Za-z0-9_-]{1,255}$/;

/** The folder's MAILBOXID, made now when it has none; null when it cannot be kept (a read-only Maildir). */
export async function mailboxId(folderDir: string): Promise<string | null> {
  const file = path.join(folderDir, MAILBOX_ID_FILE);
  const existing = await readId(file);
  if (existing) return existing;
  const id = `F${randomBytes(12).toString('hex')}`;
  const scratch = path.join(folderDir, 'tmp', `imapd-ts.mailboxid.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    ensureFolderTmp(folderDir);
    await fs.writeFile(scratch, `${id}\n`);
    await fs.link(scratch, file);
    return id;
  } catch (error) {
    // Another process made it first: theirs holds.
    if (errorCode(error) === 'EEXIST') return readId(file);
    return null;
  } finally {
    await fs.rm(scratch, { force: true }).catch(() => undefined);
  }
}

async function readId(file: string): Promise<string | null> {
  try {
    const text = (await fs.readFile(file, 'latin1')).trim();
    return ID_SYNTAX.test(text) ? text : null;
  } catch {
    return null;
  }
}

/** The EMAILID a base name gives when nothing is recorded for it. */
export function derivedEmailId(base: string): string {
  return `M${createHash('sha256').update(base).digest('hex').slice(0, 24)}`;
}

interface Recorded {
  size: number;
  mtimeMs: number;
  ino: number;
  ids: Map<string, string>;
}

/** The recorded EMAILIDs of each folder directory, read again when the file changed. */
const recorded = new Map<string, Recorded>();

function recordedIds(folderDir: string): Map<string, string> | undefined {
  const file = path.join(folderDir, EMAIL_ID_FILE);
  let stat;
  try {
    stat = statSync(file);
  } catch {
    recorded.delete(folderDir);
    return undefined;
  }
  const known = recorded.get(folderDir);
  if (known && known.size === stat.size && known.mtimeMs === stat.mtimeMs && known.ino === stat.ino) return known.ids;
  const ids = new Map<string, string>();
  for (const line of readFileSync(file, 'latin1').split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const id = line.slice(space + 1);
    if (ID_SYNTAX.test(id)) ids.set(line.slice(0, space), id);
  }
  recorded.set(folderDir, { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino, ids });
  return ids;
}

/** EMAILIDs of messages of a folder, by base name. */
export function emailIds(folderDir: string, bases: readonly string[]): string[] {
  const ids = recordedIds(folderDir);
  return bases.map((base) => ids?.get(base) ?? derivedEmailId(base));
}

/** Records that the messages now named `pairs[i][0]` in `folderDir` keep the EMAILID `pairs[i][1]`. */
export async function recordEmailIds(folderDir: string, pairs: readonly (readonly [string, string])[]): Promise<void> {
  const lines = pairs.filter(([base, id]) => derivedEmailId(base) !== id).map(([base, id]) => `${base} ${id}\n`);
  if (lines.length) await fs.appendFile(path.join(folderDir, EMAIL_ID_FILE), lines.join(''));
}

/** The earliest delivery time believed (2000-01-01, in seconds); the latest is a day from now. */
const PLAUSIBLE_FROM = 946684800;

/** The save date (ms) a base name records, or undefined. */
export function saveDateOf(base: string): number | undefined {
  let seconds = 0;
  let i = 0;
  for (; i < base.length && i < 12; i++) {
    const c = base.charCodeAt(i);
    if (c < 48 || c > 57) break;
    seconds = seconds * 10 + (c - 48);
  }
  if (i === 0 || base[i] !== '.') return undefined;
  if (seconds < PLAUSIBLE_FROM || seconds > Date.now() / 1000 + 86400) return undefined;
  return seconds * 1000;
}
