// Whether a folder has new mail, for LIST's \Marked and \Unmarked (RFC 3501 section 7.2.2),
// decided as Courier's imapd decides it: a message waiting in new/, or one in cur/ without
// the Seen flag. The directories are read as streams and left at the first such message,
// so a large folder with a recent unseen message costs little.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { errorCode } from './fsutil.js';

export async function hasNewMail(folderDir: string): Promise<boolean> {
  if (await anyEntry(path.join(folderDir, 'new'), () => true)) return true;
  return anyEntry(path.join(folderDir, 'cur'), (name) => {
    const info = name.lastIndexOf(':2,');
    return info < 0 || !name.slice(info + 3).includes('S');
  });
}

async function anyEntry(dir: string, test: (name: string) => boolean): Promise<boolean> {
  let handle;
  try {
    handle = await fs.opendir(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return false;
    throw error;
  }
  // Leaving the loop early closes the directory.
  for await (const entry of handle) if (!entry.name.startsWith('.') && test(entry.name)) return true;
  return false;
}
