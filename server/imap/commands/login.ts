// LOGIN (RFC 3501 6.2.3), AUTHENTICATE PLAIN with SASL-IR (RFC 4616, RFC 4959), AUTHENTICATE
// EXTERNAL with a verified client certificate (Courier's TLS_EXTERNAL) and
// STARTTLS (RFC 3501 6.2.1). The authenticator applies the failure delay and throttling.
import { bad, no, ok, type CommandContext, type CommandResult, type CommandSpec, type SessionState } from './types.js';

const NOT_AUTHENTICATED: SessionState[] = ['not-authenticated'];

function loginRefused(ctx: CommandContext): CommandResult | null {
  const { session } = ctx;
  if (session.settings.tlsRequired && !session.transport.secure) {
    return no('Log in after STARTTLS: this server does not accept passwords in the clear', 'PRIVACYREQUIRED');
  }
  if (!session.authenticator) return no('Login is not available on this connection', 'UNAVAILABLE');
  return null;
}

async function finishLogin(ctx: CommandContext, user: string, password: string): Promise<CommandResult> {
  const { session } = ctx;
  const auth = session.authenticator!;
  const remote = session.transport.remoteAddress;
  const result = auth.loginOrProxy ? await auth.loginOrProxy(user, password, remote) : await auth.login(user, password, remote);
  if (!result) return no('Login failed.', 'AUTHENTICATIONFAILED');
  if ('proxy' in result) {
    // IMAP_PROXY: the account lives on another server, where we have logged in. Its answer
    // is ours (its capabilities, not ours, hold from now on); then the bytes are relayed.
    const { proxy } = result;
    if (proxy.untagged.length > 0) session.write(proxy.untagged);
    return { status: 'OK', ...(proxy.answer.code ? { code: proxy.answer.code } : {}), text: proxy.answer.text, after: () => session.relayTo(result.user, proxy) };
  }
  session.loggedIn(result.user, result.store, result);
  return ok('LOGIN Ok.', `CAPABILITY ${session.capabilities().join(' ')}`);
}

export const login: CommandSpec = {
  names: ['LOGIN'],
  states: NOT_AUTHENTICATED,
  capabilities: [{ word: 'LOGINDISABLED', added: 'tls-required' }],
  async handler(ctx) {
    const user = ctx.args.astring('user name');
    const password = ctx.args.astring('password');
    ctx.args.end();
    return loginRefused(ctx) ?? finishLogin(ctx, user, password);
  },
};

export const authenticate: CommandSpec = {
  names: ['AUTHENTICATE'],
  states: NOT_AUTHENTICATED,
  capabilities: [
    { word: 'AUTH=PLAIN', beforeLogin: true },
    { word: 'AUTH=EXTERNAL', beforeLogin: true, added: 'external' },
    { word: 'SASL-IR', beforeLogin: true },
  ],
  async handler(ctx) {
    const mechanism = ctx.args.atom('SASL mechanism').toUpperCase();
    const initial = ctx.args.remaining ? ctx.args.astring('initial response') : undefined;
    ctx.args.end();
    if (mechanism === 'EXTERNAL' && ctx.session.offers('AUTH=EXTERNAL')) return external(ctx, initial);
    if (mechanism !== 'PLAIN') return no(`Unsupported authentication mechanism ${mechanism}`, 'CANNOT');
    const refused = loginRefused(ctx);
    if (refused) return refused;
    const decoded = await saslResponse(ctx, initial);
    if (!Buffer.isBuffer(decoded)) return decoded;
    const parts = decoded.toString('utf8').split('\0');
    if (parts.length !== 3) return bad('Malformed PLAIN response');
    const [authzid, authcid, password] = parts;
    if (authzid && authzid !== authcid) return no('Logging in as another user is not supported', 'AUTHORIZATIONFAILED');
    return finishLogin(ctx, authcid, password);
  },
};

/** The client's one SASL response, from SASL-IR or after a continuation, decoded; or the answer to a bad one. */
async function saslResponse(ctx: CommandContext, initial: string | undefined): Promise<Buffer | CommandResult> {
  let response = initial;
  if (response === undefined) {
    ctx.session.continuation('');
    const line = await ctx.session.readLine();
    if (line === null) return bad('Connection closed during AUTHENTICATE');
    response = line.toString('latin1').trim();
  }
  if (response === '*') return bad('AUTHENTICATE cancelled');
  // "=" is an empty initial response (RFC 4959).
  const decoded = response === '=' ? Buffer.alloc(0) : Buffer.from(response, 'base64');
  if (response !== '=' && decoded.toString('base64').replace(/=+$/, '') !== response.replace(/=+$/, '')) {
    return bad('Invalid base64 in AUTHENTICATE response');
  }
  return decoded;
}

/**
 * SASL EXTERNAL (RFC 4422 appendix A): the identity is the verified client certificate's
 * (TLS_EXTERNAL); the client may name it as authorization identity, or send nothing.
 */
async function external(ctx: CommandContext, initial: string | undefined): Promise<CommandResult> {
  const { session } = ctx;
  const identity = session.transport.externalIdentity!;
  const decoded = await saslResponse(ctx, initial);
  if (!Buffer.isBuffer(decoded)) return decoded;
  const authzid = decoded.toString('utf8');
  if (authzid !== '' && authzid !== identity) return no('Logging in as another user is not supported', 'AUTHORIZATIONFAILED');
  const result = await session.authenticator!.loginExternal!(identity, session.transport.remoteAddress);
  if (!result) return no('Login failed.', 'AUTHENTICATIONFAILED');
  session.loggedIn(result.user, result.store, result);
  return ok('LOGIN Ok.', `CAPABILITY ${session.capabilities().join(' ')}`);
}

export const starttls: CommandSpec = {
  names: ['STARTTLS'],
  states: NOT_AUTHENTICATED,
  capabilities: [{ word: 'STARTTLS', added: 'starttls' }],
  async handler({ session, args }) {
    args.end();
    if (session.transport.secure) return bad('TLS is already active');
    if (!session.transport.startTls) return bad('STARTTLS is not available on this connection');
    return { status: 'OK', text: 'Begin TLS negotiation now', after: () => session.startTls() };
  },
};
