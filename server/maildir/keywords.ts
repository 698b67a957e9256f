// courierimapkeywords/: IMAP keywords of one folder, in Courier's format, so that Courier
// and this server see each other's keywords.
//
// - ":list" is the merged state: keyword names one per line, an empty line, then
//   "<base>:<0-based keyword numbers separated by spaces>" per message with keywords.
// - A writer puts a message's whole keyword set (one per line; empty = none) into a file
//   named after the message's base, through tmp/ and a rename. The last writer wins.
// - A reader merges those files into :list. Merged files are renamed ".<t>.<base>"
//   (t = time / 300 s) and removed once a later 5-minute period has begun, so that
//   readers that cached the old :list still see the update for a while. Update files of
//   messages that no longer exist are removed after 15 minutes.

import { promises as fs, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { errorCode, scratchName, writeFileAtomic } from './fsutil.js';

export const KEYWORD_DIR = 'courierimapkeywords';
const LIST_FILE = ':list';
const PERIOD_SECONDS = 300;
const ORPHAN_AGE_MS = 15 * 60_000;
/** Update files of gone messages are looked at (a stat each) at most this often per reader. */
const ORPHAN_SWEEP_MS = 60_000;
const SCRATCH_AGE_SECONDS = 120;

export type KeywordMap = Map<string, string[]>;

export function parseKeywordList(text: string): KeywordMap {
  const lines = text.split('\n');
  const names: string[] = [];
  let i = 0;
  for (; i < lines.length && lines[i] !== ''; i++) names.push(lines[i]);
  const result: KeywordMap = new Map();
  for (i += 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.lastIndexOf(':');
    if (colon <= 0) continue;
    const keywords: string[] = [];
    for (const number of line.slice(colon + 1).split(' ')) {
      const name = names[Number(number)];
      if (number !== '' && name !== undefined && !keywords.includes(name)) keywords.push(name);
    }
    if (keywords.length) result.set(line.slice(0, colon), keywords);
  }
  return result;
}

export function formatKeywordList(map: KeywordMap): string | null {
  const numbers = new Map<string, number>();
  let body = '';
  for (const [base, keywords] of map) {
    if (!keywords.length) continue;
    const indexes = keywords.map((keyword) => {
      let n = numbers.get(keyword);
      if (n === undefined) numbers.set(keyword, (n = numbers.size));
      return n;
    });
    body += `${base}:${indexes.join(' ')}\n`;
  }
  if (!numbers.size) return null;
  return `${[...numbers.keys()].join('\n')}\n\n${body}`;
}

function parseUpdate(text: string): string[] {
  const keywords: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') break;
    if (!keywords.includes(line)) keywords.push(line);
  }
  return keywords;
}

interface PendingUpdates {
  /** An unmerged "<base>" file exists. */
  plain: boolean;
  /** Highest ".<t>." period among the merged-but-kept files, and how many there are. */
  highest: number;
  count: number;
}

/**
 * What a reader remembers between reads. Every change to the directory is a rename
 * or an unlink, so an unchanged directory mtime means unchanged content, provided the
 * mtime was already in the past when we read (clock ticks are coarse).
 */
export interface KeywordMemory {
  dirStamp?: { ino: number; mtimeMs: number };
  result?: KeywordMap;
  /** Update files read before, by name, checked by inode, size and mtime. */
  updates: Map<string, { ino: number; size: number; mtimeMs: number; keywords: string[] }>;
  /** When this reader last looked at the ages of orphaned update files. */
  lastSweep?: number;
}

export function keywordMemory(): KeywordMemory {
  return { updates: new Map() };
}

/** Past this age (ms) a directory mtime can be trusted to change with the next change. */
const SETTLED_MS = 1000;

/**
 * Reads the keywords of the messages `bases` (the folder's current messages), merges
 * pending updates into :list and tidies up, as Courier's reader does.
 */
/**
 * The keywords when they can be had without writing anything: there is no keyword directory,
 * or it has not changed since readKeywords last read it. Null otherwise (readKeywords, under
 * the lock, merges what changed).
 */
export function keywordsIfUnchanged(folderDir: string, basesOf: () => ReadonlySet<string>, memory: KeywordMemory): KeywordMap | null {
  let stat;
  try {
    stat = statSync(path.join(folderDir, KEYWORD_DIR));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return new Map();
    throw error;
  }
  const stamp = memory.dirStamp;
  if (!memory.result || !stamp || stamp.ino !== stat.ino || stamp.mtimeMs !== stat.mtimeMs) return null;
  const bases = basesOf();
  const result: KeywordMap = new Map();
  for (const [base, keywords] of memory.result) if (bases.has(base)) result.set(base, keywords);
  return result;
}

export async function readKeywords(
  folderDir: string,
  basesOf: () => ReadonlySet<string>,
  memory: KeywordMemory = keywordMemory(),
  now = Date.now(),
): Promise<KeywordMap> {
  const dir = path.join(folderDir, KEYWORD_DIR);
  let stat;
  try {
    stat = await fs.stat(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return new Map();
    throw error;
  }
  // The messages' bases (100,000 of them in a big folder) only when there are keywords to look at.
  const bases = basesOf();
  const stamp = memory.dirStamp;
  if (memory.result && stamp && stamp.ino === stat.ino && stamp.mtimeMs === stat.mtimeMs) {
    const result: KeywordMap = new Map();
    for (const [base, keywords] of memory.result) if (bases.has(base)) result.set(base, keywords);
    return result;
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await readOnce(folderDir, dir, bases, now, memory);
      // Cache only when nothing touched the directory just before or during the read.
      const after = await fs.stat(dir);
      const settled = after.mtimeMs === stat.mtimeMs && now - stat.mtimeMs > SETTLED_MS;
      memory.dirStamp = settled ? { ino: after.ino, mtimeMs: after.mtimeMs } : undefined;
      memory.result = settled ? result : undefined;
      return result;
    } catch (error) {
      // An update file vanished between readdir and open: another reader merged it. Retry.
      if (errorCode(error) !== 'ENOENT' || attempt >= 4) throw error;
    }
  }
}

async function readOnce(folderDir: string, dir: string, bases: ReadonlySet<string>, now: number, memory: KeywordMemory): Promise<KeywordMap> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return new Map();
    throw error;
  }
  const period = Math.floor(now / 1000 / PERIOD_SECONDS);
  let merged: KeywordMap = new Map();
  let listChanged = false;
  if (names.includes(LIST_FILE)) {
    merged = parseKeywordList(await readIfExists(path.join(dir, LIST_FILE)));
    for (const base of merged.keys()) {
      if (!bases.has(base)) {
        merged.delete(base);
        listChanged = true;
      }
    }
  }

  const updates = new Map<string, PendingUpdates>();
  const removals: Promise<void>[] = [];
  // Orphans pile up in a busy folder (every expunged message's files stay 15 minutes): a stat
  // of each on every read cost a tenth of the CPU under ten clients. Once a minute is enough.
  const sweep = now - (memory.lastSweep ?? Number.NEGATIVE_INFINITY) >= ORPHAN_SWEEP_MS;
  if (sweep) memory.lastSweep = now;
  for (const name of names) {
    if (name.startsWith(':')) continue;
    let base = name;
    let t = Number.POSITIVE_INFINITY;
    if (name.startsWith('.')) {
      const match = /^\.(\d+)\.(.+)$/.exec(name);
      if (!match) {
        const scratch = /^\.tmp\.(\d+)/.exec(name);
        if (scratch && Number(scratch[1]) < now / 1000 - SCRATCH_AGE_SECONDS) removals.push(removeQuietly(path.join(dir, name)));
        continue;
      }
      t = Number(match[1]);
      base = match[2];
    }
    if (!bases.has(base)) {
      if (sweep) removals.push(removeIfOlder(path.join(dir, name), now - ORPHAN_AGE_MS));
      continue;
    }
    const entry = updates.get(base) ?? { plain: false, highest: 0, count: 0 };
    entry.count += 1;
    if (t === Number.POSITIVE_INFINITY) entry.plain = true;
    else if (t > entry.highest) {
      // Only the newest old update matters; older ones of past periods can go.
      if (entry.highest > 0 && entry.highest < period) removals.push(removeQuietly(path.join(dir, `.${entry.highest}.${base}`)));
      entry.highest = t;
    } else if (t < period) {
      removals.push(removeQuietly(path.join(dir, name)));
    }
    updates.set(base, entry);
  }

  const seen = new Set<string>();
  for (const [base, entry] of updates) {
    const file = entry.plain ? base : `.${entry.highest}.${base}`;
    seen.add(file);
    const keywords = await readUpdate(path.join(dir, file), file, memory);
    const before = merged.get(base) ?? [];
    if (!sameKeywords(before, keywords)) {
      listChanged = true;
      if (keywords.length) merged.set(base, keywords);
      else merged.delete(base);
    }
  }

  if (listChanged) {
    const text = formatKeywordList(merged);
    if (text === null) await removeQuietly(path.join(dir, LIST_FILE));
    else await writeFileAtomic(path.join(dir, LIST_FILE), text, path.join(folderDir, 'tmp'));
  }
  // Keep merged updates as ".<period+1>.<base>" for a while, drop lone ones of past periods.
  for (const [base, entry] of updates) {
    if (entry.plain) {
      removals.push(renameQuietly(path.join(dir, base), path.join(dir, `.${period + 1}.${base}`)));
    } else if (entry.count === 1 && entry.highest < period) {
      removals.push(removeQuietly(path.join(dir, `.${entry.highest}.${base}`)));
    }
  }
  await Promise.all(removals);
  for (const name of memory.updates.keys()) if (!seen.has(name)) memory.updates.delete(name);
  return merged;
}

/**
 * Contents of an update file; a stat instead of a read when it was read before unchanged.
 * The stat is needed even for merged ".<t>.<base>" files: a merge in the same period renames
 * over one. Synchronous: through the thread pool, the hand-overs cost more than the stat.
 */
async function readUpdate(file: string, name: string, memory: KeywordMemory): Promise<string[]> {
  const stat = statSync(file);
  const known = memory.updates.get(name);
  if (known && known.ino === stat.ino && known.size === stat.size && known.mtimeMs === stat.mtimeMs) return known.keywords;
  const keywords = parseUpdate(await fs.readFile(file, 'utf8'));
  memory.updates.set(name, { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs, keywords });
  return keywords;
}

/**
 * Records the whole keyword set of one message (an empty list removes its keywords).
 * Synchronous: a few bytes written and renamed in the page cache, inside the folder's queue,
 * where each hand-over to the thread pool (three here) kept every other session waiting.
 */
export async function writeKeywordUpdate(folderDir: string, base: string, keywords: readonly string[]): Promise<void> {
  const dir = path.join(folderDir, KEYWORD_DIR);
  const text = keywords.map((keyword) => `${keyword}\n`).join('');
  const scratch = path.join(folderDir, 'tmp', scratchName('keywords'));
  try {
    writeFileSync(scratch, text);
    renameSync(scratch, path.join(dir, base));
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
    // Either the keyword directory does not exist yet, or tmp/ was cleaned. Not recursive:
    // a folder deleted meanwhile must not come back as a directory holding only keywords.
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if (errorCode(e) !== 'EEXIST') throw e;
    }
    writeFileSync(scratch, text);
    renameSync(scratch, path.join(dir, base));
  }
}

export function sameKeywords(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((keyword) => set.has(keyword));
}

async function readIfExists(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return '';
    throw error;
  }
}

async function removeQuietly(file: string): Promise<void> {
  await fs.rm(file, { force: true }).catch(() => undefined);
}

async function renameQuietly(from: string, to: string): Promise<void> {
  await fs.rename(from, to).catch(() => undefined);
}

async function removeIfOlder(file: string, limitMs: number): Promise<void> {
  try {
    if ((await fs.stat(file)).mtimeMs < limitMs) await fs.rm(file, { force: true });
  } catch {
    // gone already
  }
}
