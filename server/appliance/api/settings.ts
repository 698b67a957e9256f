// The Settings screen: the settings of Courier's imapd and imapd-ssl files as shown, the
// changes asked for, and what checking and applying them found.
// Part of the appliance's API (../api.ts, which re-exports it): imports nothing outside api/.

export type ConfigFileName = 'imapd' | 'imapd-ssl';

export type SettingGroup = 'network' | 'capabilities' | 'idle' | 'tls' | 'folders' | 'operations';

export const SETTING_GROUPS: readonly { id: SettingGroup; title: string }[] = [
  { id: 'network', title: 'Network and limits' },
  { id: 'capabilities', title: 'Capabilities' },
  { id: 'idle', title: 'IDLE and locking' },
  { id: 'tls', title: 'TLS' },
  { id: 'folders', title: 'Trash and folders' },
  { id: 'operations', title: 'Access, logs and processes' },
];

export interface SettingView {
  name: string;
  file: ConfigFileName;
  group: SettingGroup;
  /** How to present it: 'integer', 'yesno', 'boolean', 'choice', 'ports', 'file', ... */
  kind: string;
  /** As it would be written in the file ("" means unset). */
  default: string;
  meaning: string;
  choices?: readonly string[];
  /** The value in force, as text (references such as $ADDRESS expanded). */
  value: string;
  /** Where the value comes from: the file (with its line) or the default. */
  source: { file: string; line: number } | 'default';
  /** The value as written in the file when it refers to other settings ("$IMAP_CAPABILITY AUTH=PLAIN"), else null. */
  reference: string | null;
  /** What a change takes: 'live' (at once, sessions kept), 'new-sessions', or 'listeners' (the listeners restart). */
  /** 'start': read when the appliance starts (ACCOUNTS). */
  applies: 'live' | 'new-sessions' | 'listeners' | 'start';
  /** A setting of this server, not of Courier. */
  ours: boolean;
}

export interface SettingsView {
  configDir: string;
  files: Record<ConfigFileName, string>;
  settings: SettingView[];
  /** Warnings about the files as they are (ignored Courier settings, adjusted values). */
  warnings: string[];
}

/** Setting name to its new value as it would be written in the file; null returns it to its default. */
export type SettingChanges = Record<string, string | null>;

export interface SettingProblem {
  /** The setting concerned, or null for a problem of the whole configuration. */
  setting: string | null;
  message: string;
}

export interface ValidationResult {
  ok: boolean;
  errors: SettingProblem[];
  warnings: SettingProblem[];
  /** What applying would do: which listeners restart, what applies to new sessions only. */
  effects: string[];
}

export interface ApplyResult extends ValidationResult {
  applied: boolean;
  /** Listeners restarted (their sessions were told BYE and reconnect), or false. */
  restartedListeners: boolean;
  sessionsEnded: number;
}

/** What "Test connection" found at an ACCOUNTS value (Settings). */
export interface AccountStoreTest {
  ok: boolean;
  /** One sentence: what was reached and how many accounts it has, or what went wrong (passwords never shown). */
  message: string;
  accounts: number | null;
}
