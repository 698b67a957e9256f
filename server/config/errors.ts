// Errors and warnings about configuration files, always naming file, line and setting so
// that a message like "imapd:57: MAXPERIP: expected a whole number, got "abc"" tells the
// administrator exactly what to fix.

export class ConfigError extends Error {
  constructor(
    /** File name as given to the parser ("imapd", "/etc/courier/imapd-ssl", "command line"). */
    readonly file: string,
    /** 1-based line number, or 0 when the problem is not tied to a line. */
    readonly line: number,
    /** The setting concerned, or undefined for a syntax problem outside any setting. */
    readonly setting: string | undefined,
    /** What is wrong, without the location prefix. */
    readonly reason: string,
  ) {
    super(formatLocation(file, line, setting) + reason);
    this.name = 'ConfigError';
  }
}

export type ConfigWarningKind =
  /** A Courier setting that has no effect in this server (PIDFILE, TCPDOPTS, ...). */
  | 'ignored'
  /** A Courier setting asking for a feature this server does not have (IMAP_ACL=1, OUTBOX). */
  | 'unsupported'
  /** A name that is no Courier setting we know (a typo?). */
  | 'unknown'
  /** A value we accepted but changed (TLS_PROTOCOL=TLSv1 raised to TLSv1.2). */
  | 'adjusted'
  /** A line of the file we did not understand and left alone. */
  | 'syntax';

export interface ConfigWarning {
  kind: ConfigWarningKind;
  file: string;
  line: number;
  setting?: string;
  message: string;
}

export function formatLocation(file: string, line: number, setting: string | undefined): string {
  return `${file}${line > 0 ? `:${line}` : ''}: ${setting ? `${setting}: ` : ''}`;
}

export function formatWarning(w: ConfigWarning): string {
  return formatLocation(w.file, w.line, w.setting) + w.message;
}
