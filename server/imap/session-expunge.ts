// What EXPUNGE does to the selected folder's deleted messages: with
// IMAP_MOVE_EXPUNGE_TO_TRASH they move to Trash (made by the first expunge of an account,
// as Courier does), else they are removed, each logged as Courier 5 logs it when
// IMAP_LOG_DELETIONS asks.

import { MailStoreError } from '../backend/mailstore.js';
import type { SessionContext } from './commands/types.js';
import type { SelectedMailbox } from './selected.js';

/** What it needs of the session: the store, the settings, and who removes for the log. */
export type ExpungeHost = Pick<SessionContext, 'store' | 'settings' | 'logger' | 'user' | 'transport'>;

export async function expungeOrTrash(session: ExpungeHost, view: SelectedMailbox, uids: number[]): Promise<void> {
  const { settings, store } = session;
  const trash = `INBOX.${settings.trashFolder}`;
  if (settings.moveExpungeToTrash && view.folder.name !== trash) {
    try {
      await view.folder.moveTo(uids, trash);
    } catch (err) {
      if (!(err instanceof MailStoreError) || err.code !== 'TRYCREATE') throw err;
      await store.createFolder(trash);
      await view.folder.moveTo(uids, trash);
    }
    return;
  }
  // Courier 5's line, word for word: INFO: EXPUNGED, user=..., ip=[...], port=[...], old_name=...
  const log = settings.logDeletions
    ? (file: string) => session.logger.log('info', `EXPUNGED, user=${session.user}, ip=[${session.transport.remoteAddress}], port=[${session.transport.remotePort ?? ''}], old_name=${file}`)
    : undefined;
  await view.folder.expunge(uids, log);
}
