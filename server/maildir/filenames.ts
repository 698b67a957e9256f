// Maildir message file names: "<unique>:2,<flag letters>".
//
// The unique part (everything before the last ':') is what courierimapuiddb and
// courierimapkeywords store; we call it the message's "base". Flags are letters in
// ASCII order: D(raft) F(lagged) P(assed) R(eplied) S(een) T(rashed). Letters we
// do not map to IMAP (P, Dovecot's lower-case keyword letters) are kept as they are.

import { randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import { SYSTEM_FLAGS, type SystemFlag } from '../backend/mailstore.js';

const LETTER_TO_FLAG: Readonly<Record<string, SystemFlag>> = {
  D: '\\Draft',
  F: '\\Flagged',
  R: '\\Answered',
  S: '\\Seen',
  T: '\\Deleted',
};
const FLAG_TO_LETTER: ReadonlyMap<SystemFlag, string> = new Map(
  Object.entries(LETTER_TO_FLAG).map(([letter, flag]) => [flag, letter]),
);
const SYSTEM_FLAG_BY_LOWER: ReadonlyMap<string, SystemFlag> = new Map(SYSTEM_FLAGS.map((f) => [f.toLowerCase(), f]));

export interface ParsedFileName {
  /** The unique part, up to (not including) the last ':'. */
  base: string;
  /** Letters after ":2,", or '' when the name has no (or an unknown) info part. */
  letters: string;
}

export function parseFileName(fileName: string): ParsedFileName {
  const colon = fileName.lastIndexOf(':');
  if (colon < 0) return { base: fileName, letters: '' };
  const info = fileName.slice(colon + 1);
  return { base: fileName.slice(0, colon), letters: info.startsWith('2,') ? info.slice(2) : '' };
}

export function baseOf(fileName: string): string {
  const colon = fileName.lastIndexOf(':');
  return colon < 0 ? fileName : fileName.slice(0, colon);
}

export function formatFileName(base: string, letters: string): string {
  return `${base}:2,${letters}`;
}

/** The canonical spelling of a system flag (case-insensitive), or undefined for keywords. */
export function systemFlag(flag: string): SystemFlag | undefined {
  return SYSTEM_FLAG_BY_LOWER.get(flag.toLowerCase());
}

export function systemFlagsFromLetters(letters: string): SystemFlag[] {
  const flags: SystemFlag[] = [];
  for (const letter of letters) {
    const flag = LETTER_TO_FLAG[letter];
    if (flag && !flags.includes(flag)) flags.push(flag);
  }
  return flags;
}

/**
 * The letters for a set of system flags, keeping the letters of `previous` that are
 * not IMAP system flags (P, keyword letters of other servers), in ASCII order.
 */
export function lettersFor(flags: Iterable<SystemFlag>, previous = ''): string {
  const letters = new Set<string>();
  for (const letter of previous) if (!(letter in LETTER_TO_FLAG)) letters.add(letter);
  for (const flag of flags) {
    const letter = FLAG_TO_LETTER.get(flag);
    if (letter) letters.add(letter);
  }
  return [...letters].sort().join('');
}

/** RFC822.SIZE given in the name by us or Dovecot (",W=<n>"), if any. */
export function crlfSizeFromName(base: string): number | undefined {
  const match = /,W=(\d+)/.exec(base);
  return match ? Number(match[1]) : undefined;
}

/** File size given in the name by Maildir++ writers (",S=<n>"), if any. */
export function fileSizeFromName(base: string): number | undefined {
  const match = /,S=(\d+)/.exec(base);
  return match ? Number(match[1]) : undefined;
}

/**
 * Order of new messages, as Courier sorts them before giving out UIDs: by the leading
 * number (delivery time), then byte-wise on the unique part.
 */
export function compareMaildirNames(a: string, b: string): number {
  const an = leadingNumber(a);
  const bn = leadingNumber(b);
  if (an !== bn) return an - bn;
  // The bases compared in place (no slices: this runs for every pair of a big listing).
  const al = baseLength(a);
  const bl = baseLength(b);
  const common = Math.min(al, bl);
  for (let i = 0; i < common; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return al < bl ? -1 : al > bl ? 1 : 0;
}

function baseLength(fileName: string): number {
  const colon = fileName.lastIndexOf(':');
  return colon < 0 ? fileName.length : colon;
}

/** Names sorted as compareMaildirNames orders them, with the sort keys worked out once per name. */
export function sortMaildirNames(names: readonly string[]): string[] {
  // readdir gives names in byte order, which is nearly always this order too: then no sort.
  // One plain loop (no calls per pair, each name's number read once): it runs before the
  // code is optimised, in every new process.
  let sorted = true;
  let previous = names.length ? leadingNumber(names[0]) : 0;
  for (let i = 1; i < names.length && sorted; i++) {
    const number = leadingNumber(names[i]);
    if (number < previous) sorted = false;
    else if (number === previous) sorted = compareMaildirNames(names[i - 1], names[i]) <= 0;
    previous = number;
  }
  if (sorted) return [...names];
  const keyed = names.map((name) => ({ name, number: leadingNumber(name), base: baseOf(name) }));
  keyed.sort((a, b) => (a.number !== b.number ? a.number - b.number : a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
  return keyed.map((k) => k.name);
}

function leadingNumber(name: string): number {
  let value = 0;
  let i = 0;
  for (; i < name.length && i < 15; i++) {
    const digit = name.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return value;
    value = value * 10 + digit;
  }
  if (i < name.length) {
    const match = /^\d+/.exec(name); // longer than any time stamp: as Number() reads it
    return match ? Number(match[0]) : 0;
  }
  return value;
}

/** Host name as it may appear in a Maildir name: '/' ':' and ',' escaped as djb's spec says. */
export function maildirHostname(name = osHostname()): string {
  return (name || 'localhost').replace(/[/:,\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

let deliveries = 0;
const host = maildirHostname();

/**
 * A new unique name: "<sec>.M<usec>P<pid>Q<count>R<random>.<host>,S=<bytes>,W=<crlf bytes>".
 * ",S=" is the Maildir++ size (quota); ",W=" spares a read of the file for RFC822.SIZE.
 */
export function newBaseName(fileSize: number, crlfSize: number): string {
  const now = Date.now();
  const seconds = Math.floor(now / 1000);
  const micros = (now % 1000) * 1000 + Math.floor(Math.random() * 1000);
  deliveries += 1;
  const random = randomBytes(4).toString('hex');
  return `${seconds}.M${micros}P${process.pid}Q${deliveries}R${random}.${host},S=${fileSize},W=${crlfSize}`;
}

/** RFC822.SIZE of a stored message: every bare LF counts as CRLF. */
export function crlfSize(content: Buffer): number {
  let size = content.length;
  let index = content.indexOf(10);
  while (index >= 0) {
    if (index === 0 || content[index - 1] !== 13) size += 1;
    index = content.indexOf(10, index + 1);
  }
  return size;
}
