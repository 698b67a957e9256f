// ENABLE (RFC 5161). The one extension with something to switch on is UTF8=ACCEPT
// (RFC 6855): mailbox names in UTF-8 instead of modified UTF-7, UTF-8 in quoted strings.
import { AUTHENTICATED, ok, type CommandSpec } from './types.js';

const ENABLEABLE = new Set(['UTF8=ACCEPT']);

export const enable: CommandSpec = {
  names: ['ENABLE'],
  states: AUTHENTICATED,
  capabilities: [{ word: 'ENABLE', added: 'always' }, { word: 'UTF8=ACCEPT', added: 'always' }],
  async handler({ session, args }) {
    const words = args.rest().map((t) => (t.type === 'atom' ? t.value.toUpperCase() : ''));
    if (words.length === 0) return { status: 'BAD', text: 'ENABLE needs at least one capability' };
    const enabled: string[] = [];
    for (const w of words) {
      if (ENABLEABLE.has(w) && !session.enabled.has(w)) {
        session.enabled.add(w);
        enabled.push(w);
      }
    }
    session.untagged([{ atom: 'ENABLED' }, ...enabled.map((atom) => ({ atom }))]);
    return ok('ENABLE completed');
  },
};
