// The STATUS items (RFC 3501 6.3.10, DELETED from RFC 9051 6.3.11, SIZE from RFC 8438, HIGHESTMODSEQ from RFC 7162, MAILBOXID from RFC 8474, APPENDLIMIT from RFC 7889) and one mailbox's STATUS response,
// shared by STATUS and by LIST's RETURN (STATUS (...)) (LIST-STATUS, RFC 5819).
import type { FolderStatus } from '../../backend/mailstore.js';
import type { ImapValue, Token } from '../protocol/types.js';
import { SyntaxError } from './args.js';
import type { SessionContext } from './types.js';
import { refusedStatusItem } from '../rev2.js';

const ITEMS: Record<string, keyof FolderStatus> = {
  MESSAGES: 'messages',
  RECENT: 'recent',
  UIDNEXT: 'uidNext',
  UIDVALIDITY: 'uidValidity',
  UNSEEN: 'unseen',
  DELETED: 'deleted',
  SIZE: 'size',
  HIGHESTMODSEQ: 'highestModseq',
};

/**
 * The upper-case item names of a status item list; BAD for an unknown or missing one.
 * HIGHESTMODSEQ is known only while CONDSTORE is offered, and asking for it enables
 * CONDSTORE for the session (RFC 7162 3.1). DELETED comes with IMAP4rev2; RECENT is not
 * one of IMAP4rev2's items (RFC 9051 9, status-att), BAD for a session that enabled it.
 */
export function statusItems(tokens: Token[], session: SessionContext): string[] {
  const requested = tokens.map((t) => {
    const word = t.type === 'atom' ? t.value.toUpperCase() : '';
    const known = word in ITEMS
      ? (word !== 'HIGHESTMODSEQ' || session.offers('CONDSTORE')) && (word !== 'DELETED' || session.offers('IMAP4REV2')) && !refusedStatusItem(session.enabled, word)
      : (word === 'MAILBOXID' && session.offers('OBJECTID') && session.store.mailboxId !== undefined) || (word === 'APPENDLIMIT' && session.offers('APPENDLIMIT'));
    if (!known) {
      throw new SyntaxError(`Unknown STATUS item ${t.type === 'atom' ? t.value : ''}`);
    }
    return word;
  });
  if (requested.length === 0) throw new SyntaxError('STATUS needs at least one item');
  if (requested.includes('HIGHESTMODSEQ')) session.enableCondstore();
  return requested;
}

/** The untagged STATUS response for the folder `name` (store form). Throws as the store does. */
export async function statusResponse(session: SessionContext, name: string, requested: string[]): Promise<ImapValue[]> {
  const view = session.selected;
  let result: FolderStatus;
  // SIZE may need to read message files: only when asked for.
  const withSize = requested.includes('SIZE');
  if (view && view.folder.name === name) {
    // The selected mailbox: answer from what this session has been told.
    const all = view.all();
    let size = 0;
    if (withSize) for (const data of await view.folder.messageData(all.map((m) => m.uid), { info: true })) size += data?.size ?? 0;
    result = {
      messages: all.length,
      recent: view.recentCount,
      unseen: all.filter((m) => !m.flags.has('\\Seen')).length,
      deleted: all.filter((m) => m.flags.has('\\Deleted')).length,
      uidNext: view.uidNext,
      uidValidity: view.uidValidity,
      size,
      highestModseq: view.folder.snapshot().highestModseq,
    };
  } else {
    result = await session.store.folderStatus(name, { size: withSize });
  }
  const items: ImapValue[] = [];
  for (const word of requested) {
    // APPENDLIMIT (RFC 7889 section 4): the same limit for every folder, IMAP_MAXMSGSIZE.
    if (word === 'APPENDLIMIT') {
      items.push({ atom: word }, session.settings.maxLiteralSize);
      continue;
    }
    if (word !== 'MAILBOXID') {
      items.push({ atom: word }, result[ITEMS[word]]);
      continue;
    }
    // A folder whose id cannot be kept (a read-only Maildir) has none to report (RFC 8474 has no NIL here).
    const id = await session.store.mailboxId!(name);
    if (id) items.push({ atom: word }, [{ atom: id }]);
  }
  return [{ atom: 'STATUS' }, session.wireName(name), items];
}
