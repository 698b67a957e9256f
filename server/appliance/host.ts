// The appliance host: everything the desktop appliance runs, in plain Node (no Electron),
// behind the one API of api.ts. It owns the data directory (the configuration files in
// <data>/config, the account store, the TLS certificate, new accounts' mail), the IMAP
// listeners, a ring buffer of log lines, and long work such as the first indexing of a
// large Maildir. Electron's main process and the headless command both just start it.
//
// Settings changes are applied with as little disturbance as possible: connection limits
// at once, protocol settings for sessions that connect from then on (sessions keep the
// settings they started with), account-related ones at the next login; only a change of
// addresses, ports or TLS restarts the listeners (ImapServer cannot swap its listeners
// while keeping its sessions, so those sessions are told BYE and reconnect).
//
// Every public method checks its arguments itself (validate.ts): the transports check
// them too, but the host does not count on it.

import { promises as fs, existsSync } from 'node:fs';
import net from 'node:net';
import { hostname as osHostname, networkInterfaces } from 'node:os';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { AccountAuthenticator, AccountError, AccountStore, usernameKey, type Account } from '../accounts/index.js';
import {
  ConfigError,
  SETTINGS,
  SETTINGS_BY_NAME,
  SettingValueError,
  formatWarning,
  parseCourierConfig,
  resolveEndpoints,
  sessionSettingsFrom,
  settingsFromDocuments,
  writeFileAtomic,
  type AnySettingSpec,
  type CourierConfig,
  type ImapdSettings,
  type LoadedSettings,
} from '../config/index.js';
import type { ParseContext } from '../config/settings.js';
import type { Authenticator, Logger, LogLevel as ServerLogLevel, SessionOptions, SessionSettings } from '../imap/host.js';
import { startSession as startImapSession } from '../imap/session.js';
import { SERVER_VERSION } from '../imap/version.js';
import { openMaildirStore } from '../maildir/index.js';
import { ImapServer, TlsError, loadTlsMaterial, type ConnectionInfo, type ServerSettings, type TlsMaterial } from '../net/index.js';
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
  type JobView,
  type LogFilter,
  type LogLevel,
  type LogLine,
  type NewAccountInput,
  type ServerState,
  type SessionView,
  type SettingChanges,
  type SettingGroup,
  type SettingProblem,
  type SettingView,
  type SettingsView,
  type ValidationResult,
} from './api.js';
import { APPLIANCE_FIXED_SETTINGS, defaultConfigText } from './defaults.js';
import { countMaildir, indexMaildir, needsIndexing, type Usage } from './indexer.js';
import { LogRing, formatLogMessage, type LogFields } from './log.js';
import { configDirOf, defaultDataDir } from './paths.js';
import { checkArgs } from './validate.js';

const CONFIG_FILES: readonly ConfigFileName[] = ['imapd', 'imapd-ssl'];

/** Fields whose change needs the listeners restarted. */
const LISTENER_FIELDS: ReadonlySet<keyof ImapdSettings> = new Set([
  'address', 'ports', 'sslAddress', 'sslPorts', 'plainStart', 'sslStart', 'startTls',
  'tlsCertFile', 'tlsPrivateKeyFile', 'tlsMinVersion', 'startTlsMinVersion', 'tlsCipherList',
] as const);
/** Fields the running listeners read at each new connection. */
const LIVE_FIELDS: ReadonlySet<keyof ImapdSettings> = new Set(['maxDaemons', 'maxPerIp'] as const);
/** Fields the account authenticator is built with (they apply from the next login). */
const AUTHENTICATOR_FIELDS: ReadonlySet<keyof ImapdSettings> = new Set([
  'maildirPath', 'mkhomedirSkel', 'useLocks', 'keywords', 'enhancedIdle', 'idleTimeout', 'trashFolder', 'emptyTrash', 'loginCacheTtl',
] as const);

const GROUP_OF: Readonly<Record<string, SettingGroup>> = {
  ADDRESS: 'network', PORT: 'network', IMAPDSTART: 'network', SSLPORT: 'network', SSLADDRESS: 'network', IMAPDSSLSTART: 'network',
  MAXDAEMONS: 'network', MAXPERIP: 'network', IMAP_MAXLINE: 'network', IMAP_MAXMSGSIZE: 'network', LOGIN_CACHE_TTL: 'network',
  IMAP_CAPABILITY: 'capabilities', IMAP_CAPABILITY_TLS: 'capabilities', IMAP_KEYWORDS: 'capabilities',
  IMAP_DISABLETHREADSORT: 'capabilities', IMAP_ID_FIELDS: 'capabilities', IMAP_NAMESPACE_PREFIX: 'capabilities',
  IMAP_IDLE_TIMEOUT: 'idle', IMAP_ENHANCEDIDLE: 'idle', IMAP_USELOCKS: 'idle',
  IMAPDSTARTTLS: 'tls', IMAP_TLS_REQUIRED: 'tls', TLS_CERTFILE: 'tls', TLS_PRIVATE_KEYFILE: 'tls', TLS_PROTOCOL: 'tls',
  TLS_STARTTLS_PROTOCOL: 'tls', TLS_CIPHER_LIST: 'tls',
  IMAP_TRASHFOLDERNAME: 'folders', IMAP_MOVE_EXPUNGE_TO_TRASH: 'folders', IMAP_EMPTYTRASH: 'folders', MAILDIRPATH: 'folders',
  AUTH_MKHOMEDIR_SKEL: 'folders',
};

const USAGE_TTL_MS = 10_000;
const SESSIONS_EVENT_DELAY_MS = 150;
const SESSIONS_TICK_MS = 2000;
const PROGRESS_EVENT_MS = 200;

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
}

interface Job {
  view: JobView;
  key: string;
  cancelled: boolean;
  done: Promise<void>;
  lastEventAt: number;
}

function settingsEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function mapAccountError(err: unknown): never {
  if (err instanceof AccountError) {
    switch (err.code) {
      case 'invalid-username': throw new ApiError('invalid-argument', err.message, 'username');
      case 'invalid-password': throw new ApiError('invalid-argument', err.message, 'password');
      case 'invalid-value': throw new ApiError('invalid-argument', err.message, /maildir/.test(err.message) ? 'maildir' : undefined);
      case 'exists': throw new ApiError('exists', err.message, 'username');
      case 'not-found': throw new ApiError('not-found', err.message, 'username');
      default: throw new ApiError('unavailable', err.message);
    }
  }
  throw err;
}

async function isDirectory(path: string): Promise<boolean> {
  return fs.stat(path).then((s) => s.isDirectory(), () => false);
}

/** Try to listen on an address and port, and let go at once. Null when it could be used. */
function probePort(address: string | null, port: number): Promise<string | null> {
  return new Promise((resolvePromise) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      const where = `${address ?? 'all addresses'} port ${port}`;
      resolvePromise(
        err.code === 'EADDRINUSE' ? `port ${port} is in use by another program (${where})`
        : err.code === 'EACCES' ? `port ${port} needs administrator privileges (ports below 1024; see PORTS.md), or pick one from 1024`
        : err.code === 'EADDRNOTAVAIL' ? `this machine has no address ${address}`
        : `cannot listen on ${where}: ${err.message}`,
      );
    });
    server.listen({ port, ...(address === null ? {} : { host: address }), exclusive: true }, () => server.close(() => resolvePromise(null)));
  });
}

export class ApplianceHost implements ApplianceApi {
  readonly dataDir: string;
  readonly configDir: string;
  private readonly log: LogRing;
  private readonly listeners = new Set<ApplianceListener>();
  private loaded!: LoadedSettings;
  private server: ImapServer | null = null;
  /** The object the running ImapServer reads its limits from at each connection. */
  private serverSettings: ServerSettings | null = null;
  private sessionSettings!: SessionSettings;
  private authenticator!: AccountAuthenticator;
  private readonly retiredAuthenticators = new Set<AccountAuthenticator>();
  /** Configuration files that could not be read or parsed, with why. */
  private readonly unreadable = new Map<ConfigFileName, string>();
  private tls: TlsMaterial | null = null;
  private state: ServerState = 'stopped';
  private problem: string | null = null;
  private startedAt: number | null = null;
  private readonly jobs = new Map<number, Job>();
  private nextJobId = 1;
  private readonly usageCache = new Map<string, { usage: Usage | null; at: number }>();
  /** Account of each connection, for attributing log lines. */
  private readonly userOfConnection = new Map<number, string>();
  private sessionsTimer: NodeJS.Timeout | null = null;
  private sessionsTicker: NodeJS.Timeout | null = null;
  /** Settings changes are applied one at a time. */
  private settingsQueue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly options: ApplianceHostOptions,
    readonly accounts: AccountStore,
  ) {
    this.dataDir = accounts.dataDir;
    this.configDir = configDirOf(this.dataDir);
    this.log = new LogRing(options.logCapacity ?? 2000);
    accounts.onChange(() => {
      this.usageCache.clear();
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
    await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
    const configDir = configDirOf(dataDir);
    await fs.mkdir(configDir, { recursive: true, mode: 0o700 });
    const created: string[] = [];
    for (const which of CONFIG_FILES) {
      const path = join(configDir, which);
      if (!existsSync(path)) {
        await writeFileAtomic(path, defaultConfigText(which), { mode: 0o644 });
        created.push(path);
      }
    }
    const accounts = AccountStore.open(dataDir);
    const host = new ApplianceHost(options, accounts);
    for (const path of created) host.record('info', null, 'configuration file created with the defaults', { file: path });
    try {
      await host.readConfiguration();
    } catch (err) {
      accounts.close();
      throw err;
    }
    for (const w of host.loaded.warnings) if (w.kind !== 'ignored') host.record('warn', null, formatWarning(w));
    host.sessionSettings = sessionSettingsFrom(host.loaded.settings);
    host.authenticator = host.makeAuthenticator(host.loaded.settings);
    return host;
  }

  /**
   * Read the configuration files. A broken file must not keep the GUI from coming up: the
   * server then runs on nothing (state error) and the status says what to fix. A file with
   * a bad value can be fixed in the GUI (the value is rewritten in place, comments kept);
   * a file that cannot be read at all is never rewritten, only replaced by an import.
   */
  private async readConfiguration(): Promise<void> {
    const files = {} as Record<ConfigFileName, CourierConfig | null>;
    this.unreadable.clear();
    let firstError: ConfigError | null = null;
    for (const which of CONFIG_FILES) {
      const path = join(this.configDir, which);
      let text: string | null = null;
      try {
        text = await fs.readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          firstError ??= new ConfigError(path, 0, undefined, `cannot read the file: ${(err as Error).message}`);
          this.unreadable.set(which, firstError.message);
        }
      }
      try {
        files[which] = text === null ? null : parseCourierConfig(text, path);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        firstError ??= err;
        this.unreadable.set(which, err.message);
        files[which] = null;
      }
    }
    if (!firstError) {
      try {
        this.loaded = settingsFromDocuments(files, this.configDir);
        return;
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        firstError = err;
      }
    }
    this.problem = `configuration error: ${firstError.message}`;
    this.state = 'error';
    this.record('error', null, this.problem);
    this.loaded = { ...settingsFromDocuments({ imapd: null, 'imapd-ssl': null }, this.configDir), files };
  }

  /**
   * Start the IMAP listeners. A failure (a port in use, a bad certificate) does not throw:
   * the status says what is wrong, so that the GUI can be used to fix it.
   */
  async start(): Promise<ApplianceStatus> {
    if (this.closed) throw new ApiError('unavailable', 'the appliance has been stopped');
    if (this.state === 'error' && this.problem?.startsWith('configuration error')) return this.statusNow();
    await this.startServer(this.loaded.settings);
    void this.indexWhereNeeded();
    return this.statusNow();
  }

  /** Stop everything: running jobs, the sessions (told BYE), the listeners, the account store. */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.setState('stopping', null);
    for (const job of this.jobs.values()) job.cancelled = true;
    await Promise.all([...this.jobs.values()].map((j) => j.done));
    await this.stopServer('Server shutting down.');
    await Promise.all([this.authenticator, ...this.retiredAuthenticators].map((a) => a.idle()));
    if (this.sessionsTimer) clearTimeout(this.sessionsTimer);
    if (this.sessionsTicker) clearInterval(this.sessionsTicker);
    this.accounts.close();
    this.setState('stopped', null);
    this.listeners.clear();
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
    checkArgs('getStatus', []);
    return this.statusNow();
  }

  private statusNow(): ApplianceStatus {
    const accounts = this.closed ? [] : this.accounts.list();
    const steps: string[] = [];
    if (this.state === 'error' && this.problem) steps.push(`Fix the problem in Settings: ${this.problem}`);
    if (accounts.length === 0) {
      steps.push('Add an account (Accounts screen): a username and a password for your mail program. Its Maildir is created for you.');
    } else if (!accounts.some((a) => a.lastLoginAt !== null)) {
      steps.push('Set up your mail program with the details on the "Connect a client" screen, and log in with the account\'s username and password.');
    }
    return {
      state: this.state,
      problem: this.problem,
      version: SERVER_VERSION,
      dataDir: this.dataDir,
      configDir: this.configDir,
      startedAt: this.startedAt,
      listeners: this.server?.endpoints().map((l) => ({ kind: l.kind, address: l.address, port: l.port, startTls: l.startTls })) ?? [],
      sessions: this.server?.sessions().length ?? 0,
      accounts: accounts.length,
      tls: this.tls
        ? {
            fingerprint256: this.tls.fingerprint256,
            subject: this.tls.subject,
            validFrom: this.tls.validFrom.getTime(),
            validTo: this.tls.validTo.getTime(),
            source: this.tls.source,
            certFile: this.tls.certFile,
            warnings: [...this.tls.warnings],
          }
        : null,
      firstSteps: steps,
      jobs: [...this.jobs.values()].map((j) => ({ ...j.view })),
    };
  }

  // ---------------------------------------------------------------------------
  // Settings

  async getSettings(): Promise<SettingsView> {
    checkArgs('getSettings', []);
    const values = effectiveValues(this.loaded.files);
    const settings: SettingView[] = [];
    for (const spec of SETTINGS) {
      if (APPLIANCE_FIXED_SETTINGS.has(spec.name)) continue;
      const source = this.loaded.sources.get(spec.name);
      const written = this.loaded.files[spec.file]?.lastAssignment(spec.name);
      settings.push({
        name: spec.name,
        file: spec.file,
        group: GROUP_OF[spec.name] ?? 'network',
        kind: spec.kind,
        default: spec.default,
        meaning: spec.meaning,
        ...(spec.choices ? { choices: [...spec.choices] } : {}),
        value: values.get(spec.name) ?? '',
        source: source ? { file: source.file, line: source.line } : 'default',
        reference: written && written.parts.some((p) => 'variable' in p) ? written.valueText : null,
        applies: LISTENER_FIELDS.has(spec.field) ? 'listeners' : LIVE_FIELDS.has(spec.field) ? 'live' : 'new-sessions',
        ours: spec.ours === true,
      });
    }
    return {
      configDir: this.configDir,
      files: { imapd: join(this.configDir, 'imapd'), 'imapd-ssl': join(this.configDir, 'imapd-ssl') },
      settings,
      warnings: this.loaded.warnings.filter((w) => w.kind !== 'ignored').map(formatWarning),
    };
  }

  async validateSettings(changes: SettingChanges): Promise<ValidationResult> {
    const [checked] = checkArgs('validateSettings', [changes]) as [SettingChanges];
    return (await this.evaluateChanges(checked)).result;
  }

  async applySettings(changes: SettingChanges): Promise<ApplyResult> {
    const [checked] = checkArgs('applySettings', [changes]) as [SettingChanges];
    return this.serialized(async () => {
      const { result, documents } = await this.evaluateChanges(checked);
      if (!result.ok || !documents) return { ...result, applied: false, restartedListeners: false, sessionsEnded: 0 };
      return this.commit(documents, result, Object.keys(checked));
    });
  }

  async importCourierConfig(text: string, which: ConfigFileName): Promise<ApplyResult> {
    const [checkedText, checkedWhich] = checkArgs('importCourierConfig', [text, which]) as [string, ConfigFileName];
    return this.serialized(async () => {
      let imported: CourierConfig;
      try {
        imported = parseCourierConfig(checkedText, checkedWhich);
      } catch (err) {
        if (err instanceof ConfigError) {
          const result: ValidationResult = { ok: false, errors: [{ setting: err.setting ?? null, message: err.message }], warnings: [], effects: [] };
          return { ...result, applied: false, restartedListeners: false, sessionsEnded: 0 };
        }
        throw err;
      }
      const documents = this.cloneDocuments(checkedWhich);
      documents[checkedWhich] = imported;
      const changed = SETTINGS.filter((s) => s.file === checkedWhich).map((s) => s.name);
      const result = await this.evaluateDocuments(documents, new Set(changed), null);
      if (!result.ok) return { ...result, applied: false, restartedListeners: false, sessionsEnded: 0 };
      return this.commit(documents, result, [`the whole ${checkedWhich} file`]);
    });
  }

  async exportCourierConfig(which: ConfigFileName): Promise<string> {
    const [checked] = checkArgs('exportCourierConfig', [which]) as [ConfigFileName];
    try {
      return await fs.readFile(join(this.configDir, checked), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return defaultConfigText(checked);
      throw err;
    }
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.settingsQueue.then(work, work);
    this.settingsQueue = run.catch(() => undefined);
    return run;
  }

  /** Copies of the documents to edit; refused while a file cannot be read (it would be overwritten). */
  private cloneDocuments(except?: ConfigFileName): Record<ConfigFileName, CourierConfig> {
    const out = {} as Record<ConfigFileName, CourierConfig>;
    for (const which of CONFIG_FILES) {
      const problem = which === except ? undefined : this.unreadable.get(which);
      if (problem) {
        throw new ApiError('conflict', `${problem}. Fix the file ${join(this.configDir, which)} by hand, or import a corrected ${which} file; until then it is not changed here.`, which);
      }
      const doc = this.loaded.files[which];
      out[which] = parseCourierConfig(doc ? doc.serialize() : '', join(this.configDir, which));
    }
    return out;
  }

  /** Check each changed value on its own, then the whole configuration they make. */
  private async evaluateChanges(changes: SettingChanges): Promise<{ result: ValidationResult; documents: Record<ConfigFileName, CourierConfig> | null }> {
    const errors: SettingProblem[] = [];
    const warnings: SettingProblem[] = [];
    const specs: [AnySettingSpec, string | null][] = [];
    for (const [name, value] of Object.entries(changes)) {
      const spec = SETTINGS_BY_NAME.get(name);
      if (!spec) {
        errors.push({ setting: name, message: `${name} is not a setting this server knows` });
        continue;
      }
      if (APPLIANCE_FIXED_SETTINGS.has(name)) {
        errors.push({ setting: name, message: `${name} cannot be changed here: the appliance keeps its data in ${this.dataDir}` });
        continue;
      }
      if (value !== null) {
        const ctx: ParseContext = {
          configDir: this.configDir,
          warn: (message) => warnings.push({ setting: name, message }),
        };
        try {
          spec.parse(value, ctx);
        } catch (err) {
          if (!(err instanceof SettingValueError)) throw err;
          errors.push({ setting: name, message: err.message });
          continue;
        }
      }
      specs.push([spec, value]);
    }
    // The valid values are checked together too (ports in use, a certificate that does not
    // load), so that every problem is reported at once, not one after the other.
    const documents = this.cloneDocuments();
    for (const [spec, value] of specs) {
      if (value === null) documents[spec.file].removeValue(spec.name);
      else documents[spec.file].setValue(spec.name, value);
    }
    const whole = await this.evaluateDocuments(documents, new Set(specs.map(([s]) => s.name)), warnings);
    const result: ValidationResult = { ...whole, ok: whole.ok && errors.length === 0, errors: [...errors, ...whole.errors] };
    if (errors.length) result.effects = [];
    return { result, documents: result.ok ? documents : null };
  }

  /** The whole configuration that `documents` make: errors, new warnings, free ports, what applying does. */
  private async evaluateDocuments(
    documents: Record<ConfigFileName, CourierConfig>,
    changed: Set<string>,
    earlierWarnings: SettingProblem[] | null,
  ): Promise<ValidationResult> {
    const warnings: SettingProblem[] = earlierWarnings ? [...earlierWarnings] : [];
    let next: LoadedSettings;
    try {
      next = settingsFromDocuments(documents, this.configDir);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return { ok: false, errors: [{ setting: err.setting ?? null, message: err.reason }], warnings, effects: [] };
    }
    const before = new Set(this.loaded.warnings.map(formatWarning));
    for (const w of next.warnings) {
      if (w.kind === 'ignored' || before.has(formatWarning(w))) continue;
      if (warnings.some((x) => x.setting === (w.setting ?? null) && x.message === w.message)) continue;
      warnings.push({ setting: w.setting ?? null, message: w.message });
    }
    const errors: SettingProblem[] = [];
    const s = next.settings;
    const current = this.loaded.settings;
    const restart = this.listenersMustRestart(current, s);

    if (restart || this.server === null) {
      // Ports: not twice, and free (ports we hold now count as free: we let go of them first).
      const held = this.server?.endpoints() ?? [];
      const wanted = [
        ...(s.plainStart ? resolveEndpoints(s.ports, s.address).map((e) => ({ ...e, setting: 'PORT' })) : []),
        ...(s.sslStart ? resolveEndpoints(s.sslPorts, s.sslAddress).map((e) => ({ ...e, setting: 'SSLPORT' })) : []),
      ];
      const seen = new Map<number, string>();
      for (const e of wanted) {
        if (e.port === 0) continue;
        const other = seen.get(e.port);
        if (other !== undefined) {
          errors.push({ setting: e.setting, message: `port ${e.port} is also given for ${other}; each listener needs its own port` });
          continue;
        }
        seen.set(e.port, e.setting);
        const ours = held.some((h) => h.port === e.port);
        if (ours) continue;
        const problem = await probePort(e.address, e.port);
        if (problem) errors.push({ setting: e.setting, message: problem });
      }
      // The certificate, when TLS is on and its settings change.
      const needTls = (s.sslStart && s.sslPorts.length > 0) || (s.plainStart && s.startTls);
      const certChanged = s.tlsCertFile !== current.tlsCertFile || s.tlsPrivateKeyFile !== current.tlsPrivateKeyFile;
      if (needTls && (certChanged || !this.tls)) {
        try {
          await loadTlsMaterial({ certFile: s.tlsCertFile, keyFile: s.tlsPrivateKeyFile, dataDir: this.dataDir });
        } catch (err) {
          if (!(err instanceof TlsError)) throw err;
          errors.push({ setting: err.message.startsWith('TLS_PRIVATE_KEYFILE') ? 'TLS_PRIVATE_KEYFILE' : 'TLS_CERTFILE', message: err.message });
        }
      }
    }

    const effects: string[] = [];
    if (restart) {
      const count = this.server?.sessions().length ?? 0;
      effects.push(
        count > 0
          ? `The IMAP listeners restart: ${count} connected session${count === 1 ? ' is' : 's are'} told to reconnect.`
          : 'The IMAP listeners restart (nobody is connected).',
      );
    } else if (this.server === null) {
      effects.push('The IMAP listeners start.');
    }
    const changedFields = SETTINGS.filter((spec) => !settingsEqual(current[spec.field], s[spec.field]));
    const live = changedFields.filter((spec) => LIVE_FIELDS.has(spec.field)).map((spec) => spec.name);
    if (live.length) effects.push(`${live.join(', ')}: in force at once for new connections; connected sessions stay.`);
    const later = changedFields.filter((spec) => !LIVE_FIELDS.has(spec.field) && !LISTENER_FIELDS.has(spec.field) && !APPLIANCE_FIXED_SETTINGS.has(spec.name));
    if (later.length) effects.push(`${later.map((spec) => spec.name).join(', ')}: for sessions that connect from now on.`);
    if (changedFields.length === 0 && !restart && this.server !== null) effects.push('Nothing changes.');
    void changed;
    return { ok: errors.length === 0, errors, warnings, effects };
  }

  private listenersMustRestart(a: ImapdSettings, b: ImapdSettings): boolean {
    for (const field of LISTENER_FIELDS) if (!settingsEqual(a[field], b[field])) return true;
    return false;
  }

  /** Write the documents, then bring the running server in line with them. */
  private async commit(documents: Record<ConfigFileName, CourierConfig>, result: ValidationResult, what: string[]): Promise<ApplyResult> {
    const previousText = new Map<ConfigFileName, string | null>();
    for (const which of CONFIG_FILES) previousText.set(which, await fs.readFile(join(this.configDir, which), 'utf8').catch(() => null));
    const previousLoaded = this.loaded;
    for (const which of CONFIG_FILES) {
      const text = documents[which].serialize();
      if (text !== previousText.get(which)) await writeFileAtomic(join(this.configDir, which), text);
    }
    const wasBroken = this.problem?.startsWith('configuration error') ?? false;
    if (wasBroken) {
      this.problem = null;
      this.state = 'stopped';
    }
    await this.readConfiguration();
    const next = this.loaded;
    const before = previousLoaded.settings;
    const after = next.settings;
    const restart = this.server === null || this.listenersMustRestart(before, after);
    this.sessionSettings = sessionSettingsFrom(after);
    if ([...AUTHENTICATOR_FIELDS].some((f) => !settingsEqual(before[f], after[f]))) {
      this.retiredAuthenticators.add(this.authenticator);
      const retired = this.authenticator;
      void retired.idle().then(() => this.retiredAuthenticators.delete(retired));
      this.authenticator = this.makeAuthenticator(after);
    }
    if (this.serverSettings) {
      this.serverSettings.maxDaemons = after.maxDaemons;
      this.serverSettings.maxPerIp = after.maxPerIp;
    }
    this.record('info', null, `settings changed: ${what.join(', ')}`);
    let sessionsEnded = 0;
    if (restart) {
      sessionsEnded = this.server?.sessions().length ?? 0;
      await this.stopServer('Server settings changed; please reconnect.');
      const started = await this.startServer(after);
      if (!started) {
        // Back to what worked.
        const problem = this.problem ?? 'the listeners could not start';
        for (const which of CONFIG_FILES) {
          const text = previousText.get(which);
          if (text !== null && text !== undefined) await writeFileAtomic(join(this.configDir, which), text);
        }
        this.loaded = previousLoaded;
        this.sessionSettings = sessionSettingsFrom(before);
        await this.startServer(before);
        this.record('warn', null, `settings change undone: ${problem}`);
        this.emit({ type: 'settings' });
        return {
          ok: false,
          errors: [{ setting: null, message: `${problem}; the previous settings are back in force` }],
          warnings: result.warnings,
          effects: [],
          applied: false,
          restartedListeners: true,
          sessionsEnded,
        };
      }
    }
    this.emit({ type: 'settings' });
    this.emitStatus();
    return { ...result, applied: true, restartedListeners: restart, sessionsEnded };
  }

  // ---------------------------------------------------------------------------
  // The IMAP server

  private makeAuthenticator(s: ImapdSettings): AccountAuthenticator {
    return new AccountAuthenticator({
      accounts: this.accounts,
      logger: this.serverLogger(),
      maildirPath: s.maildirPath,
      mkhomedirSkel: s.mkhomedirSkel,
      useLocks: s.useLocks,
      keywords: s.keywords !== 0,
      watch: s.enhancedIdle,
      pollIntervalMs: s.idleTimeout * 1000,
      trashFolder: s.trashFolder,
      emptyTrash: s.emptyTrash,
      loginCacheTtlMs: s.loginCacheTtl * 1000,
      ...(this.options.failureDelayMs !== undefined ? { failureDelayMs: this.options.failureDelayMs } : {}),
    });
  }

  private serverLogger(): Logger {
    return { log: (level, message, fields) => this.serverLog(level, message, fields) };
  }

  /** Start listening with these settings; false (with the problem in the status) when it cannot. */
  private async startServer(s: ImapdSettings): Promise<boolean> {
    this.setState('starting', null);
    const needTls = (s.sslStart && s.sslPorts.length > 0) || (s.plainStart && s.startTls);
    try {
      this.tls = needTls ? await loadTlsMaterial({ certFile: s.tlsCertFile, keyFile: s.tlsPrivateKeyFile, dataDir: this.dataDir }) : null;
    } catch (err) {
      if (!(err instanceof TlsError)) throw err;
      this.tls = null;
      this.setState('error', `TLS certificate: ${err.message}`);
      this.record('error', null, this.problem!);
      return false;
    }
    if (this.tls) {
      this.record('info', null, `TLS certificate ${this.tls.certFile} (${this.tls.source}), SHA-256 fingerprint ${this.tls.fingerprint256}`);
      for (const w of this.tls.warnings) this.record(w.startsWith('made a new') ? 'info' : 'warn', null, `TLS: ${w}`);
    }
    // Our own copy: the server reads its limits from it at each connection, so that
    // MAXDAEMONS and MAXPERIP can change without a restart.
    const serverSettings: ServerSettings = {
      address: s.address, ports: s.ports, sslAddress: s.sslAddress, sslPorts: s.sslPorts, plainStart: s.plainStart,
      sslStart: s.sslStart, startTls: s.startTls, maxDaemons: s.maxDaemons, maxPerIp: s.maxPerIp,
      tlsMinVersion: s.tlsMinVersion, startTlsMinVersion: s.startTlsMinVersion, tlsCipherList: s.tlsCipherList,
    };
    const delegate: Authenticator = { login: (user, password, remote) => this.authenticator.login(user, password, remote) };
    const server = new ImapServer({
      settings: serverSettings,
      sessionSettings: this.sessionSettings,
      authenticator: delegate,
      tls: this.tls,
      logger: this.serverLogger(),
      ...(this.options.stopGraceMs !== undefined ? { stopGraceMs: this.options.stopGraceMs } : {}),
      // Each new session gets the settings in force when it connects.
      startSession: (options: SessionOptions) => startImapSession({ ...options, settings: this.sessionSettings }),
    });
    try {
      const endpoints = await server.start();
      if (endpoints.length === 0) {
        this.setState('error', 'IMAPDSTART and IMAPDSSLSTART are both NO: the server listens nowhere');
        this.record('warn', null, this.problem!);
        return false;
      }
    } catch (err) {
      this.setState('error', (err as Error).message);
      this.record('error', null, this.problem!);
      return false;
    }
    server.on('session-start', (c) => this.onSessionEvent(c));
    server.on('session-change', (c) => this.onSessionEvent(c));
    server.on('session-end', (c) => {
      this.userOfConnection.delete(c.id);
      this.onSessionEvent(c);
    });
    this.server = server;
    this.serverSettings = serverSettings;
    this.startedAt = Date.now();
    this.setState('running', null);
    return true;
  }

  private async stopServer(reason: string): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    this.serverSettings = null;
    await server.stop(reason);
    server.removeAllListeners();
    this.userOfConnection.clear();
    this.scheduleSessionsEvent();
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
      this.emit({ type: 'sessions', sessions });
      this.emitStatus();
      // While anyone is connected, byte counts move without events: send them now and then.
      if (sessions.length > 0 && !this.sessionsTicker && !this.closed) {
        this.sessionsTicker = setInterval(() => {
          const now = this.sessionViews();
          this.emit({ type: 'sessions', sessions: now });
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

  private sessionViews(): SessionView[] {
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

  async listSessions(): Promise<SessionView[]> {
    checkArgs('listSessions', []);
    return this.sessionViews();
  }

  async disconnectSession(id: number): Promise<boolean> {
    const [checked] = checkArgs('disconnectSession', [id]) as [number];
    const done = this.server?.disconnect(checked, 'Disconnected by the administrator.') ?? false;
    if (done) this.record('info', this.userOfConnection.get(checked) ?? null, `session ${checked} disconnected from the appliance`);
    return done;
  }

  // ---------------------------------------------------------------------------
  // Accounts

  async listAccounts(): Promise<AccountView[]> {
    checkArgs('listAccounts', []);
    const accounts = this.accounts.list();
    return Promise.all(accounts.map((a) => this.accountView(a)));
  }

  private async accountView(account: Account): Promise<AccountView> {
    const maildir = this.authenticator.maildirOf(account);
    const key = usernameKey(account.username);
    let cached = this.usageCache.get(key);
    if (!cached || Date.now() - cached.at > USAGE_TTL_MS) {
      cached = { usage: await countMaildir(maildir), at: Date.now() };
      this.usageCache.set(key, cached);
    }
    const sessions = (this.server?.sessions() ?? []).filter((c) => c.user !== null && usernameKey(c.user) === key).length;
    return {
      username: account.username,
      enabled: account.enabled,
      maildir,
      maildirExists: cached.usage !== null,
      home: account.home,
      createdAt: account.createdAt,
      lastLoginAt: account.lastLoginAt,
      lastLoginAddress: account.lastLoginAddress,
      usage: cached.usage ? { ...cached.usage, countedAt: cached.at } : null,
      quotaBytes: account.quotaBytes,
      quotaMessages: account.quotaMessages,
      sessions,
    };
  }

  async addAccount(input: NewAccountInput): Promise<AccountView> {
    const [checked] = checkArgs('addAccount', [input]) as [NewAccountInput];
    const maildir = checked.maildir ?? null;
    if (maildir !== null) {
      if (!isAbsolute(maildir)) throw new ApiError('invalid-argument', `the Maildir location must be a full path (such as ${sep === '/' ? '/home/alice/Maildir' : 'C:\\Mail\\alice'})`, 'maildir');
      await this.checkMaildirLocation(resolve(maildir));
    }
    let account: Account;
    try {
      account = await this.accounts.add({ username: checked.username, password: checked.password, maildir: maildir === null ? null : resolve(maildir) });
    } catch (err) {
      mapAccountError(err);
    }
    const root = this.authenticator.maildirOf(account);
    const existed = await isDirectory(join(root, 'cur'));
    try {
      if (!existed) {
        const store = await openMaildirStore({ root, create: true, watch: false });
        await store.close();
      }
    } catch (err) {
      this.accounts.remove(account.username);
      throw new ApiError('invalid-argument', `cannot create the Maildir ${root}: ${(err as Error).message}`, 'maildir');
    }
    this.record('info', account.username, existed ? `account added, with the existing Maildir ${root}` : `account added; Maildir created at ${root}`);
    if (existed && (await needsIndexing(root))) this.startIndexJob(account);
    return this.accountView(account);
  }

  /** A Maildir location must be a Maildir, or missing, or an empty directory: never some other directory. */
  private async checkMaildirLocation(path: string): Promise<void> {
    let st;
    try {
      st = await fs.stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new ApiError('invalid-argument', `cannot use ${path}: ${(err as Error).message}`, 'maildir');
    }
    if (!st.isDirectory()) throw new ApiError('invalid-argument', `${path} is a file, not a Maildir directory`, 'maildir');
    if (await isDirectory(join(path, 'cur'))) return;
    const content = await fs.readdir(path);
    if (content.length > 0) {
      throw new ApiError('invalid-argument', `${path} is a directory with other things in it, not a Maildir (no cur/, new/, tmp/); choose a new or empty directory`, 'maildir');
    }
  }

  async setPassword(username: string, password: string): Promise<void> {
    const [user, pass] = checkArgs('setPassword', [username, password]) as [string, string];
    try {
      await this.accounts.setPassword(user, pass);
    } catch (err) {
      mapAccountError(err);
    }
    this.record('info', this.accounts.get(user)?.username ?? user, 'password changed');
  }

  async disableAccount(username: string): Promise<void> {
    const [user] = checkArgs('disableAccount', [username]) as [string];
    try {
      this.accounts.disable(user);
    } catch (err) {
      mapAccountError(err);
    }
    const ended = this.disconnectUser(user, 'Your account has been disabled.');
    this.record('info', this.accounts.get(user)?.username ?? user, `account disabled${ended ? `; ${ended} session(s) disconnected` : ''}`);
  }

  async enableAccount(username: string): Promise<void> {
    const [user] = checkArgs('enableAccount', [username]) as [string];
    try {
      this.accounts.enable(user);
    } catch (err) {
      mapAccountError(err);
    }
    this.record('info', this.accounts.get(user)?.username ?? user, 'account enabled');
  }

  async removeAccount(username: string, keepMail: boolean): Promise<void> {
    const [user, keep] = checkArgs('removeAccount', [username, keepMail]) as [string, boolean];
    const account = this.accounts.get(user);
    if (!account) throw new ApiError('not-found', `no account ${JSON.stringify(user)}`, 'username');
    const key = usernameKey(account.username);
    for (const job of this.jobs.values()) if (job.key === key) job.cancelled = true;
    await Promise.all([...this.jobs.values()].filter((j) => j.key === key).map((j) => j.done));
    const root = this.authenticator.maildirOf(account);
    this.disconnectUser(account.username, 'Your account has been removed.');
    try {
      this.accounts.remove(account.username);
    } catch (err) {
      mapAccountError(err);
    }
    if (keep) {
      this.record('info', account.username, `account removed; its mail stays in ${root}`);
      return;
    }
    await this.removeMail(account, root);
  }

  private async removeMail(account: Account, root: string): Promise<void> {
    // Only a Maildir is deleted, and never the data directory or something above it.
    const inside = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
    if (!(await isDirectory(join(root, 'cur'))) || inside(this.dataDir, root) || resolve(root) === resolve('/')) {
      this.record('warn', account.username, `account removed; ${root} was not deleted (it is not a Maildir, or holds the appliance's data)`);
      return;
    }
    await fs.rm(root, { recursive: true, force: true });
    // The default home under <data>/mail goes too when nothing else is left in it.
    const homes = join(this.dataDir, 'mail');
    if (inside(account.home, homes) && account.home !== homes) {
      await fs.rmdir(account.home).catch(() => undefined);
    }
    this.record('info', account.username, `account removed, and its mail deleted (${root})`);
  }

  private disconnectUser(username: string, reason: string): number {
    if (!this.server) return 0;
    const key = usernameKey(username);
    let count = 0;
    for (const c of this.server.sessions()) {
      if (c.user !== null && usernameKey(c.user) === key && this.server.disconnect(c.id, reason)) count++;
    }
    return count;
  }

  // ---------------------------------------------------------------------------
  // First indexing

  async indexAccount(username: string): Promise<JobView> {
    const [user] = checkArgs('indexAccount', [username]) as [string];
    const account = this.accounts.get(user);
    if (!account) throw new ApiError('not-found', `no account ${JSON.stringify(user)}`, 'username');
    if (!(await isDirectory(join(this.authenticator.maildirOf(account), 'cur')))) {
      throw new ApiError('conflict', `the Maildir of ${account.username} does not exist yet; it is created at the first login`);
    }
    return { ...this.startIndexJob(account).view };
  }

  /** At start: index the Maildirs that have never been indexed (moved in while we were not running). */
  private async indexWhereNeeded(): Promise<void> {
    for (const account of this.accounts.list()) {
      if (this.closed) return;
      try {
        if (await needsIndexing(this.authenticator.maildirOf(account))) this.startIndexJob(account);
      } catch {
        /* a Maildir we cannot read is reported at login */
      }
    }
  }

  private startIndexJob(account: Account): Job {
    const key = usernameKey(account.username);
    for (const job of this.jobs.values()) if (job.key === key && job.view.state === 'running') return job;
    // Finished jobs of this account make way for the new one.
    for (const [id, job] of this.jobs) if (job.key === key) this.jobs.delete(id);
    const s = this.loaded.settings;
    const root = this.authenticator.maildirOf(account);
    const job: Job = {
      view: {
        id: this.nextJobId++, kind: 'index', account: account.username, state: 'running', done: 0, total: 0, folder: null,
        foldersDone: 0, foldersTotal: 0, startedAt: Date.now(), finishedAt: null, secondsLeft: null, message: null,
      },
      key,
      cancelled: false,
      done: Promise.resolve(),
      lastEventAt: 0,
    };
    this.jobs.set(job.view.id, job);
    this.record('info', account.username, `indexing the Maildir ${root}`);
    let rateFrom: { at: number; done: number } | null = null;
    job.done = (async () => {
      // Let the caller's answer go out first.
      await new Promise((r) => setImmediate(r));
      try {
        const usage = await indexMaildir({
          root,
          useLocks: s.useLocks,
          keywords: s.keywords !== 0,
          trashFolder: s.trashFolder,
          logger: this.serverLogger(),
          cancelled: () => job.cancelled,
          onProgress: (p) => {
            Object.assign(job.view, p);
            // The rate is measured from the first indexed message on (counting and numbering come before it).
            const now = Date.now();
            if (p.done > 0 && rateFrom === null) rateFrom = { at: now, done: p.done };
            const sampled = rateFrom ? p.done - rateFrom.done : 0;
            job.view.secondsLeft =
              rateFrom && sampled >= Math.max(20, p.total / 100) && now > rateFrom.at
                ? Math.max(0, Math.round(((p.total - p.done) * (now - rateFrom.at)) / sampled / 1000))
                : null;
            this.progressEvent(job, false);
          },
        });
        job.view.state = job.cancelled ? 'failed' : 'done';
        job.view.message = job.cancelled ? 'stopped before the end' : null;
        if (!job.cancelled && !this.closed) this.accounts.recordUsage(account.username, usage);
        this.record('info', account.username, `indexing ${job.cancelled ? 'stopped' : 'done'}: ${job.view.done} of ${job.view.total} messages in ${job.view.foldersDone} folder(s)`);
      } catch (err) {
        job.view.state = 'failed';
        job.view.message = (err as Error).message;
        this.record('error', account.username, `indexing failed: ${(err as Error).message}`);
      }
      job.view.finishedAt = Date.now();
      job.view.secondsLeft = 0;
      job.view.folder = null;
      this.usageCache.delete(key);
      this.progressEvent(job, true);
      this.emitStatus();
    })();
    this.progressEvent(job, true);
    return job;
  }

  private progressEvent(job: Job, force: boolean): void {
    const now = Date.now();
    if (!force && now - job.lastEventAt < PROGRESS_EVENT_MS) return;
    job.lastEventAt = now;
    this.emit({ type: 'progress', job: { ...job.view } });
  }

  // ---------------------------------------------------------------------------
  // Log

  async getLog(filter?: LogFilter): Promise<LogLine[]> {
    const [checked] = checkArgs('getLog', filter === undefined ? [] : [filter]) as [LogFilter | undefined];
    return this.log.query(checked ?? {});
  }

  private serverLog(level: ServerLogLevel, message: string, fields?: LogFields): void {
    this.options.logger?.log(level, message, fields);
    if (level === 'debug' && !this.options.verbose) return;
    const conn = typeof fields?.conn === 'number' ? fields.conn : undefined;
    const account = typeof fields?.user === 'string' ? fields.user : conn !== undefined ? (this.userOfConnection.get(conn) ?? null) : null;
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
  // Connecting a client

  async connectionInfo(): Promise<ConnectionInfoView> {
    checkArgs('connectionInfo', []);
    const endpoints = this.server?.endpoints() ?? [];
    const loopback = (a: string) => a === '127.0.0.1' || a === '::1' || a.startsWith('127.');
    const localOnly = endpoints.length > 0 && endpoints.every((e) => loopback(e.address));
    const hosts: ConnectionInfoView['hosts'] = [];
    if (localOnly) {
      hosts.push({ value: endpoints[0]!.address === '::1' ? '::1' : '127.0.0.1', kind: endpoints[0]!.address === '::1' ? 'ipv6' : 'ipv4', note: 'this computer only' });
      hosts.push({ value: 'localhost', kind: 'name', note: 'this computer only' });
    } else {
      const name = osHostname();
      hosts.push({ value: name, kind: 'name', note: 'this computer\'s name, where your network resolves it' });
      if (!name.includes('.')) hosts.push({ value: `${name}.local`, kind: 'name', note: 'on the local network (Bonjour / mDNS)' });
      const bound = new Set(endpoints.map((e) => e.address));
      const all = bound.has('::') || bound.has('0.0.0.0');
      for (const list of Object.values(networkInterfaces())) {
        for (const nic of list ?? []) {
          if (nic.internal || (!all && !bound.has(nic.address))) continue;
          if (nic.family === 'IPv6' && nic.address.toLowerCase().startsWith('fe80')) continue; // link-local needs a zone
          hosts.push({ value: nic.address, kind: nic.family === 'IPv4' ? 'ipv4' : 'ipv6', note: 'this computer\'s address on the network' });
        }
      }
      if (all) hosts.push({ value: '127.0.0.1', kind: 'ipv4', note: 'this computer only' });
    }
    const out: ConnectionInfoView['endpoints'] = endpoints.map((e) =>
      e.kind === 'imaps'
        ? { port: e.port, security: 'SSL/TLS', description: `Port ${e.port} with SSL/TLS: encrypted from the first byte. Choose this if your mail program offers it.` }
        : e.startTls
          ? { port: e.port, security: 'STARTTLS', description: `Port ${e.port} with STARTTLS: the mail program switches to encryption before logging in.` }
          : { port: e.port, security: 'none', description: `Port ${e.port} without encryption: passwords travel in the clear. Use it only on this computer.` },
    );
    const fingerprint = this.tls?.fingerprint256 ?? null;
    const selfSigned = this.tls ? this.tls.source !== 'configured' : false;
    const certificateAdvice = !this.tls
      ? 'TLS is off: there is no certificate to check.'
      : selfSigned
        ? `This server uses its own (self-signed) certificate. The first time your mail program connects, it warns that it cannot verify the server. Compare the SHA-256 fingerprint it shows with ${fingerprint}; if they are the same, accept the certificate permanently. If they differ, do not accept: something else is answering.`
        : `This server uses the certificate in ${this.tls.certFile}, whose SHA-256 fingerprint is ${fingerprint}. Mail programs that trust its issuer connect without questions.`;
    return {
      hosts,
      localOnly,
      endpoints: out,
      fingerprint256: fingerprint,
      certificateAdvice,
      usernameAdvice: 'Log in with an account\'s username and password from the Accounts screen (not an email address unless the username is one).',
    };
  }

  // ---------------------------------------------------------------------------
  // Events

  private setState(state: ServerState, problem: string | null): void {
    this.state = state;
    this.problem = problem;
    this.emitStatus();
  }

  private emitStatus(): void {
    if (this.listeners.size === 0) return;
    this.emit({ type: 'status', status: this.statusNow() });
  }

  private emit(event: ApplianceEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        /* a listener's failure is its own business */
      }
    }
  }
}

/** The value of each setting as text, as the loader sees it: defaults, then the files in order. */
function effectiveValues(files: Record<ConfigFileName, CourierConfig | null>): Map<string, string> {
  const env = new Map<string, string>();
  for (const spec of SETTINGS) if (!spec.default.includes('$')) env.set(spec.name, spec.default);
  const set = new Set<string>();
  for (const which of CONFIG_FILES) {
    const doc = files[which];
    if (!doc) continue;
    for (const name of doc.evaluate(env).keys()) set.add(name);
  }
  for (const spec of SETTINGS) {
    if (spec.default.includes('$') && !set.has(spec.name)) {
      env.set(spec.name, parseCourierConfig(`${spec.name}=${spec.default}\n`, 'default').getValue(spec.name, env) ?? '');
    }
  }
  return env;
}
