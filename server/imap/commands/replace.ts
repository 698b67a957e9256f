// REPLACE and UID REPLACE (RFC 8508): append a message (to the selected folder or another,
// CATENATE allowed, one message) and expunge the one it replaces, which the client sees as one
// step: nothing is expunged unless the new message is stored; then "* OK [APPENDUID ...]"
// comes first, and the EXPUNGE (VANISHED under QRESYNC) with the session's updates before
// the tagged OK (RFC 8508 section 3.4). The expunge follows IMAP_MOVE_EXPUNGE_TO_TRASH as
// EXPUNGE does.
import { numberValue } from '../protocol/parser.js';
import { requireRights } from '../rights.js';
import { appendMessage, appendMessages } from './append.js';
import { SELECTED, no, ok, type CommandSpec } from './types.js';

export const replace: CommandSpec = {
  names: ['REPLACE', 'UID REPLACE'],
  states: SELECTED,
  capabilities: [{ word: 'REPLACE' }],
  async handler({ session, args, uid }) {
    const view = session.selected!;
    // seq-number: a number or "*", the last message (RFC 3501 section 9).
    const what = uid ? 'UID' : 'message sequence number';
    const token = args.next(what);
    const star = token.type === 'atom' && token.value === '*';
    const number = star ? (uid ? view.maxUid() : view.exists) : numberValue(token, what, { nonZero: true });
    const name = session.storeName(args.astring('mailbox name'));
    const message = appendMessage(session, args);
    args.end();
    if (!session.offers('REPLACE')) return no('REPLACE is not enabled here', 'CANNOT');
    const old = view.message(uid ? view.seqOfUid(number) : number);
    if (!old) return no(uid ? 'No message with that UID' : 'No message with that sequence number');
    // RFC 8508 section 3.3: the replaced message goes as an EXPUNGE would take it.
    if (view.readOnly) return no('Mailbox is read-only', 'READ-ONLY');
    const denied = await requireRights(session, view.folder.name, 'te', 'REPLACE');
    if (denied) return denied;
    const result = await appendMessages(session, name, [message], 'REPLACE');
    if (result.status !== 'OK') return result;
    session.untagged([{ atom: 'OK' }, { atom: `[${result.code}]` }, { atom: 'Replacement message ready' }]);
    await session.expungeMessages([old.uid]);
    return ok('REPLACE completed');
  },
};
