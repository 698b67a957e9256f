// The appliance's configuration: Courier's `imapd` and `imapd-ssl` files in <data>/config,
// read, shown to the GUI setting by setting, checked, and written back with comments kept.
// A change is applied with as little disturbance as possible: connection limits at once,
// protocol settings for sessions that connect from then on (sessions keep the settings they
// started with), account-related ones at the next login; only a change of addresses, ports
// or TLS restarts the listeners (ImapServer cannot swap its listeners while keeping its
// sessions, so those sessions are told BYE and reconnect).
//
// The files are also watched (chokidar: editors and tools often replace a file by rename,
// which a plain fs.watch on the file loses): a valid edit made by hand is applied like a
// change from the GUI; an invalid one is shown in the status and the running settings stay.
// The checks of the listeners a change would start, and the words for what applying does,
// are in configuration-checks.ts.

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import {
  ConfigError,
  SETTINGS,
  SETTINGS_BY_NAME,
  SettingValueError,
  formatWarning,
  parseCourierConfig,
  settingsFromDocuments,
  writeFileAtomic,
  type AnySettingSpec,
  type CourierConfig,
  type LoadedSettings,
} from '../config/index.js';
import type { ParseContext } from '../config/settings.js';
import {
  ApiError,
  type ApplyResult,
  type ConfigFileName,
  type SettingChanges,
  type SettingGroup,
  type SettingProblem,
  type SettingView,
  type SettingsView,
  type ValidationResult,
} from './api.js';
import { APPLIANCE_FIXED_SETTINGS, defaultConfigText } from './defaults.js';
import { applyEffects, AT_START_FIELDS, listenerProblems } from './configuration-checks.js';
import type { HostContext } from './host-context.js';
import { LISTENER_FIELDS, LIVE_FIELDS, listenersMustRestart, type ImapRunner } from './imap-runner.js';

export const CONFIG_FILES: readonly ConfigFileName[] = ['imapd', 'imapd-ssl'];

/** Each shown setting's group on the Settings screen (test/appliance/setting-labels.test.ts checks that none is missing). */
export const GROUP_OF: Readonly<Record<string, SettingGroup>> = {
  ADDRESS: 'network', PORT: 'network', IMAPDSTART: 'network', SSLPORT: 'network', SSLADDRESS: 'network', IMAPDSSLSTART: 'network',
  MAXDAEMONS: 'network', MAXPERIP: 'network', IMAP_MAXLINE: 'network', IMAP_MAXMSGSIZE: 'network', LOGIN_CACHE_TTL: 'network',
  IMAP_CAPABILITY: 'capabilities', IMAP_CAPABILITY_TLS: 'capabilities', IMAP_KEYWORDS: 'capabilities',
  IMAP_DISABLETHREADSORT: 'capabilities', IMAP_ID_FIELDS: 'capabilities', IMAP_NAMESPACE_PREFIX: 'capabilities',
  IMAP_IDLE_TIMEOUT: 'idle', IMAP_ENHANCEDIDLE: 'idle', IMAP_USELOCKS: 'idle', IMAP_FTS_INDEX: 'folders',
  IMAPDSTARTTLS: 'tls', IMAP_TLS_REQUIRED: 'tls', TLS_CERTFILE: 'tls', TLS_PRIVATE_KEYFILE: 'tls', TLS_PROTOCOL: 'tls',
  TLS_STARTTLS_PROTOCOL: 'tls', TLS_CIPHER_LIST: 'tls',
  IMAP_TRASHFOLDERNAME: 'folders', IMAP_MOVE_EXPUNGE_TO_TRASH: 'folders', IMAP_EMPTYTRASH: 'folders', MAILDIRPATH: 'folders',
  AUTH_MKHOMEDIR_SKEL: 'folders', IMAP_CHECK_ALL_FOLDERS: 'folders', IMAP_OBSOLETE_CLIENT: 'capabilities',
  // Mail delivery (server/delivery): restarted on its own when one of these changes.
  ACCOUNTS: 'network', IMAP_FILE_WATCH: 'idle',
  LMTP_ADDRESS: 'network', LMTP_PORT: 'network', LMTP_SOCKET: 'network', LMTP_MAXMSGSIZE: 'network', QUOTA_FULL_TEMPFAIL: 'folders',
  // Mail sources (server/fetch): read at each fetch.
  FETCH_MAXMSGSIZE: 'folders',
  // Sending through the Outbox folder (server/imap/outbox.ts).
  OUTBOX: 'folders', SENDMAIL: 'folders', HEADERFROM: 'folders', OUTBOX_MULTIPLE_SEND: 'folders',
  // Client certificates (TLS_VERIFYPEER, AUTHENTICATE EXTERNAL), and shared folders' access control.
  TLS_VERIFYPEER: 'tls', TLS_TRUSTCERTS: 'tls', TLS_EXTERNAL: 'tls', IMAP_ACL: 'capabilities', IMAPD_MAILDIRSHARED: 'folders',
  // Who may connect and log in, what is logged, and the process's own files.
  IMAPACCESSFILE: 'operations', DEFDOMAIN: 'operations', IMAP_LOG_DELETIONS: 'operations', IMAPDEBUGFILE: 'operations',
  PIDFILE: 'operations', SSLPIDFILE: 'operations', IMAP_UMASK: 'operations', IMAP_MAILBOX_SANITY_CHECK: 'operations',
  // Proxy mode: accounts whose mail is on another server (server/net/proxy.ts).
  IMAP_PROXY: 'network', PROXY_HOSTNAME: 'network', IMAP_PROXY_FOREIGN: 'network',
};

/** A burst of file events (write, rename, chmod) is read once, this long after the last. */
const FILE_EVENT_SETTLE_MS = 150;

export class Configuration {
  /** The settings in force, and the documents they were read from. */
  loaded!: LoadedSettings;
  /** Configuration files that could not be read or parsed, with why. */
  private readonly unreadable = new Map<ConfigFileName, string>();
  /** The files' text as last read or written here: a file event with the same text is our own. */
  private readonly knownText = new Map<ConfigFileName, string | null>();
  /** Settings changes (from the GUI or from the files) are applied one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private watcher: FSWatcher | null = null;
  private fileTimer: NodeJS.Timeout | null = null;
  private runnerRef: ImapRunner | null = null;
  /** Why the last edit of the files by hand was not applied (shown in the status), or null. */
  fileProblem: string | null = null;

  constructor(private readonly ctx: HostContext) {}

  private get runner(): ImapRunner {
    if (!this.runnerRef) throw new Error('the configuration has no IMAP runner yet');
    return this.runnerRef;
  }

  /** The runner whose listeners and sessions the settings apply to. */
  attach(runner: ImapRunner): void {
    this.runnerRef = runner;
  }

  /**
   * Read the configuration files. A broken file must not keep the GUI from coming up: the
   * server then runs on nothing (state error) and the status says what to fix. A file with
   * a bad value can be fixed in the GUI (the value is rewritten in place, comments kept);
   * a file that cannot be read at all is never rewritten, only replaced by an import.
   */
  async read(): Promise<string | null> {
    const files = {} as Record<ConfigFileName, CourierConfig | null>;
    this.unreadable.clear();
    let firstError: ConfigError | null = null;
    for (const which of CONFIG_FILES) {
      const path = join(this.ctx.configDir, which);
      let text: string | null = null;
      try {
        text = await fs.readFile(path, 'utf8');
        this.knownText.set(which, text);
      } catch (err) {
        this.knownText.set(which, null);
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
        this.loaded = settingsFromDocuments(files, this.ctx.configDir);
        return null;
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        firstError = err;
      }
    }
    const problem = `configuration error: ${firstError.message}`;
    this.ctx.record('error', null, problem);
    this.loaded = { ...settingsFromDocuments({ imapd: null, 'imapd-ssl': null }, this.ctx.configDir), files };
    return problem;
  }

  async getSettings(): Promise<SettingsView> {
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
        applies: AT_START_FIELDS.has(spec.field) ? 'start' : LISTENER_FIELDS.has(spec.field) ? 'listeners' : LIVE_FIELDS.has(spec.field) ? 'live' : 'new-sessions',
        ours: spec.ours === true,
      });
    }
    return {
      configDir: this.ctx.configDir,
      files: { imapd: join(this.ctx.configDir, 'imapd'), 'imapd-ssl': join(this.ctx.configDir, 'imapd-ssl') },
      settings,
      warnings: this.loaded.warnings.filter((w) => w.kind !== 'ignored').map(formatWarning),
    };
  }

  async validateSettings(changes: SettingChanges): Promise<ValidationResult> {
    return (await this.evaluateChanges(changes)).result;
  }

  async applySettings(changes: SettingChanges): Promise<ApplyResult> {
    return this.serialized(async () => {
      const { result, documents } = await this.evaluateChanges(changes);
      if (!result.ok || !documents) return { ...result, applied: false, restartedListeners: false, sessionsEnded: 0 };
      // The log says what changed as old -> new.
      const before = effectiveValues(this.loaded.files);
      const after = effectiveValues(documents);
      // A URL's password (ACCOUNTS=postgres://user:password@...) never reaches the log.
      const shown = (v: string | undefined) => (v === undefined || v === '' ? '(empty)' : JSON.stringify(v.replace(/(\/\/[^:/@\s]*:)[^@/\s]*@/g, '$1***@')));
      return this.commit(documents, result, Object.keys(changes).map((name) => `${name} ${shown(before.get(name))} -> ${shown(after.get(name))}${changes[name] === null ? ' (default)' : ''}`));
    });
  }

  async importCourierConfig(checkedText: string, checkedWhich: ConfigFileName): Promise<ApplyResult> {
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

  async exportCourierConfig(checked: ConfigFileName): Promise<string> {
    try {
      return await fs.readFile(join(this.ctx.configDir, checked), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return defaultConfigText(checked);
      throw err;
    }
  }


  /** Copies of the documents to edit; refused while a file cannot be read (it would be overwritten). */
  private cloneDocuments(except?: ConfigFileName): Record<ConfigFileName, CourierConfig> {
    const out = {} as Record<ConfigFileName, CourierConfig>;
    for (const which of CONFIG_FILES) {
      const problem = which === except ? undefined : this.unreadable.get(which);
      if (problem) {
        throw new ApiError('conflict', `${problem}. Fix the file ${join(this.ctx.configDir, which)} by hand, or import a corrected ${which} file; until then it is not changed here.`, which);
      }
      const doc = this.loaded.files[which];
      out[which] = parseCourierConfig(doc ? doc.serialize() : '', join(this.ctx.configDir, which));
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
        errors.push({ setting: name, message: `${name} cannot be changed here: the appliance keeps its data in ${this.ctx.dataDir}` });
        continue;
      }
      if (value !== null) {
        const ctx: ParseContext = {
          configDir: this.ctx.configDir,
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
      next = settingsFromDocuments(documents, this.ctx.configDir);
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
    const restart = listenersMustRestart(current, s);

    // The listeners' ports and certificate, where they are to start.
    if (restart || !this.runner.running) errors.push(...(await listenerProblems(s, current, changed, this.runner, this.ctx.dataDir)));

    const effects = applyEffects(current, s, restart, this.runner);
    return { ok: errors.length === 0, errors, warnings, effects };
  }


  /** Write the documents, then bring the running server in line with them. */
  private async commit(documents: Record<ConfigFileName, CourierConfig>, result: ValidationResult, what: string[]): Promise<ApplyResult> {
    const previousText = new Map<ConfigFileName, string | null>();
    for (const which of CONFIG_FILES) previousText.set(which, await fs.readFile(join(this.ctx.configDir, which), 'utf8').catch(() => null));
    const previousLoaded = this.loaded;
    for (const which of CONFIG_FILES) {
      const text = documents[which].serialize();
      if (text !== previousText.get(which)) await writeFileAtomic(join(this.ctx.configDir, which), text);
    }
    if (this.runner.problem?.startsWith('configuration error')) this.runner.quietState('stopped', null);
    const problem = await this.read();
    if (problem) this.runner.quietState('error', problem);
    const next = this.loaded;
    const before = previousLoaded.settings;
    const after = next.settings;
    const restart = this.runner.heldStopped ? false : !this.runner.running || listenersMustRestart(before, after);
    this.runner.configure(before, after);
    this.ctx.record('info', null, `settings changed: ${what.join(', ')}`);
    let sessionsEnded = 0;
    if (restart) {
      sessionsEnded = this.runner.sessionCount();
      await this.runner.stop('Server settings changed; please reconnect.');
      const started = await this.runner.start(after);
      if (!started) {
        // Back to what worked.
        const problem = this.runner.problem ?? 'the listeners could not start';
        for (const which of CONFIG_FILES) {
          const text = previousText.get(which);
          if (text === null || text === undefined) continue;
          await writeFileAtomic(join(this.ctx.configDir, which), text);
          this.knownText.set(which, text);
        }
        this.loaded = previousLoaded;
        this.runner.configure(after, before);
        await this.runner.start(before);
        this.ctx.record('warn', null, `settings change undone: ${problem}`);
        this.ctx.emit({ type: 'settings' });
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
    this.ctx.emit({ type: 'settings' });
    this.ctx.emitStatus();
    return { ...result, applied: true, restartedListeners: restart, sessionsEnded };
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // ---------------------------------------------------------------------------
  // Edits made to the files by hand

  /** Watch the two files; changes made by other programs are applied or reported. */
  async watchFiles(): Promise<void> {
    if (this.watcher) return;
    const paths = CONFIG_FILES.map((which) => join(this.ctx.configDir, which));
    // atomic: a replace by rename is one change; no awaitWriteFinish (it adds 2 s): the
    // settle timer below collects the events of one save instead.
    this.watcher = watch(paths, { ignoreInitial: true, atomic: true, persistent: false });
    this.watcher.on('all', () => this.fileEvent());
    this.watcher.on('error', (err) => this.ctx.record('warn', null, `watching the configuration files: ${(err as Error).message}`));
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
  }

  async close(): Promise<void> {
    if (this.fileTimer) clearTimeout(this.fileTimer);
    this.fileTimer = null;
    await this.watcher?.close();
    this.watcher = null;
  }

  private fileEvent(): void {
    if (this.fileTimer) clearTimeout(this.fileTimer);
    this.fileTimer = setTimeout(() => {
      this.fileTimer = null;
      void this.serialized(() => this.applyFiles()).catch((err: unknown) =>
        this.ctx.record('error', null, `reading the changed configuration files: ${(err as Error).message}`),
      );
    }, FILE_EVENT_SETTLE_MS);
    this.fileTimer.unref();
  }

  /** Apply the files as they now are on disk, if they changed and make a valid configuration. */
  private async applyFiles(): Promise<void> {
    if (this.ctx.closed()) return;
    const texts = new Map<ConfigFileName, string | null>();
    for (const which of CONFIG_FILES) texts.set(which, await readText(join(this.ctx.configDir, which)));
    if (CONFIG_FILES.every((which) => texts.get(which) === this.knownText.get(which))) return;
    const documents = {} as Record<ConfigFileName, CourierConfig>;
    const changed = new Set<string>();
    try {
      for (const which of CONFIG_FILES) {
        documents[which] = parseCourierConfig(texts.get(which) ?? '', join(this.ctx.configDir, which));
        if (texts.get(which) !== this.knownText.get(which)) for (const s of SETTINGS) if (s.file === which) changed.add(s.name);
      }
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return this.refuseFiles(err.message);
    }
    const result = await this.evaluateDocuments(documents, changed, null);
    if (!result.ok) return this.refuseFiles(result.errors.map((e) => (e.setting ? `${e.setting}: ${e.message}` : e.message)).join('; '));
    const files = CONFIG_FILES.filter((which) => texts.get(which) !== this.knownText.get(which));
    const applied = await this.commit(documents, result, files.map((which) => `the ${which} file, edited outside the appliance`));
    if (!applied.applied) return this.refuseFiles(applied.errors.map((e) => e.message).join('; '));
    if (this.fileProblem !== null) {
      this.fileProblem = null;
      this.ctx.emitStatus();
    }
  }

  private refuseFiles(why: string): void {
    this.fileProblem = `The configuration files were changed outside the appliance, but not applied: ${why}. The server keeps its running settings; fix the file, or change the setting here.`;
    this.ctx.record('error', null, this.fileProblem);
    this.ctx.emitStatus();
  }
}

async function readText(path: string): Promise<string | null> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
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
