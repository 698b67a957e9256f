// ID (RFC 2971). As in Courier, only when IMAP_ID_FIELDS is set; what we reveal follows
// its bitmask: 1 = version, 2 = operating system, 4 = OS release; the name is always given.
import os from 'node:os';
import { ANY, bad, ok, type CommandSpec } from './types.js';
import { SyntaxError } from './args.js';
import { SERVER_NAME, SERVER_VERSION } from '../version.js';

export const id: CommandSpec = {
  names: ['ID'],
  states: ANY,
  capabilities: [{ word: 'ID', added: 'id-fields' }],
  async handler({ session, args }) {
    // Not announced without IMAP_ID_FIELDS: answered as any command we do not have.
    if (session.settings.idFields === null) return bad('Unknown command ID');
    const token = args.next('ID parameter list');
    if (token.type !== 'nil' && token.type !== 'list') throw new SyntaxError('ID expects a list or NIL');
    args.end();
    if (token.type === 'list') {
      const pairs: string[] = [];
      for (let i = 0; i + 1 < token.items.length; i += 2) {
        const key = token.items[i];
        const value = token.items[i + 1];
        const text = (t: typeof key) => (t.type === 'string' ? t.value.toString('utf8') : t.type === 'atom' ? t.value : 'NIL');
        pairs.push(`${text(key)}=${text(value)}`);
      }
      session.logger.log('info', 'client ID', { user: session.user ?? undefined, id: pairs.join(', ').slice(0, 400) });
    }
    const mask = session.settings.idFields;
    const fields: string[] = ['name', SERVER_NAME];
    if (mask & 1) fields.push('version', SERVER_VERSION);
    if (mask & 2) fields.push('os', os.type());
    if (mask & 4) fields.push('os-version', os.release());
    session.untagged([{ atom: 'ID' }, fields]);
    return ok('ID completed');
  },
};
