// Importing a whole account from an IMAP server with imapflow (the client of the mail
// sources, imap-fetch.ts): every selectable folder, with flags, keywords and INTERNALDATE,
// into the account's folder tree (the server's INBOX into the target folder, "Lists/node" into
// "<target>.Lists.node"). Resumable by UIDVALIDITY and UID, as the mail sources are: the
// ledger's source names the server, the folder and its UIDVALIDITY, the item is the UID; in a
// folder whose UIDVALIDITY changed the messages come again under new UIDs, and those whose
// bytes were imported under the old one are recorded, not stored twice (as the mail sources do). Messages are fetched in groups of bounded count and size,
// so that memory holds one group whatever the folder's size.

import type { ImapFlow, ListResponse } from 'imapflow';
import { resumeSource, sha256 } from '../delivery/import-ledger.js';
import { FolderWriter } from '../delivery/import-writer.js';
import { ImportError, importFolders, ProgressMeter, type ImportCommon, type ImportProgress } from '../delivery/import.js';
import { imapClient, uidSet } from './imap-fetch.js';
import type { SourceTls } from './types.js';

export interface ImapServer {
  host: string;
  port: number;
  tls: SourceTls;
  username: string;
  allowInvalidCertificate: boolean;
}

export interface ImapImportOptions extends ImportCommon {
  server: ImapServer;
  password: string;
  /** Where the server's INBOX goes ("INBOX", "INBOX.Old"); its other folders go below it. */
  folder: string;
}

const GROUP_MESSAGES = 200;
const GROUP_BYTES = 16 << 20;

/** "imaps://user@host:port/" (also "imap://"), as the command line and the GUI take a server. */
export function parseImapUrl(url: string): ImapServer {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ImportError(`not a URL: ${JSON.stringify(url)} (expected imaps://user@host/ or imap://user@host/)`);
  }
  if ((u.protocol !== 'imap:' && u.protocol !== 'imaps:') || !u.hostname || !u.username) {
    throw new ImportError(`expected imaps://user@host/ or imap://user@host/, got ${JSON.stringify(url)}`);
  }
  if (u.password) throw new ImportError('the password does not go into the URL (it would show in the process list); give it another way');
  const implicit = u.protocol === 'imaps:';
  // Plain imap:// upgrades with STARTTLS unless ";tls=none" says it may not (a test server).
  const none = /;tls=none$/i.test(u.pathname) || u.searchParams.get('tls') === 'none';
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : implicit ? 993 : 143,
    tls: implicit ? 'implicit' : none ? 'none' : 'starttls',
    username: decodeURIComponent(u.username),
    allowInvalidCertificate: u.searchParams.get('insecure') === '1',
  };
}

/**
 * The local folder of a server folder, without the server's personal namespace prefix
 * ("INBOX." at Courier and Dovecot with Courier's layout). A "." inside a level would make two
 * levels: it becomes "_".
 */
export function localFolder(base: string, box: Pick<ListResponse, 'path' | 'delimiter'>, prefix = ''): string {
  if (box.path.toUpperCase() === 'INBOX') return base;
  const name = prefix && box.path.startsWith(prefix) && box.path.length > prefix.length ? box.path.slice(prefix.length) : box.path;
  const levels = box.delimiter ? name.split(box.delimiter) : [name];
  return `${base}.${levels.map((l) => l.replace(/\./g, '_') || '_').join('.')}`;
}

export async function importImap(options: ImapImportOptions): Promise<ImportProgress> {
  const client = imapClient(options.server, options.password);
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    const e = err as { authenticationFailed?: boolean; responseText?: string; message: string };
    throw new ImportError(e.authenticationFailed ? `the server refused the login of ${options.server.username}${e.responseText ? `: ${e.responseText}` : ''}` : `cannot connect to ${options.server.host}:${options.server.port}: ${e.message}`);
  }
  try {
    return await importAll(client, options);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

async function importAll(client: ImapFlow, options: ImapImportOptions): Promise<ImportProgress> {
  const meter = new ProgressMeter(options.onProgress);
  const boxes = (await client.list({ statusQuery: { messages: true } }))
    .filter((b) => !b.flags.has('\\Noselect') && !b.flags.has('\\NonExistent'))
    .sort((a, b) => (a.path.toUpperCase() === 'INBOX' ? -1 : b.path.toUpperCase() === 'INBOX' ? 1 : a.path < b.path ? -1 : 1));
  meter.progress.messagesTotal = boxes.reduce((n, b) => n + (b.status?.messages ?? 0), 0);
  const server = `${options.server.host.toLowerCase()}:${options.server.port}`;
  return importFolders(
    options,
    meter,
    boxes,
    (box) => ({ label: box.path, target: localFolder(options.folder, box, client.namespace?.prefix ?? ''), specialUse: box.specialUse }),
    async (box, target, walk) => {
      const { ledger } = walk;
      const lock = await client.getMailboxLock(box.path, { readOnly: true });
      try {
        const mailbox = client.mailbox;
        if (!mailbox) throw new ImportError(`cannot open ${box.path} at the server`);
        // UIDVALIDITY last: the sources of this folder under other UIDVALIDITYs share the prefix.
        const prefix = JSON.stringify(['imap', server, options.server.username, box.path, options.account.toLowerCase(), target]).slice(0, -1) + ',';
        const source = `${prefix}${JSON.stringify(mailbox.uidValidity.toString())}]`;
        // Renumbered at the server (a new UIDVALIDITY, RFC 3501 2.3.1.1): its messages come again
        // under new UIDs; those whose bytes were imported before are recorded, not stored twice.
        const before = ledger.doneHashesOfOthers(prefix, source);
        const { known, again } = await resumeSource(ledger, options.store, target, source);
        const listed = mailbox.exists > 0 ? await client.fetchAll('1:*', { uid: true, size: true }) : [];
        const wanted = listed.filter((m) => !known.has(String(m.uid)) || again.has(String(m.uid))).sort((a, b) => a.uid - b.uid);
        meter.progress.skipped += listed.length - wanted.length;
        const writer = new FolderWriter(options.store, ledger, source, target, (n) => {
          meter.progress.imported += n;
          meter.report();
        }, options.faults);
        for (let i = 0; i < wanted.length && !walk.stopped(); ) {
          const group: number[] = [];
          let bytes = 0;
          while (i < wanted.length && group.length < GROUP_MESSAGES && (group.length === 0 || bytes + (wanted[i]!.size ?? 0) <= GROUP_BYTES)) {
            if (options.limit !== undefined && walk.queued + group.length >= options.limit) break;
            bytes += wanted[i]!.size ?? 0;
            group.push(wanted[i++]!.uid);
          }
          if (group.length === 0) break;
          // Written as they arrive; imapflow's queue holds what the disk has not taken yet (one group at most).
          for await (const m of client.fetch(uidSet(group), { uid: true, flags: true, internalDate: true, source: true }, { uid: true })) {
            if (!m.source) continue; // expunged at the server meanwhile
            const hash = before.size ? sha256(m.source) : '';
            if (before.has(hash)) {
              ledger.known(source, String(m.uid), hash);
              meter.progress.skipped++;
              continue;
            }
            const date = m.internalDate === undefined ? undefined : new Date(m.internalDate).getTime();
            await writer.add({ item: String(m.uid), raw: m.source, flags: [...(m.flags ?? [])], ...(date !== undefined && Number.isFinite(date) ? { internalDate: date } : {}) });
            walk.queued++;
          }
          await writer.flush();
          if (options.cancelled?.()) break;
        }
        await writer.flush();
      } finally {
        lock.release();
      }
    },
  );
}
