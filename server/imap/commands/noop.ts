// NOOP and CHECK: nothing to do but let pending updates out (RFC 3501 6.1.2, 6.4.1).
// Both look at the disk first, so a client that polls sees outside changes even where
// the file watcher is not available.
import { ANY, SELECTED, ok, type CommandSpec } from './types.js';

export const noop: CommandSpec = {
  names: ['NOOP'],
  states: ANY,
  async handler({ session, args }) {
    args.end();
    await session.selected?.folder.refresh();
    return ok('NOOP completed');
  },
};

export const check: CommandSpec = {
  names: ['CHECK'],
  states: SELECTED,
  async handler({ session, args }) {
    args.end();
    await session.selected?.folder.refresh();
    return ok('CHECK completed');
  },
};
