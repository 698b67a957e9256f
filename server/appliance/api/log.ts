// The Log screen: lines and the filter asked for.
// Part of the appliance's API (../api.ts, which re-exports it): imports nothing outside api/.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogLine {
  seq: number;
  time: number;
  level: LogLevel;
  account: string | null;
  message: string;
}

export interface LogFilter {
  /** Lowest level shown (debug < info < warn < error). */
  level?: LogLevel;
  /** Only lines of this account (case-insensitive). */
  account?: string;
  /** Only lines after this sequence number. */
  after?: number;
  /** At most this many lines, the newest. Default 500. */
  limit?: number;
}
