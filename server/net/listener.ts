// The network front: plain IMAP listeners (PORT, with STARTTLS when IMAPDSTARTTLS=YES)
// and implicit-TLS listeners (SSLPORT), the connection limits that couriertcpd enforces
// in Courier (MAXDAEMONS in total, MAXPERIP per client address), and a registry of live
// connections for the GUI.
//
// A connection over a limit is answered "* BYE <reason>" and closed at once; the others
// are not disturbed. (Courier closes it without a word; a BYE lets the client show why.)
// On the TLS port the BYE has to go through TLS, so the handshake is done first, with a
// short time limit and only for a bounded number of such connections at once.
//
// Each accepted connection gets a Transport (imap/contracts.ts) over its socket and an IMAP
// session. Deadlines and inactivity limits are the session's business; the listener only
// drops TLS handshakes that do not complete (60 s by default).
// Its options, connection rows and events are declared in listener-types.ts.

import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { normalizeAddress } from '../accounts/authenticator.js';
import { resolveEndpoints, sessionSettingsFrom, type Endpoint, type ImapdSettings } from '../config/settings.js';
import type { Logger, LogLevel, SessionOptions, SessionSettings, Transport } from '../imap/contracts.js';
import { startSession as startImapSession, type SessionHandle, type SessionInfo } from '../imap/session.js';
import { StallMonitor, type Stall } from '../imap/stall.js';
import { AccessList } from './access.js';
import { loadTrustedCertificates } from './tls.js';
import { TlsContexts } from './tls-contexts.js';
import type { ConnectionInfo, ConnectionPhase, ImapServerEvents, ImapServerOptions, ListenerInfo, ListenerKind, LogEvent } from './listener-types.js';

interface Connection {
  id: number;
  listener: ListenerKind;
  remoteAddress: string;
  remotePort: number;
  localPort: number;
  /** The TCP socket; TLS runs on top of it. */
  raw: net.Socket;
  secure: tls.TLSSocket | null;
  phase: ConnectionPhase;
  connectedAt: number;
  handle: SessionHandle | null;
  session: SessionInfo | null;
  finished: boolean;
  done: Promise<void>;
  resolveDone: () => void;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 60_000;
/** Handshake limit for over-limit connections that are only told BYE. */
const REJECT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** At most this many over-limit TLS connections get a handshake for their BYE at once. */
const MAX_REJECTING_HANDSHAKES = 16;
/** A socket that was asked to close is destroyed when the peer has not closed after this. */
const CLOSE_LINGER_MS = 5_000;

export const BYE_TOO_MANY = 'Server busy: too many connections. Try again later.';
export const BYE_TOO_MANY_FROM_ADDRESS = 'Too many connections from your address. Close some other mail programs, or try again later.';

export class ImapServer extends EventEmitter<ImapServerEvents> {
  private readonly servers: { server: net.Server; info: ListenerInfo }[] = [];
  private readonly connections = new Map<number, Connection>();
  private readonly perAddress = new Map<string, number>();
  /** Built in start(): client certificates need TLS_TRUSTCERTS read first. */
  private implicitTls: TlsContexts | null = null;
  private startTlsTls: TlsContexts | null = null;
  private readonly startSessionFn: (options: SessionOptions) => SessionHandle;
  private nextId = 1;
  private rejectingHandshakes = 0;
  /** IMAPACCESSFILE, read at start. */
  private access: AccessList | null = null;
  private stopping: Promise<void> | null = null;
  /** One thread serves every connection: a command that blocks it is logged by name. */
  private readonly stallMonitor = new StallMonitor({
    logger: { log: (level, message, fields) => this.log(level, message, fields ?? {}) },
    onStall: (stall) => this.emit('stall', stall),
  });

  constructor(private readonly options: ImapServerOptions) {
    super();
    const s = options.settings;
    const needTls = (s.sslStart && s.sslPorts.length > 0) || (s.plainStart && s.startTls);
    if (needTls && !options.tls) throw new Error('TLS is switched on (IMAPDSSLSTART or IMAPDSTARTTLS) but no certificate was given');
    this.startSessionFn = options.startSession ?? startImapSession;
  }

  /** Build the options from full settings (the usual case). */
  static fromSettings(settings: ImapdSettings, rest: Omit<ImapServerOptions, 'settings' | 'sessionSettings'> & { sessionSettings?: SessionSettings }): ImapServer {
    return new ImapServer({ ...rest, settings, sessionSettings: rest.sessionSettings ?? sessionSettingsFrom(settings) });
  }

  /** Start listening on every configured endpoint. Rejects (and listens nowhere) if one fails. */
  async start(): Promise<ListenerInfo[]> {
    const s = this.options.settings;
    if (s.accessFile) {
      // Read before listening: a file that cannot be read must not let everyone in.
      this.access = await AccessList.load(s.accessFile);
      for (const w of this.access.warnings) this.log('warn', 'IMAPACCESSFILE', { warning: w });
    }
    if (this.options.tls) {
      const peer = { tlsCipherList: s.tlsCipherList, tlsVerifyPeer: s.tlsVerifyPeer ?? 'NONE', tlsExternal: s.tlsExternal ?? null };
      const ca = peer.tlsVerifyPeer !== 'NONE' && s.tlsTrustCerts ? await loadTrustedCertificates(s.tlsTrustCerts) : null;
      this.implicitTls = new TlsContexts(this.options.tls, s.tlsMinVersion, peer, ca);
      this.startTlsTls = new TlsContexts(this.options.tls, s.startTlsMinVersion, peer, ca);
    }
    const wanted: { kind: ListenerKind; endpoint: Endpoint }[] = [];
    if (s.plainStart) for (const endpoint of resolveEndpoints(s.ports, s.address)) wanted.push({ kind: 'imap', endpoint });
    if (s.sslStart) for (const endpoint of resolveEndpoints(s.sslPorts, s.sslAddress)) wanted.push({ kind: 'imaps', endpoint });
    try {
      for (const { kind, endpoint } of wanted) await this.listen(kind, endpoint);
    } catch (err) {
      await Promise.all(this.servers.splice(0).map(({ server }) => new Promise<void>((r) => server.close(() => r()))));
      throw err;
    }
    this.stallMonitor.start();
    return this.endpoints();
  }

  /** Where the server listens (ports resolved when 0 was asked for). */
  endpoints(): ListenerInfo[] {
    return this.servers.map((s) => ({ ...s.info }));
  }

  /** Event-loop stalls since start(): how many, and the last one. */
  stalls(): { count: number; last: Stall | null } {
    return { count: this.stallMonitor.count, last: this.stallMonitor.last };
  }

  /** Every live connection, including those still in their TLS handshake. */
  sessions(): ConnectionInfo[] {
    return [...this.connections.values()].map((c) => this.snapshot(c));
  }

  /** Close one connection ("* BYE reason" first when its session runs). */
  disconnect(id: number, reason = 'Disconnected by the administrator.'): boolean {
    const conn = this.connections.get(id);
    if (!conn) return false;
    this.log('info', 'disconnecting', { conn: id, ip: conn.remoteAddress, reason });
    if (conn.handle) conn.handle.disconnect(reason);
    else this.destroy(conn);
    return true;
  }

  /**
   * Stop accepting, ask every session to finish (BYE), and resolve when all connections
   * are closed. Sessions that have not finished after the grace time are cut off.
   */
  stop(reason = 'Server shutting down.'): Promise<void> {
    this.stopping ??= this.doStop(reason);
    return this.stopping;
  }

  private async doStop(reason: string): Promise<void> {
    this.stallMonitor.stop();
    const closed = Promise.all(this.servers.map(({ server }) => new Promise<void>((r) => server.close(() => r()))));
    for (const conn of this.connections.values()) {
      if (conn.handle) conn.handle.disconnect(reason);
      else this.destroy(conn);
    }
    const all = () => Promise.all([...this.connections.values()].map((c) => c.done));
    const grace = this.options.stopGraceMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all().then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), grace))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.log('warn', 'sessions did not finish in time; closing their connections', { count: this.connections.size });
      for (const conn of this.connections.values()) this.destroy(conn);
      await all();
    }
    await closed;
    this.log('info', 'stopped', {});
  }

  private listen(kind: ListenerKind, endpoint: Endpoint): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 });
      server.on('connection', (socket) => this.accept(kind, socket));
      const where = `${endpoint.address ?? 'all addresses'} port ${endpoint.port}`;
      server.once('error', (err: NodeJS.ErrnoException) => {
        const hint =
          err.code === 'EADDRINUSE' ? 'the port is in use by another program'
          : err.code === 'EACCES' && endpoint.port < 1024 ? 'ports below 1024 need privileges (see PORTS.md: setcap or port forwarding)'
          : err.code === 'EADDRNOTAVAIL' ? 'this machine has no such address'
          : err.message;
        reject(new Error(`cannot listen on ${where} (${kind}): ${hint}`));
      });
      server.listen({ port: endpoint.port, ...(endpoint.address === null ? {} : { host: endpoint.address }) }, () => {
        server.removeAllListeners('error');
        server.on('error', (err) => this.log('error', 'listener error', { listener: kind, error: err.message }));
        const address = server.address() as net.AddressInfo;
        const info: ListenerInfo = { kind, address: address.address, port: address.port, startTls: kind === 'imap' && this.options.settings.startTls };
        this.servers.push({ server, info });
        this.log('info', 'listening', { listener: kind, address: info.address, port: info.port, startTls: info.startTls });
        resolve();
      });
    });
  }

  private accept(kind: ListenerKind, socket: net.Socket): void {
    socket.on('error', () => undefined); // reported through 'close'; a reset peer must not crash us
    const remoteAddress = normalizeAddress(socket.remoteAddress ?? '');
    if (!remoteAddress || this.stopping) {
      socket.destroy();
      return;
    }
    if (this.access?.decide(remoteAddress) === 'deny') {
      // couriertcpd without -denymsg: closed without a word, before the greeting.
      this.log('warn', 'connection refused', { listener: kind, ip: remoteAddress, reason: 'IMAPACCESSFILE' });
      this.emit('rejected', { listener: kind, remoteAddress, reason: 'denied by IMAPACCESSFILE' });
      socket.destroy();
      return;
    }
    const limit = this.options.settings;
    const fromAddress = this.perAddress.get(remoteAddress) ?? 0;
    const reason =
      this.connections.size >= limit.maxDaemons ? BYE_TOO_MANY
      : limit.maxPerIp > 0 && fromAddress >= limit.maxPerIp ? BYE_TOO_MANY_FROM_ADDRESS
      : null;
    if (reason) {
      this.reject(kind, socket, remoteAddress, reason);
      return;
    }
    let resolveDone!: () => void;
    const conn: Connection = {
      id: this.nextId++,
      listener: kind,
      remoteAddress,
      remotePort: socket.remotePort ?? 0,
      localPort: socket.localPort ?? 0,
      raw: socket,
      secure: null,
      phase: kind === 'imaps' ? 'handshake' : 'session',
      connectedAt: Date.now(),
      handle: null,
      session: null,
      finished: false,
      done: new Promise<void>((r) => (resolveDone = r)),
      resolveDone: () => resolveDone(),
    };
    this.connections.set(conn.id, conn);
    this.perAddress.set(remoteAddress, fromAddress + 1);
    this.log('info', 'connection', { conn: conn.id, listener: kind, ip: remoteAddress, port: conn.remotePort });
    socket.once('close', () => this.onSocketClosed(conn));

    if (kind === 'imap') {
      this.startSession(conn, this.plainTransport(conn));
      return;
    }
    this.handshake(socket, this.implicitTls!, this.options.tlsHandshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS).then(
      (secure) => {
        conn.secure = secure;
        conn.phase = 'session';
        this.startSession(conn, this.secureTransport(conn, secure, this.implicitTls!));
      },
      (err: Error) => {
        this.log('info', 'TLS handshake failed', { conn: conn.id, ip: remoteAddress, error: err.message });
        this.destroy(conn);
      },
    );
  }

  private reject(kind: ListenerKind, socket: net.Socket, remoteAddress: string, reason: string): void {
    this.log('warn', 'connection refused', { listener: kind, ip: remoteAddress, reason });
    this.emit('rejected', { listener: kind, remoteAddress, reason });
    const bye = `* BYE ${reason}\r\n`;
    if (kind === 'imap') {
      socket.resume(); // discard whatever the client sends meanwhile
      socket.end(bye);
      setTimeout(() => socket.destroy(), CLOSE_LINGER_MS).unref();
      return;
    }
    if (this.rejectingHandshakes >= MAX_REJECTING_HANDSHAKES) {
      socket.destroy();
      return;
    }
    this.rejectingHandshakes++;
    this.handshake(socket, this.implicitTls!, Math.min(REJECT_HANDSHAKE_TIMEOUT_MS, this.options.tlsHandshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS))
      .then(
        (secure) => {
          secure.resume();
          secure.end(bye);
          setTimeout(() => secure.destroy(), CLOSE_LINGER_MS).unref();
        },
        () => socket.destroy(),
      )
      .finally(() => this.rejectingHandshakes--);
  }

  /** Server-side TLS on an accepted socket; rejects on failure or timeout (the socket is then destroyed). */
  private handshake(socket: net.Socket, contexts: TlsContexts, timeoutMs: number): Promise<tls.TLSSocket> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        contexts.abandon(socket);
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error(`no TLS handshake within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      const closedEarly = () => fail(new Error('connection closed during the TLS handshake'));
      socket.once('close', closedEarly);
      contexts.accept(socket).then(
        (secure) => {
          if (settled) {
            secure.destroy();
            return;
          }
          settled = true;
          clearTimeout(timer);
          socket.off('close', closedEarly);
          secure.on('error', () => undefined); // the session sees errors as the end of its input
          resolve(secure);
        },
        fail,
      );
    });
  }

  private plainTransport(conn: Connection): Transport {
    const socket = conn.raw;
    const startTls = this.options.settings.startTls && this.startTlsTls
      ? async (): Promise<Transport> => {
          // Whatever the client sent in the clear after STARTTLS is not ours to read.
          while (socket.read() !== null) { /* discard */ }
            conn.phase = 'handshake';
          this.changed(conn);
          try {
            conn.secure = await this.handshake(socket, this.startTlsTls!, this.options.tlsHandshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS);
          } catch (err) {
            this.log('info', 'TLS handshake failed after STARTTLS', { conn: conn.id, ip: conn.remoteAddress, error: (err as Error).message });
            throw err;
          }
          conn.phase = 'session';
          return this.secureTransport(conn, conn.secure, this.startTlsTls!);
        }
      : undefined;
    return {
      input: socket,
      output: socket,
      remoteAddress: conn.remoteAddress,
      remotePort: conn.remotePort,
      secure: false,
      ...(startTls ? { startTls } : {}),
      close: () => this.closeGently(socket),
      reusesWrittenBuffers: true,
    };
  }

  private secureTransport(conn: Connection, secure: tls.TLSSocket, contexts: TlsContexts): Transport {
    const externalIdentity = contexts.externalIdentity(secure);
    return {
      input: secure,
      output: secure,
      remoteAddress: conn.remoteAddress,
      secure: true,
      ...(externalIdentity !== null ? { externalIdentity } : {}),
      close: () => this.closeGently(secure),
      reusesWrittenBuffers: true,
    };
  }

  /** End the socket after its output is flushed; destroy it if the peer does not close. */
  private closeGently(socket: net.Socket): void {
    if (socket.destroyed) return;
    socket.end();
    setTimeout(() => socket.destroy(), CLOSE_LINGER_MS).unref();
  }

  private startSession(conn: Connection, transport: Transport): void {
    const logger: Logger = {
      log: (level, message, fields) => this.log(level, message, { conn: conn.id, ip: conn.remoteAddress, ...fields }),
    };
    let handle: SessionHandle;
    try {
      handle = this.startSessionFn({
        transport,
        settings: this.options.sessionSettings,
        logger,
        authenticator: this.options.authenticator,
        ...(this.options.timeouts ? { timeouts: this.options.timeouts } : {}),
        stalls: this.stallMonitor,
      });
    } catch (err) {
      this.log('error', 'cannot start a session', { conn: conn.id, ip: conn.remoteAddress, error: (err as Error).message });
      this.destroy(conn);
      return;
    }
    conn.handle = handle;
    conn.session = handle.info();
    handle.onChange = (info) => {
      conn.session = info;
      this.changed(conn);
    };
    this.emit('session-start', this.snapshot(conn));
    handle.closed.then(
      () => this.finish(conn),
      () => this.finish(conn),
    );
    // The socket may already be gone (a client that connected and left at once).
    if (conn.raw.destroyed) this.onSocketClosed(conn);
  }

  private onSocketClosed(conn: Connection): void {
    // The session normally notices the end of its input; make sure it does.
    if (conn.handle && !conn.finished) conn.handle.disconnect('');
    else if (!conn.handle) this.finish(conn);
  }

  private changed(conn: Connection): void {
    if (!conn.finished) this.emit('session-change', this.snapshot(conn));
  }

  private destroy(conn: Connection): void {
    conn.secure?.destroy();
    conn.raw.destroy();
    if (!conn.handle) this.finish(conn);
  }

  private finish(conn: Connection): void {
    if (conn.finished) return;
    conn.finished = true;
    conn.phase = 'closing';
    if (!conn.raw.destroyed) this.closeGently(conn.secure ?? conn.raw);
    this.connections.delete(conn.id);
    const left = (this.perAddress.get(conn.remoteAddress) ?? 1) - 1;
    if (left > 0) this.perAddress.set(conn.remoteAddress, left);
    else this.perAddress.delete(conn.remoteAddress);
    const info = this.snapshot(conn);
    this.log('info', 'disconnected', {
      conn: conn.id,
      ip: conn.remoteAddress,
      user: info.user ?? undefined,
      rcvd: info.bytesIn,
      sent: info.bytesOut,
      time: Math.round((Date.now() - conn.connectedAt) / 1000),
    });
    if (conn.handle) this.emit('session-end', info);
    conn.resolveDone();
  }

  private snapshot(conn: Connection): ConnectionInfo {
    const s = conn.session;
    const cipher = conn.secure && !conn.secure.destroyed ? conn.secure.getCipher() : null;
    return {
      id: conn.id,
      listener: conn.listener,
      remoteAddress: conn.remoteAddress,
      remotePort: conn.remotePort,
      localPort: conn.localPort,
      phase: conn.phase,
      tls: conn.secure !== null,
      tlsProtocol: conn.secure?.getProtocol() ?? null,
      tlsCipher: cipher?.name ?? null,
      user: s?.user ?? null,
      state: s?.state ?? null,
      selected: s?.selected ?? null,
      idle: s?.idle ?? false,
      connectedAt: conn.connectedAt,
      bytesIn: conn.raw.bytesRead,
      bytesOut: conn.raw.bytesWritten,
    };
  }

  private log(level: LogLevel, message: string, fields: LogEvent['fields']): void {
    this.options.logger?.log(level, message, fields);
    if (this.listenerCount('log') > 0) this.emit('log', { level, message, fields });
  }
}
