// COMPRESS (RFC 4978): DEFLATE in both directions from the end of the tagged OK on
// (server/imap/compress.ts). Offered once logged in, as Dovecot does: before login a client
// would compress its password exchange and then could not STARTTLS.
import { AUTHENTICATED, bad, no, type CommandSpec } from './types.js';

export const compress: CommandSpec = {
  names: ['COMPRESS'],
  states: AUTHENTICATED,
  capabilities: [{ word: 'COMPRESS=DEFLATE', afterLogin: true }],
  async handler({ session, args }) {
    const mechanism = args.atom('compression mechanism').toUpperCase();
    args.end();
    if (!session.offers('COMPRESS=DEFLATE')) return bad('COMPRESS is not enabled');
    // RFC 4978 section 3: NO with COMPRESSIONACTIVE when it is on already (Dovecot's words).
    if (session.transport.compressed) return no('COMPRESSION=DEFLATE already enabled.', 'COMPRESSIONACTIVE');
    if (mechanism !== 'DEFLATE') return no('Unknown compression mechanism');
    return { status: 'OK', text: 'Begin compression.', after: async () => session.compress() };
  },
};
