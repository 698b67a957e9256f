// The LMTP listener (RFC 2033): the mail transfer agent on this machine (Postfix, Exim, ...)
// hands messages to it on a TCP port and/or a Unix socket, and gets one reply per recipient
// after DATA. The protocol is spoken by the `smtp-server` package (lmtp: true), which also
// announces PIPELINING, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES and SIZE and refuses a message
// over SIZE (552 5.3.4 for each recipient); this module only decides about recipients and
// writes messages (Deliverer).
//
// LMTP has no login: the listener is meant for 127.0.0.1 or a local socket only.

import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Logger } from '../log/logger.js';
import type { Deliverer, Outcome, Recipient } from './deliverer.js';
import { MessageSpool } from './spool.js';

export interface LmtpListenOptions {
  /** TCP: address (null: all) and port (0: any free one); null: no TCP port. */
  tcp: { address: string | null; port: number } | null;
  /** Unix socket path; null: none. */
  socket: string | null;
}

export interface LmtpServerOptions extends LmtpListenOptions {
  deliverer: Deliverer;
  logger: Logger;
  /** LMTP_MAXMSGSIZE: announced as SIZE; bigger messages are refused. */
  maxMessageSize: number;
  /** Where messages over 1 MiB wait while they are delivered. */
  spoolDir: string;
  /** Host name in the greeting; default os.hostname(). */
  name?: string;
  /** How long stop() lets transactions under way finish (default 5 s). */
  stopGraceMs?: number;
  /** Most connections at once (default 50). */
  maxClients?: number;
}

export interface LmtpEndpoint {
  kind: 'lmtp';
  /** "127.0.0.1:24" style for TCP, the path for a socket. */
  address: string;
  port: number | null;
  path: string | null;
}

/** An SMTP-server error with the reply code it is sent with. */
function replyError(outcome: Outcome): Error & { responseCode: number } {
  return Object.assign(new Error(outcome.message), { responseCode: outcome.code });
}

export class LmtpServer {
  private readonly servers: SMTPServer[] = [];
  private readonly bound: LmtpEndpoint[] = [];
  /** Recipients accepted in each session's transaction, by lower-case address. */
  private readonly accepted = new WeakMap<SMTPServerSession, Map<string, Recipient>>();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: LmtpServerOptions) {}

  endpoints(): LmtpEndpoint[] {
    return [...this.bound];
  }

  /** Listen where the options say; throws (after closing what was opened) when a listener cannot start. */
  async start(): Promise<LmtpEndpoint[]> {
    try {
      if (this.options.tcp) {
        const { address, port } = this.options.tcp;
        const server = this.makeServer();
        const info = await listen(server, (done) => server.listen(port, address ?? '::', done));
        const where = info as net.AddressInfo;
        this.bound.push({ kind: 'lmtp', address: where.address, port: where.port, path: null });
      }
      if (this.options.socket) {
        const path = this.options.socket;
        await removeStaleSocket(path);
        const server = this.makeServer();
        await listen(server, (done) => server.listen(path, done));
        // Connecting needs write permission on the socket: the MTA runs as its own user
        // (postfix). Anyone on this machine may reach the TCP port on 127.0.0.1 the same way.
        await fs.chmod(path, 0o666);
        this.bound.push({ kind: 'lmtp', address: path, port: null, path });
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    for (const e of this.bound) this.options.logger.log('info', 'LMTP listening', { on: e.path ?? `${e.address}:${e.port}` });
    return this.endpoints();
  }

  /** Stop listening; transactions under way may finish within the grace time. */
  async stop(): Promise<void> {
    const servers = this.servers.splice(0);
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    for (const e of this.bound.splice(0)) if (e.path) await fs.rm(e.path, { force: true }).catch(() => undefined);
  }

  private makeServer(): SMTPServer {
    const server = new SMTPServer({
      lmtp: true,
      name: this.options.name ?? os.hostname(),
      banner: 'imapd-ts LMTP ready',
      size: this.options.maxMessageSize,
      // Over SIZE, smtp-server answers 552 5.3.4 for every recipient whatever onData says.
      rejectOversized: true,
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      hideSTARTTLS: true,
      // Delivery status notifications are the MTA's business: we neither send nor honour NOTIFY.
      hideDSN: true,
      hideENHANCEDSTATUSCODES: false,
      disableReverseLookup: true,
      maxClients: this.options.maxClients ?? 50,
      closeTimeout: this.options.stopGraceMs ?? 5000,
      logger: false,
      onMailFrom: (_address, session, callback) => {
        this.accepted.set(session, new Map());
        callback();
      },
      onRcptTo: (address, session, callback) => {
        this.track(this.onRcptTo(address, session)).then(
          (outcome) => callback(outcome ? replyError(outcome) : null),
          (err: unknown) => callback(replyError({ code: 451, message: `Local error: ${(err as Error).message}`, exit: 75 })),
        );
      },
      onData: (stream, session, callback) => {
        this.track(this.onData(stream, session)).then(
          (results) => callback(null, results),
          (err: unknown) => callback(replyError({ code: 451, message: `Local error: ${(err as Error).message}`, exit: 75 })),
        );
      },
    });
    server.on('error', (err) => this.options.logger.log('warn', 'LMTP connection error', { error: err.message }));
    this.servers.push(server);
    return server;
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work)).catch(() => undefined);
    return work;
  }

  private async onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Promise<Outcome | null> {
    const found = await this.options.deliverer.resolve(address.address);
    if ('outcome' in found) return found.outcome;
    // RFC 1870: the size the client announced, to refuse at once what cannot fit.
    const declared = Number((session.envelope.mailFrom && session.envelope.mailFrom.args && session.envelope.mailFrom.args.SIZE) || 0);
    const refused = await this.options.deliverer.precheck(found.recipient, Number.isSafeInteger(declared) ? declared : 0);
    if (refused) return refused;
    let map = this.accepted.get(session);
    if (!map) this.accepted.set(session, (map = new Map()));
    map.set(address.address.toLowerCase(), found.recipient);
    return null;
  }

  /** One result per accepted recipient, in RCPT order (RFC 2033 4.2): a text for 250, an Error with its code otherwise. */
  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<(string | Error)[]> {
    const spool = new MessageSpool(this.options.spoolDir, this.options.maxMessageSize);
    try {
      for await (const chunk of stream) await spool.write(chunk as Buffer);
      await spool.end();
      // Over SIZE: smtp-server answers 552 5.3.4 for every recipient itself (rejectOversized);
      // the same answers are given here should it not.
      if (spool.tooBig || stream.sizeExceeded) {
        return session.envelope.rcptTo.map(() => replyError({ code: 552, message: `Message exceeds the size limit of ${this.options.maxMessageSize} bytes`, exit: 65 }));
      }
      const mailFrom = session.envelope.mailFrom;
      const envelope = { sender: mailFrom ? mailFrom.address : '' };
      const accepted = this.accepted.get(session) ?? new Map<string, Recipient>();
      const results: (string | Error)[] = [];
      for (const rcpt of session.envelope.rcptTo) {
        const recipient = accepted.get(rcpt.address.toLowerCase());
        const outcome = recipient
          ? await this.options.deliverer.deliver(spool, envelope, recipient)
          : { code: 451, message: 'Recipient was not checked; try again', exit: 75 };
        results.push(outcome.code === 250 ? outcome.message : replyError(outcome));
      }
      return results;
    } finally {
      this.accepted.delete(session);
      await spool.discard();
    }
  }
}

function listen(server: SMTPServer, start: (done: () => void) => net.Server): Promise<string | net.AddressInfo | null> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    const inner = start(() => {
      server.off('error', onError);
      resolve(inner.address());
    });
  });
}

/** A socket file left by a process that died is removed; one somebody listens on is not. */
async function removeStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = await fs.lstat(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`${path} exists and is not a socket; not replacing it`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another program is listening on ${path}`);
  await fs.rm(path, { force: true });
}
