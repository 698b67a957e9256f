// ENABLE (RFC 5161, RFC 9051 6.3.1). Extensions with something to switch on: UTF8=ACCEPT (RFC
// 6855: mailbox names in UTF-8 instead of modified UTF-7, UTF-8 in quoted strings), CONDSTORE
// and QRESYNC (RFC 7162: MODSEQ in FETCH responses; VANISHED instead of EXPUNGE), IMAP4rev2
// (RFC 9051 Appendix A: the session follows IMAP4rev2, ../rev2.ts), each only while
// CAPABILITY announces it.
import { IMAP4REV2, IMAP4REV2_WORD } from '../rev2.js';
import { AUTHENTICATED, ok, type CommandSpec } from './types.js';

const ENABLEABLE = new Set(['UTF8=ACCEPT', 'CONDSTORE', 'QRESYNC', IMAP4REV2]);

export const enable: CommandSpec = {
  names: ['ENABLE'],
  states: AUTHENTICATED,
  capabilities: [{ word: 'ENABLE', added: 'always' }, { word: 'UTF8=ACCEPT', added: 'always' }, { word: IMAP4REV2_WORD }],
  async handler({ session, args }) {
    const words = args.rest().map((t) => (t.type === 'atom' ? t.value.toUpperCase() : ''));
    if (words.length === 0) return { status: 'BAD', text: 'ENABLE needs at least one capability' };
    const enabled: string[] = [];
    for (const w of words) {
      if (ENABLEABLE.has(w) && !session.enabled.has(w) && (w === 'UTF8=ACCEPT' || session.offers(w))) {
        session.enabled.add(w);
        // As announced (capability names are case-insensitive; clients compare them so).
        enabled.push(w === IMAP4REV2 ? IMAP4REV2_WORD : w);
        // QRESYNC implies CONDSTORE (RFC 7162 3.2.3).
        if (w === 'QRESYNC') session.enableCondstore();
      }
    }
    session.untagged([{ atom: 'ENABLED' }, ...enabled.map((atom) => ({ atom }))]);
    return ok('ENABLE completed');
  },
};
