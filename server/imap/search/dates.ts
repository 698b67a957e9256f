// Calendar days for the date search keys. RFC 3501 6.4.4 compares dates "disregarding
// time and timezone", so everything here works on a day number y*10000 + m*100 + d.

import type { MessageInfo } from '../../backend/mailstore.js';
import type { MessageMeta } from '../../mime/types.js';

/** RFC 5256 section 2.2 "sent date" for SORT and THREAD: the Date: header as an instant,
 * or INTERNALDATE when the header is missing or unparseable. */
export function sentDate(m: { info: MessageInfo; meta: MessageMeta }): number {
  return m.meta.sentDate ?? m.info.internalDate;
}

/** Day number of a calendar date (month 1-12); only its order matters. */
export function dayNumber(y: number, m: number, d: number): number {
  return y * 10000 + m * 100 + d;
}

/** Day of an instant in the server's local time zone (what Dovecot uses for INTERNALDATE). */
export function localDay(ms: number): number {
  const date = new Date(ms);
  return dayNumber(date.getFullYear(), date.getMonth() + 1, date.getDate());
}

export function utcDay(ms: number): number {
  const date = new Date(ms);
  return dayNumber(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate());
}

const MONTHS: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
};

// "[Mon,] 10 Mar 2024 ...": day, month name, year (RFC 5322 3.3 and the obsolete forms of 4.3,
// which allow comments and folding whitespace between the parts).
const DATE_PART = /(?:^|[\s,(])(\d{1,2})[\s-]+([a-z]{3})[a-z]*\.?[\s-]+(\d{2,4})(?![\d])/i;

/**
 * The calendar day written in a Date: header, in the header's own time zone, or null when
 * no day-month-year can be found. Two- and three-digit years follow RFC 5322 4.3.
 */
export function headerDay(dateHeader: string): number | null {
  const match = DATE_PART.exec(dateHeader);
  if (!match) return null;
  const month = MONTHS[match[2].toLowerCase()];
  if (month === undefined) return null;
  const day = Number(match[1]);
  let year = Number(match[3]);
  if (match[3].length === 2) year += year < 50 ? 2000 : 1900;
  else if (match[3].length === 3) year += 1900;
  if (day < 1 || day > 31) return null;
  return dayNumber(year, month, day);
}
