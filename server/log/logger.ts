// The log interface every layer writes to: the Maildir engine, the IMAP sessions, the
// listeners and the account store. Its own module, below them all, so that the engine
// does not import the IMAP layer to log (the hosts, server/bin and server/appliance,
// provide the implementation).

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, string | number | boolean | undefined>): void;
}
