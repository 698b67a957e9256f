// Courier's ACL files (maildir/maildiracl), so a Maildir keeps its ACLs moving between
// Courier and this server in either direction. Each folder's directory (the Maildir itself
// for INBOX) holds `courierimapacl`: one "identifier rights" line per entry. A folder that
// has none takes its parent's list; INBOX without one has owner and administrators with
// every right. A name with no directory of its own (an intermediate level) keeps its list in
// `courierimaphieracl/<name without the leading dot>`, which Courier moves into the folder
// once the folder is created; we do the same when we read it.

import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ALL_RIGHTS, normalizeRights, type AclEntry } from '../backend/acl.js';
import { MailStoreError } from '../backend/mailstore.js';
import { INBOX, SEPARATOR, folderDirectory } from './names.js';
import { folderDirState } from './folderdir.js';

export const ACL_FILE = 'courierimapacl';
export const ACL_HIER_DIR = 'courierimaphieracl';

/** Courier's file lines hold at most BUFSIZ octets; a longer file is not an ACL we wrote. */
const MAX_ACL_FILE = 64 * 1024;

function parse(text: string): AclEntry[] {
  const entries: AclEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const space = line.indexOf(' ');
    const identifier = space < 0 ? line : line.slice(0, space);
    const rights = space < 0 ? '' : line.slice(space + 1).replace(/^ +/, '');
    // Courier's aclt_list::add skips identifiers with control characters and keeps the last of a repeated one.
    if (/[\x00-\x1f]/.test(identifier)) continue;
    const at = entries.findIndex((e) => e.identifier === identifier);
    const entry = { identifier, rights: normalizeRights(rights) };
    if (at >= 0) entries[at] = entry;
    else entries.push(entry);
  }
  return entries;
}

function readIfPresent(file: string): string | null {
  try {
    const stat = fs.lstatSync(file);
    if (!stat.isFile() || stat.size > MAX_ACL_FILE) return null;
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Courier's add_default_admin: "administrators" holds every right; "-administrators" can never take l or a. */
function withDefaultAdmin(entries: AclEntry[]): AclEntry[] {
  const out = entries.map((e) => ({ ...e }));
  const group = out.find((e) => e.identifier === 'group=administrators');
  const adminId = group ? 'group=administrators' : 'administrators';
  const admin = out.find((e) => e.identifier === adminId);
  if (admin) admin.rights = normalizeRights(admin.rights + ALL_RIGHTS);
  else out.push({ identifier: adminId, rights: ALL_RIGHTS });
  const result = group ? out.filter((e) => e.identifier !== 'administrators') : out;
  for (const e of result) {
    if (e.identifier === '-administrators' || e.identifier === '-group=administrators') e.rights = e.rights.replace(/[la]/g, '');
  }
  return result.filter((e) => !(e.identifier.startsWith('-') && e.rights === ''));
}

function hierFile(root: string, canonical: string): string {
  // ".A.B" without its leading dot, as Courier names it.
  return path.join(root, ACL_HIER_DIR, canonical.slice(INBOX.length + 1));
}

/** The ACL of a folder (canonical name), inherited from its parents when it has none. */
export function readFolderAcl(root: string, canonical: string): AclEntry[] {
  const dir = folderDirectory(root, canonical);
  const own = path.join(dir, ACL_FILE);
  let text = readIfPresent(own);
  if (text === null && canonical === INBOX) return withDefaultAdmin([{ identifier: 'owner', rights: ALL_RIGHTS }]);
  if (text === null) {
    const hier = hierFile(root, canonical);
    if (folderDirState(dir) === 'folder') {
      try {
        fs.renameSync(hier, own);
        text = readIfPresent(own);
      } catch {
        // No list kept for it in courierimaphieracl.
      }
    }
    text ??= readIfPresent(hier);
  }
  if (text !== null) return withDefaultAdmin(parse(text));
  return readFolderAcl(root, canonical.slice(0, canonical.lastIndexOf(SEPARATOR)));
}

/** Writes a folder's ACL through a temporary file and a rename, where Courier keeps it. */
export function writeFolderAcl(root: string, canonical: string, entries: readonly AclEntry[]): void {
  const dir = folderDirectory(root, canonical);
  const exists = folderDirState(dir) === 'folder';
  const target = exists ? path.join(dir, ACL_FILE) : hierFile(root, canonical);
  if (!exists) fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
  const text = entries.map((e) => `${e.identifier} ${e.rights}\n`).join('');
  // A list longer than the reader takes would read back as no list at all: every entry lost.
  if (Buffer.byteLength(text) > MAX_ACL_FILE) throw new MailStoreError('Too many or too long ACL entries on this folder', 'LIMIT');
  const tmp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o644 });
  try {
    fs.renameSync(tmp, target);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw error;
  }
}

/**
 * Whose list a folder (canonical name) takes, as readFolderAcl finds it: its own (a file in
 * its directory or in courierimaphieracl), else its nearest parent's; INBOX's default when
 * no folder up to INBOX has one.
 */
export function aclOrigin(root: string, canonical: string): string {
  for (let name = canonical; ; name = name.slice(0, name.lastIndexOf(SEPARATOR))) {
    if (readIfPresent(path.join(folderDirectory(root, name), ACL_FILE)) !== null) return name;
    if (name === INBOX) return INBOX;
    if (readIfPresent(hierFile(root, name)) !== null) return name;
  }
}
