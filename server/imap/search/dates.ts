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
