// The IMAP server as the appliance runs it: the listeners (started, stopped and restarted
// with new settings), the TLS material, the account authenticator (rebuilt when a setting it
// is made with changes), the live sessions and the server's state for the status.

import { AccountAuthenticator, authenticatorSettings, usernameKey, type Account } from '../accounts/index.js';
import { sessionSettingsFrom, type ImapdSettings } from '../config/index.js';
import type { MailboxOpener } from '../delivery/deliverer.js';
import { DeliveryService } from '../delivery/service.js';
import type { LmtpEndpoint } from '../delivery/lmtp.js';
import type { Authenticator, SessionOptions, SessionSettings } from '../imap/contracts.js';
import { startSession as startImapSession } from '../imap/session.js';
import { ImapServer, TlsError, proxyFromSettings, loadTlsMaterial, type ConnectionInfo, type ListenerInfo, type ServerSettings, type TlsMaterial } from '../net/index.js';
import type { ApplianceStatus, ServerState, SessionView } from './api.js';
import { settingsEqual, type HostContext } from './host-context.js';

/** Fields whose change needs the listeners restarted. */
export const LISTENER_FIELDS: ReadonlySet<keyof ImapdSettings> = new Set([
  'address', 'ports', 'sslAddress', 'sslPorts', 'plainStart', 'sslStart', 'startTls',
  'tlsCertFile', 'tlsPrivateKeyFile', 'tlsMinVersion', 'startTlsMinVersion', 'tlsCipherList',
] as const);
/** Fields the running listeners read at each new connection. */
export const LIVE_FIELDS: ReadonlySet<keyof ImapdSettings> = new Set(['maxDaemons', 'maxPerIp'] as const);
/** Settings the authenticator reads besides authenticatorSettings(): those of the proxy it is given. */
const PROXY_FIELDS: ReadonlySet<keyof ImapdSettings> = new Set([
  'imapProxy', 'imapProxyForeign', 'proxyHostname', 'tlsTrustCerts',
] as const);

/** Whether logins need a new authenticator: any option it is built from changed. */
function authenticatorChanged(before: ImapdSettings, after: ImapdSettings): boolean {
  if (!settingsEqual(authenticatorSettings(before), authenticatorSettings(after))) return true;
  return [...PROXY_FIELDS].some((f) => !settingsEqual(before[f], after[f]));
}

const SESSIONS_EVENT_DELAY_MS = 150;
const SESSIONS_TICK_MS = 2000;

export interface ImapRunnerOptions {
  /** Wait after a failed login (the authenticator's default is Courier's 5 s). */
  failureDelayMs?: number;
  /** How long stop() lets sessions finish. */
  stopGraceMs?: number;
}

export function listenersMustRestart(a: ImapdSettings, b: ImapdSettings): boolean {
  for (const field of LISTENER_FIELDS) if (!settingsEqual(a[field], b[field])) return true;
  return false;
}

export function needsTls(s: ImapdSettings): boolean {
  return (s.sslStart && s.sslPorts.length > 0) || (s.plainStart && s.startTls);
}

export class ImapRunner {
  /** Why the listeners may not start: the account store ACCOUNTS names was not reachable at start. */
  accountsProblem: string | null = null;
  private server: ImapServer | null = null;
  /** The object the running ImapServer reads its limits from at each connection. */
  private serverSettings: ServerSettings | null = null;
  private sessionSettings: SessionSettings;
  private authenticator: AccountAuthenticator;
  private readonly retiredAuthenticators = new Set<AccountAuthenticator>();
  private tlsMaterial: TlsMaterial | null = null;
  private stateNow: ServerState = 'stopped';
  private problemNow: string | null = null;
  private startedAtNow: number | null = null;
  /** Event-loop stalls the IMAP servers reported, across restarts of the listeners. */
  private readonly stallsSeen: ApplianceStatus['stalls'] = { count: 0, last: null };
  /** Account of each connection, for attributing log lines. */
  private readonly userOfConnection = new Map<number, string>();
  private sessionsTimer: NodeJS.Timeout | null = null;
  private sessionsTicker: NodeJS.Timeout | null = null;
  /** Stopped by the administrator: applying settings does not start the listeners again. */
  heldStopped = false;
  /** LMTP delivery: started and stopped with the IMAP listeners, restarted alone when its settings change. */
  private readonly delivery: DeliveryService;

  constructor(
    private readonly ctx: HostContext,
    private readonly options: ImapRunnerOptions,
    settings: ImapdSettings,
  ) {
    this.sessionSettings = sessionSettingsFrom(settings);
    this.authenticator = this.makeAuthenticator(settings);
    this.delivery = new DeliveryService({
      accounts: ctx.accounts,
      logger: ctx.serverLogger(),
      opener: () => this.authenticator,
      dataDir: ctx.dataDir,
      ...(options.stopGraceMs !== undefined ? { stopGraceMs: options.stopGraceMs } : {}),
    });
  }

  /** The opener of Maildirs in force (the authenticator, replaced when its settings change), for deliveries. */
  readonly opener = (): MailboxOpener => this.authenticator;

  /** Where LMTP delivery listens (empty when it is off). */
  lmtpEndpoints(): LmtpEndpoint[] {
    return this.delivery.endpoints();
  }

  get state(): ServerState {
    return this.stateNow;
  }
  get problem(): string | null {
    return this.problemNow;
  }
  get startedAt(): number | null {
    return this.startedAtNow;
  }
  get tls(): TlsMaterial | null {
    return this.tlsMaterial;
  }
  /** A copy of the stall counts for the status. */
  get stalls(): ApplianceStatus['stalls'] {
    const last = this.stallsSeen.last;
    return { count: this.stallsSeen.count, last: last ? { ...last, commands: [...last.commands] } : null };
  }
  get running(): boolean {
    return this.server !== null;
  }

  setState(state: ServerState, problem: string | null): void {
    this.stateNow = state;
    this.problemNow = problem;
    this.ctx.emitStatus();
  }

  /** Change state and problem without an event (the caller sends one when it is done). */
  quietState(state: ServerState, problem: string | null): void {
    this.stateNow = state;
    this.problemNow = problem;
  }

  endpoints(): ListenerInfo[] {
    return this.server?.endpoints() ?? [];
  }

  sessionCount(): number {
    return this.server?.sessions().length ?? 0;
  }

  /** Sessions of one account (by its username key). */
  sessionsOf(key: string): number {
    return (this.server?.sessions() ?? []).filter((c) => c.user !== null && usernameKey(c.user) === key).length;
  }

  /** The account a connection logged in as, if it did. */
  userOf(connection: number): string | undefined {
    return this.userOfConnection.get(connection);
  }

  maildirOf(account: Account): string {
    return this.authenticator.maildirOf(account);
  }

  /** Write an account's quota into its maildirsize now (deliveries and APPEND check it), or remove it. */
  applyQuota(account: Account): Promise<void> {
    return this.authenticator.applyQuota(account, this.maildirOf(account), true);
  }

  /**
   * New settings written: sessions from now on get the new session settings, logins the
   * new authenticator where one of its settings changed, and the listeners their new limits.
   */
  configure(before: ImapdSettings, after: ImapdSettings): void {
    this.sessionSettings = sessionSettingsFrom(after);
    if (authenticatorChanged(before, after)) {
      const retired = this.authenticator;
      this.retiredAuthenticators.add(retired);
      void retired.idle().then(() => this.retiredAuthenticators.delete(retired));
      this.authenticator = this.makeAuthenticator(after);
    }
    if (this.serverSettings) {
      this.serverSettings.maxDaemons = after.maxDaemons;
      this.serverSettings.maxPerIp = after.maxPerIp;
    }
    if (this.server) void this.delivery.configure(before, after);
  }

  private makeAuthenticator(s: ImapdSettings): AccountAuthenticator {
    return new AccountAuthenticator({
      accounts: this.ctx.accounts,
      logger: this.ctx.serverLogger(),
      ...authenticatorSettings(s),
      proxy: proxyFromSettings(s, this.ctx.serverLogger()),
      ...(this.options.failureDelayMs !== undefined ? { failureDelayMs: this.options.failureDelayMs } : {}),
    });
  }

  /** Start listening with these settings; false (with the problem in the status) when it cannot. */
  async start(s: ImapdSettings): Promise<boolean> {
    // The account store ACCOUNTS names could not be opened at start: serving the stand-in would
    // let the wrong accounts in (host.ts); the reason stays the state until the next start.
    if (this.accountsProblem) {
      this.setState('error', this.accountsProblem);
      return false;
    }
    this.setState('starting', null);
    try {
      this.tlsMaterial = needsTls(s) ? await loadTlsMaterial({ certFile: s.tlsCertFile, keyFile: s.tlsPrivateKeyFile, dataDir: this.ctx.dataDir }) : null;
    } catch (err) {
      if (!(err instanceof TlsError)) throw err;
      this.tlsMaterial = null;
      this.setState('error', `TLS certificate: ${err.message}`);
      this.ctx.record('error', null, this.problemNow!);
      return false;
    }
    const tls = this.tlsMaterial;
    if (tls) {
      this.ctx.record('info', null, `TLS certificate ${tls.certFile} (${tls.source}), SHA-256 fingerprint ${tls.fingerprint256}`);
      for (const w of tls.warnings) this.ctx.record(w.startsWith('made a new') ? 'info' : 'warn', null, `TLS: ${w}`);
    }
    // Our own copy: the server reads its limits from it at each connection, so that
    // MAXDAEMONS and MAXPERIP can change without a restart.
    const serverSettings: ServerSettings = {
      address: s.address, ports: s.ports, sslAddress: s.sslAddress, sslPorts: s.sslPorts, plainStart: s.plainStart,
      sslStart: s.sslStart, startTls: s.startTls, maxDaemons: s.maxDaemons, maxPerIp: s.maxPerIp,
      tlsMinVersion: s.tlsMinVersion, startTlsMinVersion: s.startTlsMinVersion, tlsCipherList: s.tlsCipherList,
      accessFile: s.accessFile,
    };
    const delegate: Authenticator = {
      login: (user, password, remote) => this.authenticator.login(user, password, remote),
      loginOrProxy: (user, password, remote) => this.authenticator.loginOrProxy(user, password, remote),
    };
    const server = new ImapServer({
      settings: serverSettings,
      sessionSettings: this.sessionSettings,
      authenticator: delegate,
      tls,
      logger: this.ctx.serverLogger(),
      ...(this.options.stopGraceMs !== undefined ? { stopGraceMs: this.options.stopGraceMs } : {}),
      // Each new session gets the settings in force when it connects.
      startSession: (options: SessionOptions) => startImapSession({ ...options, settings: this.sessionSettings }),
    });
    try {
      const endpoints = await server.start();
      if (endpoints.length === 0) {
        this.setState('error', 'IMAPDSTART and IMAPDSSLSTART are both NO: the server listens nowhere');
        this.ctx.record('warn', null, this.problemNow!);
        return false;
      }
    } catch (err) {
      this.setState('error', (err as Error).message);
      this.ctx.record('error', null, this.problemNow!);
      return false;
    }
    server.on('stall', (stall) => {
      this.stallsSeen.count++;
      this.stallsSeen.last = { at: stall.at, ms: stall.ms, commands: [...stall.commands] };
      this.ctx.emitStatus();
    });
    server.on('session-start', (c) => this.onSessionEvent(c));
    server.on('session-change', (c) => this.onSessionEvent(c));
    server.on('session-end', (c) => {
      this.userOfConnection.delete(c.id);
      this.onSessionEvent(c);
    });
    this.server = server;
    this.serverSettings = serverSettings;
    this.startedAtNow = Date.now();
    // LMTP that cannot listen is reported; IMAP keeps running.
    await this.delivery.start(s).catch((err: unknown) => this.ctx.record('error', null, `LMTP cannot start: ${(err as Error).message}`));
    this.setState('running', null);
    return true;
  }

  /** Stop the listeners; their sessions are told `reason` with BYE. */
  async stop(reason: string): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    this.serverSettings = null;
    await Promise.all([server.stop(reason), this.delivery.stop()]);
    server.removeAllListeners();
    this.userOfConnection.clear();
    this.scheduleSessionsEvent();
  }

  /** After stop(): wait for logins under way, and let the timers go. */
  async close(): Promise<void> {
    await Promise.all([this.authenticator, ...this.retiredAuthenticators].map((a) => a.idle()));
    if (this.sessionsTimer) clearTimeout(this.sessionsTimer);
    if (this.sessionsTicker) clearInterval(this.sessionsTicker);
  }

  private onSessionEvent(c: ConnectionInfo): void {
    if (c.user) this.userOfConnection.set(c.id, c.user);
    this.scheduleSessionsEvent();
  }

  /** Sessions change in bursts (connect, login, select): one event for a burst. */
  private scheduleSessionsEvent(): void {
    if (this.sessionsTimer) return;
    this.sessionsTimer = setTimeout(() => {
      this.sessionsTimer = null;
      const sessions = this.sessionViews();
      this.ctx.emit({ type: 'sessions', sessions });
      this.ctx.emitStatus();
      // While anyone is connected, byte counts move without events: send them now and then.
      if (sessions.length > 0 && !this.sessionsTicker && !this.ctx.closed()) {
        this.sessionsTicker = setInterval(() => {
          const now = this.sessionViews();
          this.ctx.emit({ type: 'sessions', sessions: now });
          if (now.length === 0 && this.sessionsTicker) {
            clearInterval(this.sessionsTicker);
            this.sessionsTicker = null;
          }
        }, SESSIONS_TICK_MS);
        this.sessionsTicker.unref();
      }
    }, SESSIONS_EVENT_DELAY_MS);
    this.sessionsTimer.unref();
  }

  sessionViews(): SessionView[] {
    return (this.server?.sessions() ?? []).map((c) => ({
      id: c.id,
      account: c.user,
      remoteAddress: c.remoteAddress,
      remotePort: c.remotePort,
      listener: c.listener,
      tls: c.tls,
      tlsProtocol: c.tlsProtocol,
      state: c.phase === 'handshake' ? 'handshake' : (c.state ?? 'not-authenticated'),
      folder: c.selected,
      idle: c.idle,
      connectedAt: c.connectedAt,
      bytesIn: c.bytesIn,
      bytesOut: c.bytesOut,
    }));
  }

  disconnect(id: number, reason: string): boolean {
    return this.server?.disconnect(id, reason) ?? false;
  }

  /** End every session of one account; how many there were. */
  disconnectUser(username: string, reason: string): number {
    if (!this.server) return 0;
    const key = usernameKey(username);
    let count = 0;
    for (const c of this.server.sessions()) {
      if (c.user !== null && usernameKey(c.user) === key && this.server.disconnect(c.id, reason)) count++;
    }
    return count;
  }
}
