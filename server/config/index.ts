// Courier-style configuration: the file format, the settings we honour, and loading.
export { CourierConfig, parseCourierConfig, encodeValue } from './courier-file.js';
export type { AssignmentEntry, ConfigEntry, EvaluatedValue, OtherEntry, Quoting, ValuePart } from './courier-file.js';
export { ConfigError, formatWarning } from './errors.js';
export type { ConfigWarning, ConfigWarningKind } from './errors.js';
export { writeFileAtomic } from './atomic-write.js';
export { DEBUG_FILE_MAX_BYTES, SETTINGS, SETTINGS_BY_NAME } from './settings.js';
export { DEFAULT_SESSION_TIMEOUTS, SettingValueError, resolveEndpoints } from './settings-types.js';
export type { AnySettingSpec, Endpoint, ImapdSettings, PortSpec, SettingKind, SettingSpec, TlsVersion } from './settings-types.js';
export { COURIER_SETTINGS_NOT_HONOURED } from './not-honoured.js';
export { settingsTableMarkdown } from './settings-markdown.js';
export { CONFIG_FILES, loadSettings, notHonoured, settingsFromDocuments } from './load.js';
export { ENVIRONMENT_SETTINGS, settingsFromEnvironment } from './environment.js';
export { DEFAULT_CAPABILITY, SUPPORTED_WORDS, VALUED_WORDS, sessionSettingsFrom } from './session.js';
export type { OutboxSettings, SessionSettings } from './session.js';
export type { ConfigFileName, LoadSettingsOptions, LoadedSettings, SettingSource } from './load.js';
