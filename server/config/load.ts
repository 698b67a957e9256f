// Reading <configDir>/imapd and <configDir>/imapd-ssl into typed settings, the way
// Courier's start script does: imapd first, then imapd-ssl, which may refer to and
// override what imapd set. Missing files mean defaults. Invalid values of settings we
// honour are errors naming file, line and setting; settings we do not honour only warn.

import { accessSync, constants as fsConstants, promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import { CourierConfig, parseCourierConfig } from './courier-file.js';
import { ConfigError, type ConfigWarning } from './errors.js';
import { COURIER_SETTINGS_NOT_HONOURED } from './not-honoured.js';
import { SETTINGS, SETTINGS_BY_NAME } from './settings.js';
import { SettingValueError, type ImapdSettings, type ParseContext } from './settings-types.js';

export const CONFIG_FILES = ['imapd', 'imapd-ssl'] as const;
export type ConfigFileName = (typeof CONFIG_FILES)[number];

export interface LoadSettingsOptions {
  configDir: string;
  /** Values that win over the files (command-line options), as they would be written in a file. */
  overrides?: Readonly<Record<string, string>>;
}

export interface SettingSource {
  /** Path of the file, "command line", or "default". */
  file: string;
  line: number;
}

export interface LoadedSettings {
  settings: ImapdSettings;
  warnings: ConfigWarning[];
  /** The parsed documents (null for a missing file), for editing and writing back. */
  files: Record<ConfigFileName, CourierConfig | null>;
  /** Where each honoured setting's value came from. */
  sources: Map<string, SettingSource>;
}

const COMMAND_LINE = 'command line';
const DEFAULT_SOURCE: SettingSource = { file: 'default', line: 0 };

/** How a Courier setting this server reads past is reported: 'unsupported' when its value asks
 * for a missing feature, else 'ignored'; undefined for a name that is no Courier setting. */
export function notHonoured(setting: string, value: string): { kind: 'ignored' | 'unsupported'; message: string } | undefined {
  // AUTHSERVICE143 and AUTHSERVICE993 are in the table; any other port's is the same.
  const known = COURIER_SETTINGS_NOT_HONOURED.get(setting) ?? (/^AUTHSERVICE\d+$/.test(setting) ? COURIER_SETTINGS_NOT_HONOURED.get('AUTHSERVICE143') : undefined);
  if (!known) return undefined;
  if (known.harmless && !known.harmless.includes(value.trim())) return { kind: 'unsupported', message: `${known.reason}; ignored` };
  return { kind: 'ignored', message: `ignored: ${known.reason}` };
}

export async function loadSettings(options: LoadSettingsOptions): Promise<LoadedSettings> {
  const configDir = resolve(options.configDir);
  const files = {} as Record<ConfigFileName, CourierConfig | null>;
  for (const name of CONFIG_FILES) {
    const path = join(configDir, name);
    let text: string | null;
    try {
      text = await fs.readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new ConfigError(path, 0, undefined, `cannot read the file: ${(err as Error).message}`);
      }
      text = null;
    }
    files[name] = text === null ? null : parseCourierConfig(text, path);
  }
  return settingsFromDocuments(files, configDir, options.overrides ?? {});
}

/** The same as loadSettings, for documents already in memory (the GUI's edited copies). */
export function settingsFromDocuments(
  files: Record<ConfigFileName, CourierConfig | null>,
  configDir: string,
  overrides: Readonly<Record<string, string>> = {},
  /** Where the overrides come from, for messages: "command line" or "environment". */
  overridesFrom: string = COMMAND_LINE,
): LoadedSettings {
  const warnings: ConfigWarning[] = [];
  const env = new Map<string, string>();
  // Plain defaults first, so that the files can refer to them.
  for (const spec of SETTINGS) if (!spec.default.includes('$')) env.set(spec.name, spec.default);

  const sources = new Map<string, SettingSource>();
  const setInFiles = new Map<string, SettingSource>();
  for (const name of CONFIG_FILES) {
    const doc = files[name];
    if (!doc) continue;
    warnings.push(...doc.syntaxWarnings);
    for (const [setting, v] of doc.evaluate(env)) setInFiles.set(setting, { file: v.file, line: v.line });
  }
  for (const [setting, source] of setInFiles) sources.set(setting, source);
  for (const [setting, value] of Object.entries(overrides)) {
    env.set(setting, value);
    sources.set(setting, { file: overridesFrom, line: 0 });
  }
  // Defaults that refer to other settings follow the final values of those.
  for (const spec of SETTINGS) {
    if (spec.default.includes('$') && !sources.has(spec.name)) {
      env.set(spec.name, parseCourierConfig(`${spec.name}=${spec.default}\n`, 'default').getValue(spec.name, env) ?? '');
    }
  }

  const settings = {} as Record<string, unknown>;
  for (const spec of SETTINGS) {
    const source = sources.get(spec.name) ?? DEFAULT_SOURCE;
    const value = env.get(spec.name) ?? '';
    const ctx: ParseContext = {
      configDir,
      warn: (message, kind = 'adjusted') => warnings.push({ kind, file: source.file, line: source.line, setting: spec.name, message }),
    };
    try {
      settings[spec.field] = spec.parse(value, ctx);
    } catch (err) {
      if (err instanceof SettingValueError) throw new ConfigError(source.file, source.line, spec.name, err.message);
      throw err;
    }
  }
  const typed = settings as unknown as ImapdSettings;

  for (const [setting, source] of setInFiles) {
    if (SETTINGS_BY_NAME.has(setting)) continue;
    const found = notHonoured(setting, env.get(setting) ?? '');
    warnings.push(found ? { ...found, ...source, setting } : { kind: 'unknown', ...source, setting, message: 'not a setting this server knows (misspelt?); ignored' });
  }

  // Combinations that cannot work.
  if (typed.tlsPrivateKeyFile && !typed.tlsCertFile) {
    const s = sources.get('TLS_PRIVATE_KEYFILE') ?? DEFAULT_SOURCE;
    throw new ConfigError(s.file, s.line, 'TLS_PRIVATE_KEYFILE', 'is set, but TLS_CERTFILE is not (set both, or neither for a self-signed certificate)');
  }
  if (typed.tlsVerifyPeer !== 'NONE') {
    // Verifying against nothing would accept no certificate (REQUIREPEER) or silently none (PEER).
    const where = typed.tlsTrustCerts ? 'TLS_TRUSTCERTS' : 'TLS_VERIFYPEER';
    const s = sources.get(where) ?? DEFAULT_SOURCE;
    if (!typed.tlsTrustCerts) throw new ConfigError(s.file, s.line, where, `${typed.tlsVerifyPeer} needs TLS_TRUSTCERTS: the certificate authorities client certificates are verified against`);
    try {
      accessSync(typed.tlsTrustCerts, fsConstants.R_OK);
    } catch {
      throw new ConfigError(s.file, s.line, where, `${typed.tlsTrustCerts} is missing or not readable by this server (needed by TLS_VERIFYPEER=${typed.tlsVerifyPeer})`);
    }
  } else if (typed.tlsExternal) {
    const s = sources.get('TLS_EXTERNAL') ?? DEFAULT_SOURCE;
    warnings.push({ kind: 'adjusted', ...s, setting: 'TLS_EXTERNAL', message: 'is set while TLS_VERIFYPEER=NONE: no client certificate is asked for, so AUTHENTICATE EXTERNAL is never offered' });
  }
  if (typed.tlsRequired && typed.plainStart && !typed.startTls) {
    const s = sources.get('IMAP_TLS_REQUIRED') ?? DEFAULT_SOURCE;
    warnings.push({ kind: 'adjusted', ...s, setting: 'IMAP_TLS_REQUIRED', message: 'is 1 while IMAPDSTARTTLS=NO: nobody can log in on PORT' });
  }
  if (!typed.plainStart && !typed.sslStart) {
    const s = sources.get('IMAPDSTART') ?? DEFAULT_SOURCE;
    warnings.push({ kind: 'adjusted', ...s, setting: 'IMAPDSTART', message: 'IMAPDSTART and IMAPDSSLSTART are both NO: the server will not listen anywhere' });
  }
  return { settings: typed, warnings, files, sources };
}
