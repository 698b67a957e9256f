// IMAP_PROXY: log in, for the client, to the server an account's mail lives on (its
// "mailhost", server/accounts/mailhost.ts), as Courier's imaplogin does, and hand the
// connection to the relay (relay.ts).
//
// Courier connects to port 143 and logs in with LOGIN in the clear ("proxy connections are
// presumably carried over a private network", README.proxy). We never send a password in
// the clear: port 143 (and any port but 993) is asked for STARTTLS first, port 993 and
// "imaps://" entries use TLS from the start, and the other server's certificate must be
// valid for the host name written in the mailhost and come from a certificate authority of
// TLS_TRUSTCERTS when that is set, else from Node's list of public authorities. A server
// that offers no STARTTLS or presents a certificate that does not verify is not logged in
// to; the client is told that its mail server cannot be reached (and the log says why).
//
// As in Courier: the entries of a mailhost are tried in order; one naming this server
// (PROXY_HOSTNAME or the machine's host name) means the mail is here, and the login goes on
// locally; the login there uses the account's username and the password the client gave
// (AUTHENTICATE PLAIN where the server offers it, else LOGIN); its tagged OK answers the
// client's login. With IMAP_PROXY_FOREIGN=1 a CAPABILITY command follows the login there,
// and its untagged CAPABILITY and tagged OK are the client's answer.

import net from 'node:net';
import { hostname as osHostname } from 'node:os';
import tls from 'node:tls';
import { parseMailhost, type MailhostEntry, type ProxyConnector, type ProxyOutcome } from '../accounts/mailhost.js';
import type { Logger, ProxyConnection, RelayClient } from '../imap/contracts.js';
import type { ImapdSettings } from '../config/settings.js';
import { startRelay } from './relay.js';
import { loadTrustedCertificates } from './tls.js';

/** Courier waits 30 s for each step of the connection (proxy.C, proxy_waitfd). */
const DEFAULT_STEP_TIMEOUT_MS = 30_000;
/** Longest response line read from the other server before the relay starts. */
const MAX_LINE = 64 * 1024;

export interface ImapProxyOptions {
  /** IMAP_PROXY_FOREIGN: send CAPABILITY after the login and give the client its answer. */
  foreign: boolean;
  /** PROXY_HOSTNAME: a mailhost entry with this name (or the machine's host name) is this server. */
  proxyHostname: string | null;
  /** TLS_TRUSTCERTS (a PEM file or a directory of them), read at the first proxied login or by ready(); null: Node's list of public certificate authorities. */
  trustCerts: string | null;
  logger: Logger;
  /** Limit for each step (connecting, TLS, each answer); default 30 s as Courier. */
  stepTimeoutMs?: number;
  /** The machine's host name (tests). */
  machineHostname?: string;
}

class ProxyFailure extends Error {
  constructor(message: string, readonly refused = false) {
    super(message);
  }
}

/** The connector IMAP_PROXY=1 asks for, from the settings; null when proxying is off. */
export function proxyFromSettings(s: Pick<ImapdSettings, 'imapProxy' | 'imapProxyForeign' | 'proxyHostname' | 'tlsTrustCerts'>, logger: Logger): ImapProxy | null {
  if (!s.imapProxy) return null;
  return new ImapProxy({ foreign: s.imapProxyForeign, proxyHostname: s.proxyHostname, trustCerts: s.tlsTrustCerts, logger });
}

export class ImapProxy implements ProxyConnector {
  private readonly localNames: Set<string>;
  private trusted: Promise<string[] | null> | null = null;

  constructor(private readonly options: ImapProxyOptions) {
    this.localNames = new Set([options.machineHostname ?? osHostname(), ...(options.proxyHostname ? [options.proxyHostname] : [])].map((n) => n.toLowerCase()));
  }

  /** Read TLS_TRUSTCERTS now (at start, so that a missing file is said at once); rejects with the problem. */
  ready(): Promise<string[] | null> {
    const file = this.options.trustCerts;
    this.trusted ??= file ? loadTrustedCertificates(file) : Promise.resolve(null);
    return this.trusted;
  }

  /** Whether a mailhost entry names this server (Courier's checkhostname compares the name only). */
  isLocal(entry: MailhostEntry): boolean {
    return this.localNames.has(entry.host);
  }

  async open(mailhost: string, user: string, password: string): Promise<ProxyOutcome> {
    const log = this.options.logger;
    let entries: MailhostEntry[];
    try {
      entries = parseMailhost(mailhost);
    } catch (err) {
      log.log('error', 'proxy: the account\'s mailhost is not valid', { user, mailhost, error: (err as Error).message });
      return { kind: 'unavailable' };
    }
    let refused = false;
    for (const entry of entries) {
      if (this.isLocal(entry)) return { kind: 'local' };
      const where = `${entry.implicitTls ? 'imaps://' : ''}${entry.host.includes(':') ? `[${entry.host}]` : entry.host}:${entry.port}`;
      try {
        return { kind: 'proxied', connection: await this.connect(entry, where, user, password) };
      } catch (err) {
        const failure = err instanceof ProxyFailure ? err : new ProxyFailure((err as Error).message);
        refused ||= failure.refused;
        log.log(failure.refused ? 'warn' : 'error', failure.refused ? 'proxy: login refused' : 'proxy: cannot connect', { user, host: where, error: failure.message });
      }
    }
    return refused ? { kind: 'refused' } : { kind: 'unavailable' };
  }

  private async connect(entry: MailhostEntry, where: string, user: string, password: string): Promise<ProxyConnection> {
    const stepMs = this.options.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
    const raw = await step<net.Socket>(stepMs, `no connection within ${stepMs / 1000} s`, (resolve, reject) => {
      const s = net.connect({ host: entry.host, port: entry.port, noDelay: true });
      s.once('connect', () => resolve(s));
      s.once('error', reject);
      return () => s.destroy();
    });
    raw.on('error', () => undefined);
    let socket: net.Socket = raw;
    try {
      if (entry.implicitTls) socket = await this.startTls(raw, entry, stepMs);
      let lines = new LineReader(socket, stepMs);
      const greeting = await lines.next();
      if (/^\* BYE\b/i.test(greeting)) throw new ProxyFailure(`the server said ${printable(greeting)}`);
      if (!/^\* OK\b/i.test(greeting)) throw new ProxyFailure(`no IMAP greeting: ${printable(greeting)}`);
      if (!entry.implicitTls) {
        const answer = await command(socket, lines, 'P1 STARTTLS\r\n', 'P1');
        if (answer.status !== 'OK') throw new ProxyFailure(`STARTTLS refused (${printable(answer.line)}): passwords are not sent in the clear`);
        if (lines.detach().length) throw new ProxyFailure('data after the STARTTLS answer');
        socket = await this.startTls(raw, entry, stepMs);
        lines = new LineReader(socket, stepMs);
      }
      const words = (await command(socket, lines, 'P2 CAPABILITY\r\n', 'P2')).untagged
        .filter((l) => /^\* CAPABILITY /i.test(l))
        .flatMap((l) => l.slice(13).toUpperCase().split(' '));
      const login = await this.login(socket, lines, words, user, password);
      if (login.status !== 'OK') throw new ProxyFailure(`${printable(login.line)}`, true);
      let untagged = login.untagged;
      let answer = login;
      if (this.options.foreign) {
        answer = await command(socket, lines, 'P4 CAPABILITY\r\n', 'P4');
        if (answer.status !== 'OK') throw new ProxyFailure(`CAPABILITY failed: ${printable(answer.line)}`);
        untagged = [...untagged, ...answer.untagged];
      }
      const pending = lines.detach();
      socket.setTimeout(0);
      return connection(where, socket, untagged, answer, pending);
    } catch (err) {
      socket.destroy();
      raw.destroy();
      throw err;
    }
  }

  private async login(socket: net.Socket, lines: LineReader, words: string[], user: string, password: string): Promise<Answer> {
    if (words.includes('AUTH=PLAIN')) {
      const response = Buffer.from(`\0${user}\0${password}`, 'utf8').toString('base64');
      if (words.includes('SASL-IR')) return command(socket, lines, `P3 AUTHENTICATE PLAIN ${response}\r\n`, 'P3');
      return command(socket, lines, 'P3 AUTHENTICATE PLAIN\r\n', 'P3', [`${response}\r\n`]);
    }
    if (words.includes('LOGINDISABLED')) throw new ProxyFailure('the server offers neither AUTH=PLAIN nor LOGIN');
    // Synchronizing literals: any octets, and the server says "+" before each.
    const u = Buffer.from(user, 'utf8');
    const p = Buffer.from(password, 'utf8');
    return command(socket, lines, `P3 LOGIN {${u.length}}\r\n`, 'P3', [Buffer.concat([u, Buffer.from(` {${p.length}}\r\n`)]), Buffer.concat([p, Buffer.from('\r\n')])]);
  }

  private async startTls(raw: net.Socket, entry: MailhostEntry, stepMs: number): Promise<tls.TLSSocket> {
    let ca: string[] | null;
    try {
      ca = await this.ready();
    } catch (err) {
      throw new ProxyFailure((err as Error).message);
    }
    return step<tls.TLSSocket>(stepMs, `no TLS handshake within ${stepMs / 1000} s`, (resolve, reject) => {
      const s = tls.connect({
        socket: raw,
        host: entry.host,
        ...(net.isIP(entry.host) ? {} : { servername: entry.host }),
        ...(ca ? { ca } : {}),
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
      });
      s.once('secureConnect', () => resolve(s));
      s.once('error', (err) => reject(new ProxyFailure(`TLS: ${err.message}`)));
      return () => s.destroy();
    });
  }
}

interface Answer {
  status: string;
  /** The tagged line. */
  line: string;
  untagged: string[];
}

/** Send a command (and, after each "+", the next continuation) and read to its tagged answer. */
async function command(socket: net.Socket, lines: LineReader, text: string, tag: string, continuations: (string | Buffer)[] = []): Promise<Answer> {
  socket.write(text);
  const untagged: string[] = [];
  for (;;) {
    const line = await lines.next();
    if (line.startsWith('+')) {
      const next = continuations.shift();
      if (next === undefined) {
        socket.write('*\r\n');
        continue;
      }
      socket.write(next);
      continue;
    }
    if (line.startsWith('* ')) {
      untagged.push(line);
      continue;
    }
    if (line.startsWith(`${tag} `)) {
      const status = line.slice(tag.length + 1).split(' ', 1)[0]!.toUpperCase();
      return { status, line, untagged };
    }
    throw new ProxyFailure(`unexpected answer: ${printable(line)}`);
  }
}

function connection(host: string, socket: net.Socket, untagged: string[], answer: Answer, pending: Buffer): ProxyConnection {
  // Until the relay listens: a reset must not be an unhandled 'error'.
  socket.on('error', () => undefined);
  // "P3 OK [CAPABILITY ...] text": the code and the text, for the client's tag.
  const rest = answer.line.slice(answer.line.indexOf(' ') + 1).replace(/^\S+ ?/, '');
  const close = rest.startsWith('[') ? rest.indexOf(']') : -1;
  const code = close > 0 ? rest.slice(1, close) : null;
  const text = (close > 0 ? rest.slice(close + 1) : rest).trim() || 'LOGIN Ok.';
  return {
    host,
    untagged: Buffer.from(untagged.map((l) => `${l}\r\n`).join(''), 'utf8'),
    answer: { code, text },
    relay: (client: RelayClient) =>
      startRelay(client, { input: socket, output: socket, pending, destroy: () => socket.destroy() }),
    close: () => socket.destroy(),
  };
}

/** Lines (without CRLF) from a socket, each within the step time; longer than MAX_LINE fails. */
class LineReader {
  private buffered = Buffer.alloc(0);
  private waiter: { resolve: (line: string) => void; reject: (err: Error) => void } | null = null;
  private failure: Error | null = null;
  private readonly onData = (chunk: Buffer): void => {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    this.deliver();
  };
  private readonly onEnd = (): void => this.fail(new ProxyFailure('the server closed the connection'));
  private readonly onError = (err: Error): void => this.fail(new ProxyFailure(err.message));

  constructor(private readonly socket: net.Socket, private readonly stepMs: number) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
  }

  next(): Promise<string> {
    return step<string>(this.stepMs, `no answer within ${this.stepMs / 1000} s`, (resolve, reject) => {
      this.waiter = { resolve, reject };
      this.deliver();
      return () => (this.waiter = null);
    });
  }

  /** Stop reading; returns what came after the last line read. */
  detach(): Buffer {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
    this.socket.pause();
    const rest = this.buffered;
    this.buffered = Buffer.alloc(0);
    return rest;
  }

  private deliver(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    const lf = this.buffered.indexOf(0x0a);
    if (lf >= 0) {
      this.waiter = null;
      const line = this.buffered.toString('utf8', 0, lf > 0 && this.buffered[lf - 1] === 0x0d ? lf - 1 : lf);
      this.buffered = this.buffered.subarray(lf + 1);
      waiter.resolve(line);
    } else if (this.buffered.length > MAX_LINE) {
      this.fail(new ProxyFailure('an answer line over 64 KiB'));
    } else if (this.failure) {
      this.waiter = null;
      waiter.reject(this.failure);
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.deliver();
  }
}

/** A promise for one step, rejected with `message` after `ms`; `start` returns how to cancel it. */
function step<T>(ms: number, message: string, start: (resolve: (value: T) => void, reject: (err: Error) => void) => () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const cancel = start(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      },
    );
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      cancel();
      reject(new ProxyFailure(message));
    }, ms);
  });
}

/** A line from the other server as it may appear in the log. */
function printable(line: string): string {
  const cleaned = line.slice(0, 200).replace(/[\0-\x1f\x7f]/g, '?');
  return line.length > 200 ? `${cleaned}...` : cleaned;
}
