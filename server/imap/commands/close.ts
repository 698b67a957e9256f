// CLOSE (RFC 3501 6.4.2): silently expunge \Deleted messages, unless read-only, then
// leave the selected state. Without the "e" right nothing is expunged and CLOSE still
// succeeds (RFC 4314 4, as Courier). UNSELECT (RFC 3691): leave without expunging.
import { myRights } from '../rights.js';
import { SELECTED, ok, type CommandSpec } from './types.js';

export const close: CommandSpec = {
  names: ['CLOSE'],
  states: SELECTED,
  async handler({ session, args }) {
    args.end();
    const view = session.selected!;
    if (!view.readOnly && (await myRights(session, view.folder.name)).includes('e')) {
      const deleted = view.all().filter((m) => m.flags.has('\\Deleted')).map((m) => m.uid);
      if (deleted.length) await session.expungeMessages(deleted);
    }
    session.unselect();
    return ok('CLOSE completed');
  },
};

export const unselect: CommandSpec = {
  names: ['UNSELECT'],
  states: SELECTED,
  capabilities: [{ word: 'UNSELECT' }],
  async handler({ session, args }) {
    args.end();
    session.unselect();
    return ok('UNSELECT completed');
  },
};
