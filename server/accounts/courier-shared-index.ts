// Courier's shared index file (IMAP_SHAREDINDEXFILE; README.sharedfolders), read as
// courier-libs reads it (maildir/maildirnewshared.C, maildirinfocpp.C), so that the stdio
// imapd started by Courier's imaplogin, and a server taking Maildirs over from Courier, find
// the same "#shared." folders with the same index files.
//
// One entry a line, fields separated by a tab; "#" starts a comment anywhere on a line:
//   NAME  UID  GID  HOME  [MAILDIR]   an account: its Maildir is MAILDIR (default ./Maildir)
//                                     below HOME, or MAILDIR itself when absolute; UID and
//                                     GID must be numbers other than 0, else the line is an
//                                     error (Courier says so on stderr and skips it)
//   NAME  *  FILE                     a group of accounts: FILE, in the index's own directory,
//                                     lists them, and they appear as "#shared.NAME.ACCOUNT"
// Courier appends the account's "sharedgroup" option to the file name (a "universe" of
// accounts), and leaves out Maildirs it cannot reach and the logged-in account's own.

import fs from 'node:fs';
import path from 'node:path';
import type { MailStore } from '../backend/mailstore.js';
import type { SharedAccount, SharedIndex } from '../backend/shared.js';

/** Bigger than any index Courier's tools make for a home server (about 100 octets an account). */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;
/** Groups within groups: Courier's sharedindexsplit makes one level per letter it splits on. */
const MAX_DEPTH = 16;

export type CourierIndexLine =
  | { kind: 'account'; name: string; maildir: string; line: number }
  | { kind: 'group'; name: string; file: string; line: number };

/** The entries of one index file's text; `errors` has the numbers of the lines Courier calls syntax errors. */
export function parseCourierIndex(text: string, indexFile: string): { entries: CourierIndexLine[]; errors: number[] } {
  const entries: CourierIndexLine[] = [];
  const errors: number[] = [];
  // A group's file is named relative to the index file's directory, even when it starts with "/".
  const slash = indexFile.lastIndexOf('/');
  const dir = slash < 0 ? '' : indexFile.slice(0, slash + 1);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const line = raw.split('#')[0]!;
    const fields = line.split('\t');
    const entry = entryOf(fields, dir, i + 1);
    if (entry) entries.push(entry);
    else if (line !== '') errors.push(i + 1);
  });
  return { entries, errors };
}

function entryOf(fields: string[], dir: string, line: number): CourierIndexLine | null {
  if (fields.length < 2) return null;
  const name = fields[0]!;
  if (fields[1]!.startsWith('*')) {
    if (fields.length < 3) return null;
    return { kind: 'group', name, file: dir + fields[2]!, line };
  }
  // libmail_atouid_t: the digits at the start; none, or 0, is no uid.
  const id = (v: string | undefined) => Number(/^[0-9]*/.exec(v ?? '')![0] || '0');
  if (fields.length < 4 || id(fields[1]) === 0 || id(fields[2]) === 0) return null;
  const home = fields[3]!;
  const maildir = fields[4] ? fields[4] : './Maildir';
  return { kind: 'account', name, maildir: maildir.startsWith('/') ? maildir : `${home}/${maildir}`, line };
}

/** Courier's authgetoptionenv("sharedgroup"): from OPTIONS, "name=value" pairs separated by commas. */
export function sharedGroupOption(options: string | undefined): string {
  for (const pair of (options ?? '').split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq) === 'sharedgroup') return pair.slice(eq + 1);
  }
  return '';
}

export interface CourierFileIndexOptions {
  /** The top index file, the sharedgroup option already appended. */
  file: string;
  /** The logged-in account's own Maildir, left out as Courier leaves it out. */
  self: string;
  /** Open an account's Maildir; null when it is missing. */
  open(maildir: string): Promise<MailStore | null>;
  /** Syntax errors and unreadable files, as Courier reports them ("ERR: FILE(LINE): syntax error."). */
  warn?(message: string): void;
}

/** The index read from Courier's files: read again when a file changes, each file at most once per look. */
export function courierFileIndex(options: CourierFileIndexOptions): SharedIndex {
  const cache = new Map<string, { stamp: string; entries: CourierIndexLine[] }>();
  const reported = new Set<string>();
  const warnOnce = (message: string) => {
    if (reported.has(message)) return;
    reported.add(message);
    options.warn?.(message);
  };

  const read = (file: string): CourierIndexLine[] => {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch (error) {
      warnOnce(`ERR: ${file}: ${(error as Error).message}`);
      return [];
    }
    if (!stat.isFile() || stat.size > MAX_INDEX_BYTES) {
      warnOnce(`ERR: ${file}: not a shared index file`);
      return [];
    }
    const stamp = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    const hit = cache.get(file);
    if (hit?.stamp === stamp) return hit.entries;
    const { entries, errors } = parseCourierIndex(fs.readFileSync(file, 'utf8'), file);
    for (const line of errors) warnOnce(`ERR: ${file}(${line}): syntax error.`);
    cache.set(file, { stamp, entries });
    return entries;
  };

  let selfId: string | null | undefined;
  const idOf = (dir: string): string | null => {
    try {
      const s = fs.statSync(dir);
      return `${s.dev}:${s.ino}`;
    } catch {
      return null;
    }
  };

  return {
    async accounts(): Promise<SharedAccount[]> {
      selfId ??= idOf(options.self);
      const out: SharedAccount[] = [];
      // A group listing a file above it in the chain would never end (README.sharedfolders: "circular wormholes").
      const walk = (file: string, groups: string[], chain: string[]) => {
        const resolved = path.resolve(file);
        if (chain.includes(resolved) || chain.length >= MAX_DEPTH) {
          warnOnce(`ERR: ${file}: shared index groups go round in a circle`);
          return;
        }
        for (const entry of read(file)) {
          if (entry.kind === 'group') {
            walk(entry.file, [...groups, entry.name], [...chain, resolved]);
            continue;
          }
          const maildir = entry.maildir;
          out.push({
            name: entry.name,
            groups,
            async open() {
              // Courier leaves out the logged-in account's own Maildir and any it cannot stat.
              const id = idOf(maildir);
              if (id === null || id === selfId) return null;
              return options.open(maildir);
            },
          });
        }
      };
      walk(options.file, [], []);
      return out;
    },
  };
}
