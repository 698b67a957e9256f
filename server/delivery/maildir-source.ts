// Reading another Maildir to import it, without writing anything to it: its folders (the
// Maildir itself and Maildir++ subfolders ".A.B", as Courier and Dovecot lay them out), and
// each folder's messages with flags and keywords, in the order of their UIDs where Courier's
// courierimapuiddb or Dovecot's dovecot-uidlist gives them (else in delivery order), with
// those UIDs and the folder's UIDVALIDITY, for an import that keeps them.
//
// Keywords: Courier's courierimapkeywords/ (":list", then the update files named after a
// message's base, which are newer: the last writer wins) and Dovecot's dovecot-keywords
// ("<n> <name>" per line; the message's lower-case letters a-z in its file name are keywords
// 0-25). Flags: the upper-case letters D F R S T (P, "passed", has no IMAP flag).

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseFileName, sortMaildirNames, systemFlagsFromLetters } from '../maildir/filenames.js';
import { KEYWORD_DIR, parseKeywordList } from '../maildir/keywords.js';
import { folderNameOfEntry } from '../maildir/names.js';
import { readDovecotUidList, readUidDb } from '../maildir/uiddb.js';

export interface SourceFolder {
  /** Its name relative to the Maildir: '' for the Maildir itself, "A.B" for ".A.B". */
  name: string;
  dir: string;
}

export interface SourceMessage {
  /** The unique part of its file name (what Courier and Dovecot key UIDs and keywords by). */
  base: string;
  file: string;
  flags: string[];
  /** The file's mtime: INTERNALDATE, as Courier and Dovecot keep it. */
  internalDate: number;
  /** Its UID at the server that made the folder, when that server's UID file names it. */
  uid?: number;
}

/** A source folder's messages, and the UIDVALIDITY and UIDNEXT of its UID file when it has one. */
export interface SourceListing {
  messages: SourceMessage[];
  uids: { uidValidity: number; uidNext: number; file: 'courierimapuiddb' | 'dovecot-uidlist' } | null;
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then((s) => s.isDirectory(), () => false);
}

/** Is `dir` a Maildir (cur/ and new/)? */
export async function isMaildir(dir: string): Promise<boolean> {
  return (await exists(path.join(dir, 'cur'))) && (await exists(path.join(dir, 'new')));
}

/** The folders of a Maildir, the Maildir itself first, then by name. */
export async function sourceFolders(root: string): Promise<SourceFolder[]> {
  const folders: SourceFolder[] = [{ name: '', dir: root }];
  const entries = await fs.readdir(root, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory() && folderNameOfEntry(e.name) !== null)
    .map((e) => e.name)
    .sort();
  for (const entry of names) {
    const dir = path.join(root, entry);
    if (await isMaildir(dir)) folders.push({ name: entry.slice(1), dir });
  }
  return folders;
}

async function readText(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw err;
  }
}

/** Courier's keywords of a folder: ":list" with the newer update files over it. */
async function courierKeywords(dir: string): Promise<Map<string, string[]>> {
  const kwDir = path.join(dir, KEYWORD_DIR);
  const list = await readText(path.join(kwDir, ':list'));
  const result = list ? parseKeywordList(list) : new Map<string, string[]>();
  let entries: string[];
  try {
    entries = await fs.readdir(kwDir);
  } catch {
    return result;
  }
  // ".<t>.<base>" files were merged into :list already; "<base>" files are newer than it.
  for (const name of entries) {
    if (name.startsWith('.') || name.startsWith(':') || name === 'tmp') continue;
    const text = await readText(path.join(kwDir, name));
    if (text === null) continue;
    const keywords: string[] = [];
    for (const line of text.split('\n')) {
      if (line === '') break;
      if (!keywords.includes(line)) keywords.push(line);
    }
    result.set(name, keywords);
  }
  return result;
}

/** Dovecot's keyword letters of a folder: index 0-25 -> name. */
async function dovecotKeywordNames(dir: string): Promise<string[]> {
  const text = await readText(path.join(dir, 'dovecot-keywords'));
  const names: string[] = [];
  for (const line of text?.split('\n') ?? []) {
    const m = /^(\d+) (\S+)$/.exec(line.trim());
    if (m && Number(m[1]) < 26) names[Number(m[1])] = m[2]!;
  }
  return names;
}

/** The messages of one folder (new/ and cur/), in UID order where known. */
export async function sourceMessages(dir: string): Promise<SourceListing> {
  const files: { name: string; sub: string }[] = [];
  for (const sub of ['new', 'cur']) {
    let names: string[] = [];
    try {
      names = await fs.readdir(path.join(dir, sub));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const name of names) if (!name.startsWith('.')) files.push({ name, sub });
  }
  const courier = await courierKeywords(dir);
  const dovecot = await dovecotKeywordNames(dir);
  // Courier's first, as our engine reads them (a Maildir served by both has Courier's newer).
  const courierDb = (await readUidDb(dir).catch(() => null))?.db ?? null;
  const db = courierDb ?? (await readDovecotUidList(dir).catch(() => null));
  const uids = db?.uids ?? new Map<string, number>();
  const order = new Map(sortMaildirNames(files.map((f) => f.name)).map((n, i) => [n, i]));
  const messages: (SourceMessage & { rank: [number, number] })[] = [];
  for (const f of files) {
    const file = path.join(dir, f.sub, f.name);
    const stat = await fs.stat(file).catch(() => null);
    if (!stat?.isFile()) continue; // gone meanwhile (another program moved it from new/ to cur/)
    const { base, letters } = f.sub === 'new' ? { base: parseFileName(f.name).base, letters: '' } : parseFileName(f.name);
    const flags: string[] = [...systemFlagsFromLetters(letters)];
    for (const letter of letters) {
      const code = letter.charCodeAt(0) - 97;
      const name = code >= 0 && code < 26 ? dovecot[code] : undefined;
      if (name && !flags.includes(name)) flags.push(name);
    }
    for (const k of courier.get(base) ?? []) if (!flags.includes(k)) flags.push(k);
    const uid = uids.get(base);
    messages.push({ base, file, flags, internalDate: Math.floor(stat.mtimeMs), ...(uid !== undefined ? { uid } : {}), rank: [uid ?? Number.MAX_SAFE_INTEGER, order.get(f.name)!] });
  }
  messages.sort((a, b) => a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1]);
  return {
    messages: messages.map(({ rank: _rank, ...m }) => m),
    uids: db ? { uidValidity: db.uidValidity, uidNext: db.uidNext, file: courierDb ? 'courierimapuiddb' : 'dovecot-uidlist' } : null,
  };
}
