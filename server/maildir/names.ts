// Folder names <-> Maildir++ directories.
//
// "INBOX" is the Maildir itself; "INBOX.A.B" is the directory ".A.B" in it (UTF-8 on
// disk, as Courier 5 writes it). Rules, as in Courier's maildir_name2dir: the name
// starts with INBOX (any case), no empty level ("INBOX..A", "INBOX.A."), no "/".

import path from 'node:path';

export const INBOX = 'INBOX';
export const SEPARATOR = '.';
const NAME_MAX = 255;

/** The canonical spelling of a folder name ("inbox.Sent" -> "INBOX.Sent"), or null when invalid. */
export function canonicalFolderName(name: string): string | null {
  if (name.length < INBOX.length || name.slice(0, INBOX.length).toUpperCase() !== INBOX) return null;
  const rest = name.slice(INBOX.length);
  if (rest === '') return INBOX;
  if (!rest.startsWith(SEPARATOR)) return null;
  // Control characters would break the line-based files (courierimapsubscribed, uiddb).
  if (/[/\u0000-\u001f\u007f]/.test(rest)) return null;
  if (rest.slice(1).split(SEPARATOR).some((level) => level === '')) return null;
  if (Buffer.byteLength(rest) > NAME_MAX) return null;
  return INBOX + rest;
}

/** Directory of a canonical folder name. */
export function folderDirectory(root: string, canonicalName: string): string {
  return canonicalName === INBOX ? root : path.join(root, canonicalName.slice(INBOX.length));
}

/** Folder name of a directory entry of the root (".A.B" -> "INBOX.A.B"), or null if it is no folder name. */
export function folderNameOfEntry(entry: string): string | null {
  if (!entry.startsWith(SEPARATOR) || entry === '.' || entry === '..') return null;
  return canonicalFolderName(INBOX + entry);
}

/** "INBOX.A.B" -> ["INBOX", "INBOX.A"]. */
export function parentNames(canonicalName: string): string[] {
  const parents: string[] = [];
  let index = canonicalName.indexOf(SEPARATOR);
  while (index >= 0) {
    parents.push(canonicalName.slice(0, index));
    index = canonicalName.indexOf(SEPARATOR, index + 1);
  }
  return parents;
}

/** True when `name` is `ancestor` or below it. */
export function isSameOrBelow(name: string, ancestor: string): boolean {
  return name === ancestor || name.startsWith(ancestor + SEPARATOR);
}

/**
 * RFC 6154 attributes for the usual folder names directly under INBOX (matched without
 * regard to case), so that clients such as Outlook do not create their own.
 */
export const DEFAULT_SPECIAL_USE: Readonly<Record<string, string>> = {
  sent: '\\Sent',
  'sent items': '\\Sent',
  'sent messages': '\\Sent',
  drafts: '\\Drafts',
  trash: '\\Trash',
  'deleted items': '\\Trash',
  'deleted messages': '\\Trash',
  junk: '\\Junk',
  'junk email': '\\Junk',
  'junk e-mail': '\\Junk',
  spam: '\\Junk',
  archive: '\\Archive',
  archives: '\\Archive',
};

export function specialUseOf(canonicalName: string, table: Readonly<Record<string, string>>): string | undefined {
  const parents = parentNames(canonicalName);
  if (parents.length !== 1) return undefined;
  return table[canonicalName.slice(INBOX.length + 1).toLowerCase()];
}
