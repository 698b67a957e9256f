// Courier's sharable Maildirs, the "shared." namespace (maildir/maildirshared.C and
// maildirshared2.C in courier-libs; README.sharedfolders.html, "Sharable Maildirs"): the
// on-disk half. The store that puts it behind IMAP names is sharable-store.ts.
//
// What Courier keeps on disk (and this module reads and writes alike, so a Maildir moves
// between Courier and us with its shared subscriptions and per-user flags):
//   - the list of sharable Maildirs: "NAME<white space>PATH" per line, "#" starts a comment,
//     in the system file (Courier's $sysconfdir/maildirshared, `maildirshared` setting here)
//     and in the Maildir's own `shared-maildirs` (written by `maildirmake --add NAME=PATH`).
//     Every ".FOLDER" with a cur/ in such a Maildir is the IMAP folder "shared.NAME.FOLDER".
//   - a subscription: `shared-folders/NAME/FOLDER/` with cur/ new/ tmp/ and a symlink
//     `shared` to PATH/.FOLDER, the real folder. Its cur/ holds one symlink per message of
//     the real folder's cur/, named as the message but with this user's flags, pointing at
//     "<value of the shared link>/cur/<the real file name>"; new messages arrive as links in
//     its new/ named "BASE:2,". `shared-timestamp` is touched at each sync: when both the
//     real new/ and cur/ are older (in whole seconds, as Courier compares), nothing changed.
//
// The design constraint (issue 9): the engine refuses symlinked folders and message files
// everywhere (folderdir.ts, O_NOFOLLOW opens), because a link could point anywhere the
// server's user can read or write. Sharable Maildirs need links, so they are allowed in
// exactly one place and checked there, every time:
//   1. Only below `shared-folders/NAME/FOLDER/` of the logged-in Maildir, and only for NAME
//      found in the sharable list of that moment.
//   2. The `shared` link must resolve (realpath) to exactly realpath(PATH)/.FOLDER for that
//      NAME's PATH, and that folder must pass the engine's own folder check (a real
//      directory with a real cur/: folderDirState). Anything else: the folder does not exist.
//   3. A message link in the private cur/ is followed only when its realpath is a regular
//      file directly in that real folder's cur/ (linkedMessageTarget). The engine is given
//      this check as FolderContext.messageLinks for that one private folder; every other
//      folder has none, and stays exactly as strict as before (test/imap/symlink.test.ts).
//   4. The private folder's own cur/ new/ tmp/ must be real directories (the engine's check),
//      so a link placed there cannot redirect what we write.
// Courier follows whatever the links say; we follow only what the list names.

import fs from 'node:fs';
import path from 'node:path';
import { baseOf } from './filenames.js';
import { folderDirState } from './folderdir.js';
import { errorCode, scratchName } from './fsutil.js';

/** Courier's SHAREDSUBDIR. */
export const SHARED_SUBDIR = 'shared-folders';
/** The Maildir's own list (Courier's maildir::shared_filename). */
export const SHARED_MAILDIRS_FILE = 'shared-maildirs';
/** Courier's MAILDIRSHAREDRC for Debian's courier-imap (sysconfdir /etc/courier). */
export const DEFAULT_SYSTEM_FILE = '/etc/courier/maildirshared';
const LINK = 'shared';
const TIMESTAMP = 'shared-timestamp';
/** A list file larger than this is not read (the lists name a handful of Maildirs). */
const MAX_LIST_BYTES = 256 * 1024;

export interface SharableMaildir {
  readonly name: string;
  readonly path: string;
}

/** Courier's shared_fparse: the first two words of a line before any "#"; null for a blank or one-word line. */
export function parseSharableLine(line: string): SharableMaildir | null {
  const hash = line.indexOf('#');
  const words = (hash < 0 ? line : line.slice(0, hash)).split(/[ \t\r\n]+/).filter((w) => w !== '');
  if (words.length < 2) return null;
  return { name: words[0]!, path: words[1]! };
}

/**
 * The sharable Maildirs: the system file's, then the Maildir's own (Courier reads them in that
 * order and takes the first of a name). A name with "." or "/" cannot be a level of
 * "shared.NAME.FOLDER" and is left out; so is a relative path (Courier's imapd runs in the
 * Maildir, so it would name something below it: never a sharable Maildir of someone else).
 */
export function readSharableList(maildir: string | null, systemFile: string | null): SharableMaildir[] {
  const out: SharableMaildir[] = [];
  // maildir null: the Maildir's own list is not read (imapd-server: see sharable-store.ts).
  for (const file of [systemFile, maildir === null ? null : path.join(maildir, SHARED_MAILDIRS_FILE)]) {
    if (file === null) continue;
    const text = readSmallFile(file);
    if (text === null) continue;
    for (const line of text.split('\n')) {
      const entry = parseSharableLine(line);
      if (!entry || /[./]/.test(entry.name) || !path.isAbsolute(entry.path)) continue;
      if (!out.some((e) => e.name === entry.name)) out.push(entry);
    }
  }
  return out;
}

function readSmallFile(file: string): string | null {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() || stat.size > MAX_LIST_BYTES) return null;
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** Whether two absolute paths are the same directory or one lies below the other. */
export function pathsOverlap(a: string, b: string): boolean {
  const below = (x: string, y: string) => x === y || x.startsWith(y.endsWith(path.sep) ? y : y + path.sep);
  return below(a, b) || below(b, a);
}

/**
 * The entries whose Maildir (its real path) overlaps none of `fenced` (the accounts'
 * Maildirs, real paths): an entry naming, inside or around an account's Maildir, or one that
 * cannot be resolved now, is left out.
 */
export function withoutFenced(list: readonly SharableMaildir[], fenced: readonly string[]): SharableMaildir[] {
  return list.filter((entry) => {
    let real: string;
    try {
      real = fs.realpathSync(entry.path);
    } catch {
      return false;
    }
    return !fenced.some((f) => pathsOverlap(real, f));
  });
}

/** Courier's list_sharable: "NAME.FOLDER" for every ".FOLDER" of every sharable Maildir that is a folder. */
export function listSharable(list: readonly SharableMaildir[]): string[] {
  const out: string[] = [];
  for (const { name, path: dir } of list) {
    let entries: string[];
    try {
      entries = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const entry of entries.sort()) {
      if (!entry.startsWith('.') || entry === '.' || entry === '..') continue;
      if (!validFolder(entry.slice(1))) continue;
      if (folderDirState(path.join(dir, entry)) === 'folder') out.push(`${name}.${entry.slice(1)}`);
    }
  }
  return out;
}

/** A folder part of "NAME.FOLDER": Courier's shareddir rules (no "/", no empty level). */
function validFolder(folder: string): boolean {
  return folder !== '' && !folder.includes('/') && !folder.split('.').includes('');
}

/** Courier's shareddir: the private folder of "NAME.FOLDER", or null when the name is not valid. */
export function privateDir(maildir: string, sharedName: string): string | null {
  const dot = sharedName.indexOf('.');
  if (dot <= 0) return null;
  const name = sharedName.slice(0, dot);
  const folder = sharedName.slice(dot + 1);
  if (name.includes('/') || !validFolder(folder)) return null;
  return path.join(maildir, SHARED_SUBDIR, name, folder);
}

/** Courier's list_shared: the subscribed "NAME.FOLDER"s (directories below shared-folders/NAME/). */
export function listShared(maildir: string): string[] {
  const out: string[] = [];
  const top = path.join(maildir, SHARED_SUBDIR);
  for (const name of realSubdirs(top)) {
    for (const folder of realSubdirs(path.join(top, name))) out.push(`${name}.${folder}`);
  }
  return out;
}

function realSubdirs(dir: string): string[] {
  if (!isDir(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((n) => !n.startsWith('.') && isDir(path.join(dir, n)))
    .sort();
}

function isDir(p: string): boolean {
  try {
    return fs.lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The list's entry for "NAME.FOLDER", and the folder part. */
function entryOf(list: readonly SharableMaildir[], sharedName: string): { entry: SharableMaildir; folder: string } | null {
  const dot = sharedName.indexOf('.');
  if (dot <= 0) return null;
  const entry = list.find((e) => e.name === sharedName.slice(0, dot));
  return entry ? { entry, folder: sharedName.slice(dot + 1) } : null;
}

/**
 * The real folder of "NAME.FOLDER" as the list names it: realpath(PATH)/.FOLDER when that is
 * a folder (a real directory with a real cur/); null otherwise.
 */
export function realFolderOf(list: readonly SharableMaildir[], sharedName: string): string | null {
  const found = entryOf(list, sharedName);
  if (!found || !validFolder(found.folder)) return null;
  let root: string;
  try {
    root = fs.realpathSync(found.entry.path);
  } catch {
    return null;
  }
  const real = path.join(root, `.${found.folder}`);
  return folderDirState(real) === 'folder' ? real : null;
}

/**
 * Courier's shared_subscribe: makes the private folder with cur/ new/ tmp/ and its `shared`
 * link to the real folder; false when "NAME.FOLDER" is not in the list (nothing is made).
 * Already subscribed: true, unchanged.
 */
export function subscribeSharable(maildir: string, list: readonly SharableMaildir[], sharedName: string): boolean {
  const dir = privateDir(maildir, sharedName);
  const found = entryOf(list, sharedName);
  if (dir === null || !found || realFolderOf(list, sharedName) === null) return false;
  if (isDir(dir)) return true;
  for (const level of [path.join(maildir, SHARED_SUBDIR), path.dirname(dir)]) {
    try {
      fs.mkdirSync(level, { mode: 0o700 });
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
    if (!isDir(level)) return false; // a symlink or a file in the way: not ours to follow
  }
  fs.mkdirSync(dir, { mode: 0o700 });
  try {
    for (const sub of ['tmp', 'cur', 'new']) fs.mkdirSync(path.join(dir, sub), { mode: 0o700 });
    // The value Courier writes: the list's path as given, then "/.FOLDER".
    fs.symlinkSync(`${found.entry.path}/.${found.folder}`, path.join(dir, LINK));
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return true;
}

/** Courier's shared_unsubscribe: removes the private folder (links only, never what they point at) and its NAME level when empty. */
export function unsubscribeSharable(maildir: string, sharedName: string): boolean {
  const dir = privateDir(maildir, sharedName);
  if (dir === null || !isDir(dir)) return false;
  // rm does not follow symlinks: the links go, their targets stay.
  fs.rmSync(dir, { recursive: true, force: true });
  try {
    fs.rmdirSync(path.dirname(dir));
  } catch {
    /* other folders of that Maildir are still subscribed */
  }
  return true;
}

/**
 * The checked real folder of a subscribed private folder: its `shared` link must resolve to
 * exactly the folder the list names for it (rule 2 above), and the private folder must be a
 * real folder itself (rule 4). Null otherwise.
 */
export function checkedRealFolder(maildir: string, list: readonly SharableMaildir[], sharedName: string): string | null {
  const dir = privateDir(maildir, sharedName);
  const expected = realFolderOf(list, sharedName);
  if (dir === null || expected === null) return null;
  for (const level of [path.join(maildir, SHARED_SUBDIR), path.dirname(dir)]) if (!isDir(level)) return null;
  if (folderDirState(dir) !== 'folder') return null;
  try {
    if (!fs.lstatSync(path.join(dir, LINK)).isSymbolicLink()) return null;
    return fs.realpathSync(path.join(dir, LINK)) === expected ? expected : null;
  } catch {
    return null;
  }
}

/**
 * Rule 3: where a message link in the private folder may be followed to. The real file (its
 * realpath) when `file` is a symlink to a regular file directly in `realFolder`/cur/; `file`
 * itself when it is no symlink; null for a link anywhere else (not a message, for us).
 */
export function linkedMessageTarget(realFolder: string, file: string): string | null {
  try {
    if (!fs.lstatSync(file).isSymbolicLink()) return file;
    const target = fs.realpathSync(file);
    if (path.dirname(target) !== path.join(realFolder, 'cur')) return null;
    return fs.lstatSync(target).isFile() ? target : null;
  } catch {
    return null;
  }
}

/** Courier's shared_isrw: whether this process may write the real folder's cur/ (then the folder is read-write). */
export function sharableWritable(realFolder: string): boolean {
  try {
    fs.accessSync(path.join(realFolder, 'cur'), fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Courier's shared_sync: brings the private folder's links up to date with the real folder.
 * New messages of the real new/ are first moved to its cur/ where we may (maildir_getnew;
 * silently not where we may not). Links to messages gone from the real cur/ are removed, the
 * others made to point at the message's current name, and every real message without a link
 * gets one in the private new/ ("BASE:2,"), which the engine then claims as any delivery.
 */
export function syncSharable(privateFolder: string, realFolder: string): void {
  claimRealNew(realFolder);
  const linkValue = fs.readlinkSync(path.join(privateFolder, LINK));
  const stamp = path.join(privateFolder, TIMESTAMP);
  const seconds = (p: string): number => Math.floor(fs.statSync(p).mtimeMs / 1000);
  try {
    const at = seconds(stamp);
    if (seconds(path.join(realFolder, 'new')) < at && seconds(path.join(realFolder, 'cur')) < at) return;
  } catch {
    /* no timestamp yet, or a directory gone: sync */
  }
  touch(stamp);
  const real = new Map<string, string>();
  for (const name of fs.readdirSync(path.join(realFolder, 'cur'))) {
    if (!name.startsWith('.')) real.set(baseOf(name), name);
  }
  for (const sub of ['cur', 'new']) {
    const dir = path.join(privateFolder, sub);
    for (const name of fs.readdirSync(dir)) {
      if (name.startsWith('.')) continue;
      const file = path.join(dir, name);
      const realName = real.get(baseOf(name));
      real.delete(baseOf(name));
      if (realName === undefined) {
        removeEntry(file); // gone from the sharable folder
        continue;
      }
      const want = `${linkValue}/cur/${realName}`;
      let have: string | null = null;
      try {
        have = fs.readlinkSync(file);
      } catch {
        /* not a link: replaced by one */
      }
      if (have !== want) relink(privateFolder, want, file);
    }
  }
  for (const [base, realName] of real) relink(privateFolder, `${linkValue}/cur/${realName}`, path.join(privateFolder, 'new', `${base}:2,`));
}

/** Removes a link (or a stray file) of the private folder; a directory there is left alone. */
function removeEntry(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    /* a directory, or gone already */
  }
}

/** An atomic (re)placement of a link: made in tmp/, renamed over. */
function relink(privateFolder: string, value: string, at: string): void {
  const tmp = path.join(privateFolder, 'tmp', scratchName('link'));
  fs.symlinkSync(value, tmp);
  try {
    fs.renameSync(tmp, at);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw error;
  }
}

function touch(file: string): void {
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, '\0', 0);
    const now = new Date();
    fs.futimesSync(fd, now, now);
  } finally {
    fs.closeSync(fd);
  }
}

/** maildir_getnew on the real folder: new/NAME to cur/NAME:2, where this process may; a failure is not ours to mend. */
function claimRealNew(realFolder: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(path.join(realFolder, 'new'));
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith('.')) continue;
    try {
      fs.renameSync(path.join(realFolder, 'new', name), path.join(realFolder, 'cur', name.includes(':') ? name : `${name}:2,`));
    } catch {
      /* read-only for us, or claimed by another process */
    }
  }
}

/**
 * After EXPUNGE removed this user's link to a message (`linkName`, its name in the private
 * cur/): the real message goes too, where this process may remove it (Courier's
 * unlinksharedmsg; a user who may not write the real folder has it read-only, so cannot
 * expunge). Found by its base name among the real folder's files.
 */
export function removeRealMessage(realFolder: string, linkName: string): void {
  const base = baseOf(linkName);
  const cur = path.join(realFolder, 'cur');
  for (const name of fs.readdirSync(cur)) {
    if (baseOf(name) !== base) continue;
    try {
      fs.unlinkSync(path.join(cur, name));
    } catch {
      /* not ours to remove */
    }
  }
}
