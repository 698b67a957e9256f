import { ANY, ok, type CommandSpec } from './types.js';

export const logout: CommandSpec = {
  names: ['LOGOUT'],
  states: ANY,
  async handler({ session, args }) {
    args.end();
    session.untagged([{ atom: 'BYE' }, { atom: 'Logging out' }]);
    await session.logout();
    return ok('LOGOUT completed');
  },
};
