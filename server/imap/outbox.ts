// The Outbox (OUTBOX, SENDMAIL, HEADERFROM, OUTBOX_MULTIPLE_SEND; issue 12): a message put into
// this one folder by APPEND, COPY or MOVE is also handed to sendmail, which takes the
// recipients from its To, Cc and Bcc headers. As in Courier's imapd (imap/outbox.C,
// imapd.C, storeinfo.C), it is sent before it is stored: a message sendmail refuses is not
// stored, and the command answers NO [ALERT]. Courier says only "Unable to send E-mail
// message." (and, for COPY, "COPY failed - no write permission or out of disk space."); we
// add sendmail's own words, which Courier writes only to its log, so the user can act.
//
// APPEND sends from where the store has written the message, after the quota check
// (AppendOptions.beforeDeliver); COPY and MOVE send each source message, in order, before the
// copy is made, and refuse more than one message unless OUTBOX_MULTIPLE_SEND=1.

import { MailStoreError, type AppendOptions, type MailStore } from '../backend/mailstore.js';
import type { OutboxSettings } from '../config/session.js';
import type { SelectedMailbox } from './selected.js';
import { runSendmail } from './sendmail.js';
import { no, type CommandResult, type SessionContext } from './commands/types.js';
import { Readable } from 'node:stream';

const REFUSED = 'Unable to send E-mail message';

/** The Outbox's store name ("INBOX.Outbox" for OUTBOX=.Outbox), or null without one. */
export function outboxFolder(session: SessionContext): string | null {
  const folder = session.settings.outbox?.folder;
  return folder ? `INBOX${folder}` : null;
}

/**
 * XCOURIEROUTBOX=INBOX.Outbox, as Courier announces it: the folder's name as the client writes
 * it, so "XCOURIEROUTBOX=Outbox" when IMAP_NAMESPACE_PREFIX is empty (Courier has only INBOX.).
 */
export function outboxCapability(settings: { outbox?: OutboxSettings | null; namespacePrefix: '' | 'INBOX.' }): string | null {
  if (!settings.outbox) return null;
  const folder = settings.outbox.folder;
  return `XCOURIEROUTBOX=${settings.namespacePrefix === '' ? folder.slice(1) : `INBOX${folder}`}`;
}

async function send(session: SessionContext, outbox: OutboxSettings, read: () => Readable): Promise<void> {
  const sender = (await session.sender?.()) ?? null;
  const error = await runSendmail({ program: outbox.sendmail, sender, header: outbox.headerFrom, message: read() });
  if (error === null) {
    session.logger.log('info', 'Outbox: message handed to sendmail', { user: session.user ?? undefined, sender: sender ?? undefined });
    return;
  }
  // Courier's line: ERR: error sending a message, user=...: <sendmail's output>
  session.logger.log('error', `error sending a message, user=${session.user ?? ''}: ${error}`);
  throw new MailStoreError(`${REFUSED}: ${error}`, 'ALERT');
}

/** What APPEND adds to its AppendOptions: the sending, when `name` is the Outbox. */
export function outboxAppendOptions(session: SessionContext, name: string): Pick<AppendOptions, 'beforeDeliver'> {
  const outbox = session.settings.outbox;
  if (!outbox || name !== outboxFolder(session)) return {};
  return { beforeDeliver: (read) => send(session, outbox, read) };
}

/**
 * Before COPY or MOVE of `uids` into `destination`: when that is the Outbox, refuse more than
 * one message (unless OUTBOX_MULTIPLE_SEND) and send each; the answer to give instead of
 * copying, or null to go on and copy.
 */
export async function sendBeforeCopy(session: SessionContext, view: SelectedMailbox, uids: readonly number[], destination: string, move: boolean): Promise<CommandResult | null> {
  const outbox = session.settings.outbox;
  if (!outbox || destination !== outboxFolder(session) || uids.length === 0) return null;
  if (uids.length > 1 && !outbox.multipleSend) return no('Only one message may be sent at a time.', 'ALERT');
  await mustExist(session.store, destination);
  // A copy the quota refuses after sending would leave the client believing it unsent (a MOVE
  // within the account changes no usage).
  if (!move) await mustFit(session.store, view, uids);
  for (const uid of uids) {
    const message = await view.folder.readMessage(uid);
    await send(session, outbox, () => Readable.from([message]));
  }
  return null;
}

/** A COPY into a missing Outbox sends nothing: TRYCREATE, as the copy would answer. */
async function mustExist(store: MailStore, name: string): Promise<void> {
  try {
    await store.folderStatus(name, { size: false });
  } catch (err) {
    if (err instanceof MailStoreError) throw new MailStoreError('Mailbox does not exist.', 'TRYCREATE');
    throw err;
  }
}

/** The quota check the copy would make, before anything is sent (Courier checks it first too). */
async function mustFit(store: MailStore, view: SelectedMailbox, uids: readonly number[]): Promise<void> {
  const quota = await store.quota();
  if (!quota || (quota.storageLimit === undefined && quota.messageLimit === undefined)) return;
  let bytes = 0;
  for (const uid of uids) bytes += (await view.folder.messageMeta(uid)).size;
  const over =
    (quota.storageLimit !== undefined && quota.storageUsed + bytes > quota.storageLimit) ||
    (quota.messageLimit !== undefined && quota.messagesUsed + uids.length > quota.messageLimit);
  if (over) throw new MailStoreError('Mailbox is over quota', 'OVERQUOTA');
}
