// The appliance host: everything the desktop appliance runs, in plain Node (no Electron),
// behind the one API of api.ts. It owns the data directory (the configuration files in
// <data>/config, the account store, the TLS certificate, new accounts' mail), and puts
// together the parts that do the work:
//   configuration.ts   the Courier-format settings: shown, checked, applied, watched
//   imap-runner.ts     the IMAP listeners, TLS, logins and the live sessions
//   accounts-service.ts  accounts with their usage
//   sharing-service.ts  folders shared with other accounts (their ACLs)
//   index-jobs.ts      the first indexing of a Maildir that was moved in
//   connection-info.ts what a mail program needs to connect
//   network-services.ts the setup files for mail programs, and the DNS-SD announcement
//   overview.ts        the first screen's figures and warnings (status.ts: the status)
//   data-dir.ts        the data directory made on a first start, its lock, the account store
//   admin-auth.ts, lock.ts  the GUI password, and one appliance per data directory
// plus the log ring and the event stream the GUI listens to. Electron's main process and
// the headless command both just start it.
//
// Arguments are checked once, by the transports (invokeApi in validate.ts): the host's
// methods take typed values from trusted callers.

import { join, resolve } from 'node:path';
import { testAccountStore, usernameKey, type AccountStore } from '../accounts/index.js';
import { formatWarning } from '../config/index.js';
import type { Logger, LogLevel as ServerLogLevel } from '../imap/contracts.js';
import { AccountsService } from './accounts-service.js';
import { SharingService } from './sharing-service.js';
import {
  ApiError,
  type AccountView,
  type ApplianceApi,
  type ApplianceEvent,
  type ApplianceListener,
  type ApplianceStatus,
  type ApplyResult,
  type ConfigFileName,
  type ConnectionInfoView,
  type ClientSetupView,
  type ImportInput,
  type JobView,
  type MaildirInspection,
  type OverviewView,
  type LogFilter,
  type LogLevel,
  type LogLine,
  type MailSourceInput,
  type MailSourceTest,
  type AccountStoreTest,
  type MailSourceView,
  type NewAccountInput,
  type QuotaInput,
  type SessionView,
  type SettingChanges,
  type SettingsView,
  type ShareInput,
  type SharesView,
  type ValidationResult,
} from './api.js';
import { Configuration } from './configuration.js';
import { describeConnection } from './connection-info.js';
import type { HostContext } from './host-context.js';
import { ImapRunner } from './imap-runner.js';
import { AdminAuth } from './admin-auth.js';
import { FailedLogins } from './failed-logins.js';
import { IndexJobs } from './index-jobs.js';
import { ImportJobs } from './import-jobs.js';
import { LogRing, formatLogMessage, type LogFields } from './log.js';
import { MailSources } from './mail-sources.js';
import { NetworkServices } from './network-services.js';
import { buildOverview, diskOf } from './overview.js';
import { configDirOf, defaultDataDir } from './paths.js';
import { openDataDir } from './data-dir.js';
import { buildStatus } from './status.js';

export interface ApplianceHostOptions {
  /** Default: the per-user data directory of the operating system (paths.ts). */
  dataDir?: string;
  /** Where log lines also go (the headless command writes them to stderr). */
  logger?: Logger;
  /** Keep debug lines in the log too. */
  verbose?: boolean;
  /** Wait after a failed login (the authenticator's default is Courier's 5 s). */
  failureDelayMs?: number;
  /** How long stop() lets sessions finish. Default 10 s. */
  stopGraceMs?: number;
  /** Lines kept for the log view. Default 2000. */
  logCapacity?: number;
  /** Apply edits made to the configuration files by other programs (default true). */
  watchConfig?: boolean;
  /** Port of the HTTP server with the mail programs' setup files; null or absent: none. */
  setupPort?: number | null;
  /** Announce the IMAP listeners with DNS-SD while they are on the network (default false). */
  announce?: boolean;
}

export class ApplianceHost implements ApplianceApi {
  readonly dataDir: string;
  readonly configDir: string;
  private readonly log: LogRing;
  private readonly listeners = new Set<ApplianceListener>();
  private readonly config: Configuration;
  private runner!: ImapRunner;
  private jobs!: IndexJobs;
  private imports!: ImportJobs;
  private accountsService!: AccountsService;
  private sharing!: SharingService;
  private readonly ctx: HostContext;
  private closed = false;
  private readonly failedLogins = new FailedLogins();
  private readonly pollingFolders = new Set<string>();
  private network!: NetworkServices;
  private sources!: MailSources;
  admin!: AdminAuth;
  private releaseLock: () => Promise<void> = async () => undefined;

  private constructor(
    private readonly options: ApplianceHostOptions,
    readonly accounts: AccountStore,
  ) {
    this.dataDir = accounts.dataDir;
    this.configDir = configDirOf(this.dataDir);
    this.log = new LogRing(options.logCapacity ?? 2000);
    this.ctx = {
      dataDir: this.dataDir,
      configDir: this.configDir,
      accounts,
      record: (level, account, message, fields) => this.record(level, account, message, fields),
      serverLogger: () => ({ log: (level, message, fields) => this.serverLog(level, message, fields) }),
      emit: (event) => this.emit(event),
      emitStatus: () => this.emitStatus(),
      closed: () => this.closed,
    };
    this.config = new Configuration(this.ctx);
    accounts.onChange(() => {
      this.accountsService?.forgetUsage();
      this.emit({ type: 'accounts' });
      this.emitStatus();
    });
  }

  /**
   * Open the data directory, creating what is missing on a first start (the directory,
   * the configuration files with their defaults, the account store). Does not listen yet.
   */
  static async open(options: ApplianceHostOptions = {}): Promise<ApplianceHost> {
    const dataDir = resolve(options.dataDir ?? defaultDataDir());
    const { created, releaseLock, accounts, accountsProblem } = await openDataDir(dataDir);
    const host = new ApplianceHost(options, accounts);
    host.releaseLock = releaseLock;
    host.admin = await AdminAuth.open(dataDir);
    for (const path of created) host.record('info', null, 'configuration file created with the defaults', { file: path });
    let problem: string | null;
    try {
      // A broken file must not keep the GUI from coming up: the server then runs on nothing
      // (state error) and the status says what to fix.
      problem = await host.config.read();
    } catch (err) {
      await accounts.close();
      await releaseLock();
      throw err;
    }
    if (accountsProblem) {
      host.record('error', null, accountsProblem);
      problem ??= accountsProblem;
    }
    for (const w of host.config.loaded.warnings) if (w.kind !== 'ignored') host.record('warn', null, formatWarning(w));
    const runner = new ImapRunner(host.ctx, options, host.config.loaded.settings);
    runner.accountsProblem = accountsProblem;
    if (problem) runner.quietState('error', problem);
    host.runner = runner;
    host.config.attach(runner);
    host.jobs = new IndexJobs(host.ctx, runner, () => host.config.loaded.settings, (key) => host.accountsService.forgetUsage(key));
    host.accountsService = new AccountsService(host.ctx, runner, host.jobs);
    host.imports = new ImportJobs(host.ctx, runner.opener, () => host.jobs.newJobId(), (user) => host.accountsService.forgetUsage(usernameKey(user)));
    host.sources = await MailSources.open(host.ctx, runner.opener, undefined, () => host.config.loaded.settings.fetchMaxMessageSize);
    host.sharing = new SharingService(host.ctx, runner);
    host.network = new NetworkServices({
      setupPort: options.setupPort ?? null,
      announce: options.announce ?? false,
      endpoints: () => runner.endpoints(),
      tls: () => runner.tls,
      log: (level, message) => host.record(level, null, message),
    });
    return host;
  }

  /**
   * Start the IMAP listeners. A failure (a port in use, a bad certificate) does not throw:
   * the status says what is wrong, so that the GUI can be used to fix it.
   */
  async start(): Promise<ApplianceStatus> {
    if (this.closed) throw new ApiError('unavailable', 'the appliance has been stopped');
    if (this.options.watchConfig !== false) await this.config.watchFiles();
    if (this.runner.state === 'error' && this.runner.problem?.startsWith('configuration error')) return this.statusNow();
    await this.runner.start(this.config.loaded.settings);
    await this.network.sync();
    void this.jobs.indexWhereNeeded();
    this.sources.start();
    return this.statusNow();
  }

  /** Start the listeners again after stopServer (or a failure). */
  async startServer(): Promise<ApplianceStatus> {
    if (this.closed) throw new ApiError('unavailable', 'the appliance has been stopped');
    if (this.runner.running) return this.statusNow();
    this.runner.heldStopped = false;
    await this.runner.start(this.config.loaded.settings);
    await this.network.sync();
    this.record('info', null, this.runner.running ? 'server started from the appliance' : `server could not start: ${this.runner.problem ?? 'unknown problem'}`);
    return this.statusNow();
  }

  /** Stop the listeners (sessions told BYE); they stay stopped until startServer. */
  async stopServer(): Promise<ApplianceStatus> {
    if (this.closed) throw new ApiError('unavailable', 'the appliance has been stopped');
    this.runner.heldStopped = true;
    if (this.runner.running) {
      this.runner.setState('stopping', null);
      await this.runner.stop('Server stopped by the administrator.');
      this.record('info', null, 'server stopped from the appliance');
    }
    this.runner.setState('stopped', null);
    await this.network.sync();
    return this.statusNow();
  }

  /** Stop everything: running jobs, the sessions (told BYE), the listeners, the account store. */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.runner.setState('stopping', null);
    await this.config.close();
    await this.network.stop();
    await this.jobs.cancel();
    await this.imports.cancelAll();
    await this.sources.close();
    await this.runner.stop('Server shutting down.');
    await this.runner.close();
    await this.accounts.close();
    this.runner.setState('stopped', null);
    this.listeners.clear();
    await this.releaseLock();
  }

  // Mail sources (mail-sources.ts over server/fetch/)

  async listMailSources(account?: string): Promise<MailSourceView[]> {
    return this.sources.list(account);
  }
  async addMailSource(account: string, input: MailSourceInput): Promise<MailSourceView> {
    return this.sources.add(account, input);
  }
  updateMailSource(id: number, input: MailSourceInput): Promise<MailSourceView> {
    return this.sources.update(id, input);
  }
  removeMailSource(id: number): Promise<void> {
    return this.sources.remove(id);
  }
  testMailSource(input: MailSourceInput, id?: number): Promise<MailSourceTest> {
    return this.sources.test(input, id);
  }
  /** Settings' "Test connection" for ACCOUNTS; the store in use is not touched (ACCOUNTS is read at start). */
  async testAccountStore(value: string): Promise<AccountStoreTest> {
    const result = await testAccountStore(value, this.dataDir);
    this.record(result.ok ? 'info' : 'warn', null, `account store test: ${result.message}`);
    return result;
  }
  async mailSourcesProblem(): Promise<string | null> {
    return this.sources.problem;
  }

  fetchMailSource(id: number): Promise<MailSourceView> {
    return this.sources.fetch(id);
  }

  // Imports (import-jobs.ts over server/delivery/import.ts)

  async startImport(input: ImportInput): Promise<JobView> {
    return this.imports.start(input);
  }
  cancelJob(id: number): Promise<JobView> {
    return this.imports.cancel(id);
  }

  subscribe(listener: ApplianceListener): () => void {
    if (typeof listener !== 'function') throw new ApiError('invalid-argument', 'the listener must be a function', 'listener');
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  // ---------------------------------------------------------------------------
  // Status

  async getStatus(): Promise<ApplianceStatus> {
    return this.statusNow();
  }

  private async statusNow(): Promise<ApplianceStatus> {
    const accounts = this.closed ? [] : await this.accounts.list();
    return buildStatus({
      accounts,
      runner: this.runner,
      configProblem: this.config.fileProblem,
      dataDir: this.dataDir,
      configDir: this.configDir,
      jobs: [...this.jobs.views(), ...this.imports.views()],
      adminPassword: this.admin.isSet,
    });
  }

  async getOverview(): Promise<OverviewView> {
    const accounts = this.closed ? [] : await this.accountsService.listAccounts();
    const mail = join(this.dataDir, 'mail');
    return buildOverview({
      status: await this.statusNow(),
      accounts,
      disk: (await diskOf(mail)) ?? (await diskOf(this.dataDir)),
      failedLogins: this.failedLogins.view(),
      settingWarnings: this.config.loaded.warnings.filter((w) => w.kind !== 'ignored').map(formatWarning),
      pollingFolders: [...this.pollingFolders],
      setupPort: this.network.setupPort,
      announced: this.network.announced,
      announcedAs: this.network.announcedAs,
    });
  }

  async setAdminPassword(password: string): Promise<void> {
    const problem = AdminAuth.problem(password);
    if (problem) throw new ApiError('invalid-argument', problem, 'password');
    await this.admin.set(password);
    this.record('info', null, 'GUI password set');
    this.emitStatus();
  }

  // ---------------------------------------------------------------------------
  // Settings (configuration.ts)

  getSettings(): Promise<SettingsView> {
    return this.config.getSettings();
  }

  validateSettings(changes: SettingChanges): Promise<ValidationResult> {
    return this.config.validateSettings(changes);
  }

  async applySettings(changes: SettingChanges): Promise<ApplyResult> {
    const result = await this.config.applySettings(changes);
    await this.network.sync();
    return result;
  }

  /** ADDRESS and SSLADDRESS: 0 (every address) or 127.0.0.1 (this computer only). */
  setNetworkAccess(on: boolean): Promise<ApplyResult> {
    const address = on ? '0' : '127.0.0.1';
    return this.applySettings({ ADDRESS: address, SSLADDRESS: address });
  }

  async importCourierConfig(text: string, which: ConfigFileName): Promise<ApplyResult> {
    const result = await this.config.importCourierConfig(text, which);
    await this.network.sync();
    return result;
  }

  exportCourierConfig(which: ConfigFileName): Promise<string> {
    return this.config.exportCourierConfig(which);
  }

  // ---------------------------------------------------------------------------
  // Sessions (imap-runner.ts)

  async listSessions(): Promise<SessionView[]> {
    return this.runner.sessionViews();
  }

  async disconnectSession(id: number): Promise<boolean> {
    const done = this.runner.disconnect(id, 'Disconnected by the administrator.');
    if (done) this.record('info', this.runner.userOf(id) ?? null, `session ${id} disconnected from the appliance`);
    return done;
  }

  // ---------------------------------------------------------------------------
  // Accounts (accounts-service.ts) and their indexing (index-jobs.ts)

  listAccounts(): Promise<AccountView[]> {
    return this.accountsService.listAccounts();
  }

  addAccount(input: NewAccountInput): Promise<AccountView> {
    return this.accountsService.addAccount(input);
  }

  setPassword(username: string, password: string): Promise<void> {
    return this.accountsService.setPassword(username, password);
  }

  setQuota(username: string, quota: QuotaInput | null): Promise<AccountView> {
    return this.accountsService.setQuota(username, quota);
  }

  setMailhost(username: string, mailhost: string | null): Promise<AccountView> {
    return this.accountsService.setMailhost(username, mailhost);
  }

  setSharable(username: string, sharable: string | null): Promise<AccountView> {
    return this.accountsService.setSharable(username, sharable);
  }

  disableAccount(username: string): Promise<void> {
    return this.accountsService.disableAccount(username);
  }

  enableAccount(username: string): Promise<void> {
    return this.accountsService.enableAccount(username);
  }

  removeAccount(username: string, keepMail: boolean): Promise<void> {
    return this.accountsService.removeAccount(username, keepMail);
  }

  // Shared folders (sharing-service.ts): folders' ACL entries for other accounts.

  listShares(): Promise<SharesView> {
    return this.sharing.listShares();
  }

  async shareFolder(input: ShareInput): Promise<SharesView> {
    const view = await this.sharing.shareFolder(input);
    this.emit({ type: 'accounts' });
    return view;
  }

  async unshareFolder(owner: string, folder: string, identifier: string): Promise<SharesView> {
    const view = await this.sharing.unshareFolder(owner, folder, identifier);
    this.emit({ type: 'accounts' });
    return view;
  }

  inspectMaildir(path: string): Promise<MaildirInspection> {
    return this.accountsService.inspectMaildir(path);
  }

  indexAccount(username: string): Promise<JobView> {
    return this.jobs.indexAccount(username);
  }

  // ---------------------------------------------------------------------------
  // Connecting a client (connection-info.ts)

  async connectionInfo(): Promise<ConnectionInfoView> {
    return describeConnection(this.runner.endpoints(), this.runner.tls);
  }

  async clientSetup(username: string): Promise<ClientSetupView> {
    return this.network.clientSetup(username);
  }

  // ---------------------------------------------------------------------------
  // Log

  async getLog(filter?: LogFilter): Promise<LogLine[]> {
    return this.log.query(filter ?? {});
  }

  private serverLog(level: ServerLogLevel, message: string, fields?: LogFields): void {
    this.options.logger?.log(level, message, fields);
    if (message === 'LOGIN FAILED') this.failedLogins.add(String(fields?.ip ?? '?'), String(fields?.user ?? ''));
    else if (message === 'cannot watch folder, polling instead' && this.pollingFolders.size < 1000) {
      this.pollingFolders.add(`${typeof fields?.user === 'string' ? `${fields.user}: ` : ''}${String(fields?.folder ?? '?')}`);
    }
    if (level === 'debug' && !this.options.verbose) return;
    const conn = typeof fields?.conn === 'number' ? fields.conn : undefined;
    const account = typeof fields?.user === 'string' ? fields.user : conn !== undefined ? (this.runner?.userOf(conn) ?? null) : null;
    this.addLine(level, account, formatLogMessage(message, fields));
  }

  /** A line of the appliance's own. */
  record(level: LogLevel, account: string | null, message: string, fields?: LogFields): void {
    this.options.logger?.log(level, account ? `${message} (${account})` : message, fields);
    this.addLine(level, account, formatLogMessage(message, fields));
  }

  private addLine(level: LogLevel, account: string | null, message: string): void {
    const line = this.log.add(level, account, message);
    this.emit({ type: 'log', line });
  }

  // ---------------------------------------------------------------------------
  // Events

  private emitStatus(): void {
    if (this.listeners.size === 0 || !this.runner) return;
    void this.statusNow().then(
      (status) => this.emit({ type: 'status', status }),
      () => undefined,
    );
  }

  private emit(event: ApplianceEvent): void {
    // Settings applied from a file edit move the listeners too: the setup server follows.
    if (event.type === 'settings' && this.network && !this.closed) void this.network.sync();
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        /* a listener's failure is its own business */
      }
    }
  }
}
