// Importing another Maildir (Courier's or Dovecot's) into an account's folder tree: its INBOX
// into the target folder (INBOX, or "INBOX.X" with --folder X) and each subfolder ".A.B" below
// it, with flags, keywords and dates, in the source's UID order. The ledger's item is the
// message's base (the unique part of its file name, which a flag change does not alter), so a
// run after a stop, or after the source got new mail, imports only what is not there yet.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ImportLedger, settlePending } from './import-ledger.js';
import { ensureFolder, FolderWriter } from './import-writer.js';
import { ImportError, ProgressMeter, sourcePath, type ImportCommon, type ImportProgress } from './import.js';
import { isMaildir, sourceFolders, sourceMessages } from './maildir-source.js';

export interface MaildirImportOptions extends ImportCommon {
  maildir: string;
  /** Where the source's INBOX goes ("INBOX", "INBOX.Old"); its subfolders go below it. */
  folder: string;
}

/** The target folder of a source folder ('' the source's INBOX, "A.B" its folder ".A.B"). */
export function targetFolder(base: string, name: string): string {
  return name === '' ? base : `${base}.${name}`;
}

export async function importMaildir(options: MaildirImportOptions): Promise<ImportProgress> {
  const root = await sourcePath(options.maildir, 'Maildir');
  if (!(await isMaildir(root))) throw new ImportError(`${options.maildir} is not a Maildir (no cur/ and new/ in it)`);
  const meter = new ProgressMeter(options.onProgress);
  const folders = await sourceFolders(root);
  // Listed first, so that the progress has its total (and time left) from the start.
  const listed = [];
  for (const folder of folders) listed.push({ folder, messages: await sourceMessages(folder.dir) });
  meter.progress.messagesTotal = listed.reduce((n, l) => n + l.messages.length, 0);
  meter.progress.foldersTotal = folders.length;
  meter.report(true);
  const store = options.store;
  const ledger = new ImportLedger(options.dataDir);
  let queued = 0;
  try {
    for (const { folder, messages } of listed) {
      if (options.cancelled?.() || (options.limit !== undefined && queued >= options.limit)) break;
      const target = targetFolder(options.folder, folder.name);
      meter.progress.folder = folder.name || 'INBOX';
      const source = JSON.stringify(['maildir', folder.dir, options.account.toLowerCase(), target]);
      await ensureFolder(store, target);
      const known = ledger.rows(source);
      const again = await settlePending(ledger, store, target, source, new Map([...known].filter(([, r]) => r.state === 'pending')));
      const writer = new FolderWriter(store, ledger, source, target, (n) => {
        meter.progress.imported += n;
        meter.report();
      }, options.faults);
      for (const m of messages) {
        if (known.has(m.base) && !again.has(m.base)) {
          meter.progress.skipped++;
          continue;
        }
        if (options.cancelled?.() || (options.limit !== undefined && queued >= options.limit)) break;
        let raw: Buffer;
        try {
          raw = await fs.readFile(m.file);
        } catch (err) {
          // Moved from new/ to cur/ (or flags changed) by the Maildir's own server meanwhile.
          const moved = await findMoved(path.dirname(path.dirname(m.file)), m.base);
          if (!moved) {
            if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
            throw err;
          }
          raw = await fs.readFile(moved);
        }
        await writer.add({ item: m.base, raw, flags: m.flags, internalDate: m.internalDate });
        queued++;
      }
      await writer.flush();
      meter.progress.foldersDone++;
      meter.report();
    }
  } finally {
    ledger.close();
  }
  meter.progress.folder = null;
  meter.report(true);
  return meter.progress;
}

async function findMoved(dir: string, base: string): Promise<string | null> {
  for (const sub of ['cur', 'new']) {
    const names = await fs.readdir(path.join(dir, sub)).catch(() => [] as string[]);
    const name = names.find((n) => n === base || n.startsWith(`${base}:`));
    if (name) return path.join(dir, sub, name);
  }
  return null;
}
