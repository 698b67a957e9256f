import { ANY, ok, type CommandSpec } from './types.js';

export const capability: CommandSpec = {
  names: ['CAPABILITY'],
  states: ANY,
  async handler({ session, args }) {
    args.end();
    session.untagged([{ atom: 'CAPABILITY' }, ...session.capabilities().map((atom) => ({ atom }))]);
    return ok('CAPABILITY completed');
  },
};
