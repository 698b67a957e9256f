// The appliance's log: the last lines of the server and of the appliance itself, kept in
// memory for the GUI's log view (a ring buffer: old lines fall out), each with its level,
// time and the account it concerns.

import type { LogFilter, LogLevel, LogLine } from './api.js';

export { formatLogMessage, type LogFields } from '../log/format.js';

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export class LogRing {
  private readonly lines: LogLine[] = [];
  private start = 0;
  private seq = 0;

  constructor(private readonly capacity = 2000) {}

  add(level: LogLevel, account: string | null, message: string, time = Date.now()): LogLine {
    const line: LogLine = { seq: ++this.seq, time, level, account, message };
    if (this.lines.length < this.capacity) this.lines.push(line);
    else {
      this.lines[this.start] = line;
      this.start = (this.start + 1) % this.capacity;
    }
    return line;
  }

  /** Lines in order, oldest first, filtered; at most `limit` (the newest). */
  query(filter: LogFilter = {}): LogLine[] {
    const minRank = LEVEL_RANK[filter.level ?? 'debug'];
    const account = filter.account?.normalize('NFC').toLowerCase();
    const after = filter.after ?? 0;
    const limit = filter.limit ?? 500;
    const out: LogLine[] = [];
    for (let i = 0; i < this.lines.length; i++) {
      const line = this.lines[(this.start + i) % this.lines.length]!;
      if (line.seq <= after || LEVEL_RANK[line.level] < minRank) continue;
      if (account !== undefined && line.account?.normalize('NFC').toLowerCase() !== account) continue;
      out.push(line);
    }
    return out.length > limit ? out.slice(out.length - limit) : out;
  }
}
