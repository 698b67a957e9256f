// EXPUNGE (RFC 3501 6.4.3) and UID EXPUNGE (RFC 4315 2.1): remove \Deleted messages,
// for UID EXPUNGE only those in the UID set. The untagged EXPUNGE responses come from
// the view's update queue, like everybody else's changes.
import { requireRights } from '../rights.js';
import { SELECTED, no, ok, type CommandSpec } from './types.js';
import { sequenceSetArg } from './esearch.js';
import { uidsInSet } from '../resolve-set.js';

export const expunge: CommandSpec = {
  names: ['EXPUNGE', 'UID EXPUNGE'],
  states: SELECTED,
  capabilities: [{ word: 'UIDPLUS' }],
  async handler(ctx) {
    const { session, args, uid } = ctx;
    const view = session.selected!;
    let candidates = view.all();
    if (uid) {
      const set = sequenceSetArg(ctx, 'UID set');
      const wanted = new Set(uidsInSet(view, set));
      candidates = candidates.filter((m) => wanted.has(m.uid));
    }
    args.end();
    if (view.readOnly) return no('Mailbox is read-only', 'READ-ONLY');
    const denied = await requireRights(session, view.folder.name, 'e', 'EXPUNGE');
    if (denied) return denied;
    const deleted = candidates.filter((m) => m.flags.has('\\Deleted')).map((m) => m.uid);
    if (deleted.length) await session.expungeMessages(deleted);
    // After ENABLE QRESYNC the client learns where its VANISHED leave it (RFC 7162 3.2.10); as
    // Dovecot, only when something went (test/imap/extensions/condstore-dovecot.test.ts).
    const snapshot = view.folder.snapshot();
    if (deleted.length && session.enabled.has('QRESYNC')) return ok('EXPUNGE completed', `HIGHESTMODSEQ ${snapshot.toldModseq ?? snapshot.highestModseq}`);
    return ok('EXPUNGE completed');
  },
};
