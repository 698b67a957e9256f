// IDLE (RFC 2177). With IMAP_ENHANCEDIDLE=1 changes reach the session through the folder's
// subscription as they happen (in-process fan-out and the file watcher), and the timer is a
// safety net; with 0 the timer alone reports them, every IMAP_IDLE_TIMEOUT seconds, as
// Courier does.
import { AUTHENTICATED, bad, ok, type CommandSpec } from './types.js';

export const idle: CommandSpec = {
  names: ['IDLE'],
  states: AUTHENTICATED,
  capabilities: [{ word: 'IDLE' }],
  async handler({ session, args }) {
    args.end();
    session.continuation(session.settings.enhancedIdle ? 'entering ENHANCED idle mode' : 'entering idle mode');
    const folder = session.selected?.folder;
    const poll = folder
      ? setInterval(() => {
          // setIdling(true) again reports what the refresh found.
          folder.refresh().then(() => session.idling && session.setIdling(true), () => undefined);
        }, Math.max(1, session.settings.idleTimeout) * 1000)
      : undefined;
    session.setIdling(true);
    try {
      const line = await session.readLine();
      if (line === null) return ok('IDLE ended by disconnect');
      if (line.toString('latin1').trim().toUpperCase() !== 'DONE') return bad('Expected DONE to end IDLE');
      return ok('IDLE completed');
    } finally {
      session.setIdling(false);
      if (poll) clearInterval(poll);
    }
  },
};
