// Settings from the environment, for the stdio imapd. Courier's imapd reads its settings
// from the environment that its start script exported from /etc/courier/imapd and
// imapd-ssl, so "couriertcpd ... imaplogin imapd" passes every variable of those files. The
// schema of the files (settings.ts) checks them; only the variables the stdio imapd uses are
// read: the listener's (PORT, TLS_CERTFILE, ...) are couriertcpd's business, and the files
// they name need not be readable by the user imapd runs as.

import { settingsFromDocuments, type LoadedSettings } from './load.js';
import { SETTINGS, type ImapdSettings } from './settings.js';

/** The settings a session and its Maildir store use (see sessionSettingsFrom). */
const SESSION_FIELDS: ReadonlySet<keyof ImapdSettings> = new Set<keyof ImapdSettings>([
  'capability', 'capabilityTls', 'namespacePrefix', 'enhancedIdle', 'idleTimeout', 'tlsRequired', 'disableThreadSort',
  'keywords', 'idFields', 'acl', 'checkAllFolders', 'obsoleteClient', 'trashFolder', 'emptyTrash', 'moveExpungeToTrash', 'maxLineLength', 'maxLiteralSize', 'useLocks', 'ftsIndex',
  'logDeletions', 'umask', 'mailboxSanityCheck', 'outbox', 'sendmail', 'headerFrom', 'outboxMultipleSend', 'debugFile',
]);

/** The names of the variables the stdio imapd reads. */
export const ENVIRONMENT_SETTINGS: readonly string[] = SETTINGS.filter((s) => SESSION_FIELDS.has(s.field)).map((s) => s.name);

/**
 * The settings, with the variables named in ENVIRONMENT_SETTINGS taken from `env` and the
 * rest at their defaults. An empty variable counts as unset (as Courier's imapd reads
 * it), unless empty is one of the setting's values (IMAP_NAMESPACE_PREFIX). Throws a
 * ConfigError naming the variable for a value the schema refuses.
 */
export function settingsFromEnvironment(env: Readonly<Record<string, string | undefined>>): LoadedSettings {
  const overrides: Record<string, string> = {};
  for (const spec of SETTINGS) {
    const value = env[spec.name];
    if (!SESSION_FIELDS.has(spec.field) || value === undefined) continue;
    if (value.trim() === '' && !spec.choices?.includes('') && !spec.emptyIsValue) continue;
    overrides[spec.name] = value;
  }
  return settingsFromDocuments({ imapd: null, 'imapd-ssl': null }, process.cwd(), overrides, 'environment');
}
