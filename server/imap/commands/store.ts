// STORE and UID STORE (RFC 3501 6.4.6). The untagged FETCH answers come from us, not
// from the change queue: the queue's echo of our own change is dropped, and with
// .SILENT nothing is sent for the messages we changed. A message another session expunged
// (before we may say so) gets no FETCH: flags without the change would contradict the STORE
// (RFC 3501 6.4.6); STORE then answers NO [EXPUNGEISSUED] (RFC 5530), as FETCH does, and
// UID STORE OK (its EXPUNGE follows at once).
import { requireRights, rightsForFlags } from '../rights.js';
import { SELECTED, bad, no, ok, type CommandSpec } from './types.js';
import { parseFlags, SyntaxError } from './args.js';
import { parseSequenceSet } from '../protocol/parser.js';
import { resolveSet } from '../resolve-set.js';
import type { FlagOperation, MessageState } from '../../backend/mailstore.js';

export const store: CommandSpec = {
  names: ['STORE', 'UID STORE'],
  states: SELECTED,
  sequenceNumbers: 'non-uid',
  async handler({ session, args, uid }) {
    const view = session.selected!;
    const set = parseSequenceSet(args.atom('sequence set'));
    const item = args.atom('message data item name').toUpperCase();
    const match = /^([+-]?)FLAGS(\.SILENT)?$/.exec(item);
    if (!match) throw new SyntaxError(`Unknown STORE data item ${item}`);
    const flags = parseFlags(args.listOrItem('flag list'));
    args.end();
    const op: FlagOperation = match[1] === '+' ? 'add' : match[1] === '-' ? 'remove' : 'replace';
    const silent = Boolean(match[2]);
    const seqs = resolveSet(view, set, uid);
    if (view.readOnly) return no('Mailbox is read-only', 'READ-ONLY');
    const denied = await requireRights(session, view.folder.name, rightsForFlags(flags), 'STORE');
    if (denied) return denied;
    if (!session.settings.keywords && flags.some((f) => !f.startsWith('\\'))) {
      return bad('Keywords are disabled on this server (IMAP_KEYWORDS=0)');
    }
    const uids = seqs.map((s) => view.message(s)!.uid);
    const gone = new Set(uids.length ? await view.folder.storeFlags(uids, op, flags) : []);
    // Take the folder's new state for these messages into our view (looked up by UID in the
    // folder's list, which ascends: no map of a whole 100,000-message folder per STORE).
    const current = view.folder.snapshot().messages;
    const touched = new Set(uids);
    view.discardFlagChanges(touched);
    for (const u of uids) {
      const m = gone.has(u) ? undefined : findUid(current, u);
      if (m) view.updateFlags(u, m.flags);
      else gone.add(u);
    }
    // Our flags, and others' changes to the same messages, may bring keywords new to the client.
    if (!silent) session.announceKeywords();
    if (!silent && seqs.length) {
      // One write for all the answers (1,000 in STORE 1:1000), each FLAGS text made once per flag set.
      let text = '';
      for (const s of seqs) {
        const m = view.message(s)!;
        if (gone.has(m.uid)) continue;
        text += uid ? `* ${s} FETCH (UID ${m.uid} FLAGS ${view.flagsText(m)})\r\n` : `* ${s} FETCH (FLAGS ${view.flagsText(m)})\r\n`;
      }
      if (text) session.write(Buffer.from(text, 'utf8'));
    }
    if (gone.size && !uid) return no('Some of the requested messages no longer exist', 'EXPUNGEISSUED');
    return ok('STORE completed');
  },
};

function findUid(messages: readonly MessageState[], uid: number): MessageState | undefined {
  let lo = 0;
  let hi = messages.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = messages[mid];
    if (m.uid === uid) return m;
    if (m.uid < uid) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}
