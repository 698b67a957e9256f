// A folder's RFC 6154 attribute chosen with CREATE-SPECIAL-USE (`CREATE name (USE (\Sent))`):
// kept in the folder's own directory as `imapd-ts.specialuse` (one attribute and a newline), so
// that it goes with the folder when it is renamed and away when it is deleted. Courier and
// Dovecot ignore the file. A folder without it gets the attribute its name gives
// (DEFAULT_SPECIAL_USE in names.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const SPECIAL_USE_FILE = 'imapd-ts.specialuse';

/** The attributes a folder may be created with: the real ones (\All and \Flagged are views of other folders). */
export const CREATABLE_SPECIAL_USE: readonly string[] = ['\\Archive', '\\Drafts', '\\Junk', '\\Sent', '\\Trash'];

/** The attribute recorded in a folder's directory, or undefined. */
export function recordedSpecialUse(folderDir: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(folderDir, SPECIAL_USE_FILE), 'latin1');
  } catch {
    return undefined;
  }
  const word = text.trim();
  return CREATABLE_SPECIAL_USE.find((use) => use.toLowerCase() === word.toLowerCase());
}

export function specialUseFileText(use: string): string {
  return `${use}\n`;
}
