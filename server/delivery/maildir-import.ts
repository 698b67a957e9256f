// Importing another Maildir (Courier's or Dovecot's) into an account's folder tree: its INBOX
// into the target folder (INBOX, or "INBOX.X" with --folder X) and each subfolder ".A.B" below
// it, with flags, keywords and dates, in the source's UID order. The ledger's item is the
// message's base (the unique part of its file name, which a flag change does not alter), so a
// run after a stop, or after the source got new mail, imports only what is not there yet.
// Into an empty (or new) folder the source's UIDVALIDITY and UIDs come along where Courier's
// courierimapuiddb or Dovecot's dovecot-uidlist gives them, so that a client that synced
// against the old server keeps its cache; into a folder with mail, new UIDs (and a note).

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { resumeSource } from './import-ledger.js';
import { FolderWriter } from './import-writer.js';
import { ImportError, importFolders, ProgressMeter, sourcePath, type ImportCommon, type ImportProgress } from './import.js';
import { isMaildir, sourceFolders, sourceMessages, type SourceMessage } from './maildir-source.js';

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
  for (const folder of folders) listed.push({ folder, ...(await sourceMessages(folder.dir)) });
  meter.progress.messagesTotal = listed.reduce((n, l) => n + l.messages.length, 0);
  const store = options.store;
  return importFolders(
    options,
    meter,
    listed,
    ({ folder }) => ({ label: folder.name || 'INBOX', target: targetFolder(options.folder, folder.name) }),
    async ({ folder, messages, uids }, target, walk) => {
      const { ledger } = walk;
      const source = JSON.stringify(['maildir', folder.dir, options.account.toLowerCase(), target]);
      const { known, again } = await resumeSource(ledger, store, target, source);
      const todo = messages.filter((m) => !known.has(m.base) || again.has(m.base));
      meter.progress.skipped += messages.length - todo.length;
      // The source's UIDs are kept when the target is empty (or new), or has kept them before
      // (an import that stopped): it takes the source's UIDVALIDITY, each message its UID, in
      // ascending order from a UIDNEXT of 1; then UIDNEXT goes up to the source's, and the
      // messages the source had not numbered get UIDs from there (never one the source gave).
      // Nothing left to import: only the UIDNEXT, should a stop have come before it went up.
      const keep = uids !== null && store.adoptUidValidity !== undefined && (todo.length > 0
        ? await store.adoptUidValidity(target, uids.uidValidity, 1)
        : (await store.folderStatus(target, { size: false })).uidValidity === uids.uidValidity);
      let imported = 0;
      let kept = 0;
      const writer = new FolderWriter(store, ledger, source, target, (n, k) => {
        imported += n;
        kept += k;
        meter.progress.imported += n;
        meter.progress.uidsKept += k;
        meter.report();
      }, options.faults);
      const write = async (list: readonly SourceMessage[]): Promise<boolean> => {
        let whole = true;
        for (const m of list) {
          if (walk.stopped()) {
            whole = false;
            break;
          }
          const raw = await readSource(m);
          if (raw === null) continue;
          await writer.add({ item: m.base, raw, flags: m.flags, internalDate: m.internalDate, ...(keep && m.uid !== undefined ? { uid: m.uid } : {}) });
          walk.queued++;
        }
        await writer.flush();
        return whole;
      };
      if (keep) {
        // In UID order already (sourceMessages): the numbered ones come first.
        const numbered = todo.filter((m) => m.uid !== undefined);
        if (await write(numbered)) {
          await store.adoptUidValidity!(target, uids.uidValidity, uids.uidNext);
          await write(todo.filter((m) => m.uid === undefined));
        }
      } else {
        await write(todo);
      }
      if (uids !== null && imported > kept) {
        meter.progress.notes.push(
          keep
            ? `${target}: ${imported - kept} of its ${imported} imported messages got new UIDs (not numbered in the source's ${uids.file}, or below UIDs given since)`
            : `${target} had messages already: its ${imported} imported ones got new UIDs (clients that synced against the old server fetch them again)`,
        );
      }
    },
  );
}

/** A source message's bytes; null when it is gone (removed by the Maildir's own server meanwhile). */
async function readSource(m: SourceMessage): Promise<Buffer | null> {
  try {
    return await fs.readFile(m.file);
  } catch (err) {
    // Moved from new/ to cur/ (or flags changed) by the Maildir's own server meanwhile.
    const moved = await findMoved(path.dirname(path.dirname(m.file)), m.base);
    if (!moved) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return fs.readFile(moved);
  }
}

async function findMoved(dir: string, base: string): Promise<string | null> {
  for (const sub of ['cur', 'new']) {
    const names = await fs.readdir(path.join(dir, sub)).catch(() => [] as string[]);
    const name = names.find((n) => n === base || n.startsWith(`${base}:`));
    if (name) return path.join(dir, sub, name);
  }
  return null;
}
