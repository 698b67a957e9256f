// IMAP dates (RFC 3501 section 9): the SEARCH "date" (1-Feb-1994) and the APPEND /
// INTERNALDATE "date-time" ("17-Jul-1996 02:44:25 -0700").

import { ProtocolError } from './errors.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH_INDEX = new Map(MONTHS.map((m, i) => [m.toUpperCase(), i + 1]));

export interface DateOnly {
  y: number;
  m: number; // 1..12
  d: number; // 1..31
}

function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function checkDay(y: number, m: number, d: number, text: string): void {
  if (d < 1 || d > daysInMonth(y, m)) throw new ProtocolError(`Invalid date "${text}": no day ${d} in that month`);
}

/** SEARCH date: date-day "-" date-month "-" date-year, month name case-insensitive. */
export function parseSearchDate(text: string): DateOnly {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  const month = m ? MONTH_INDEX.get(m[2].toUpperCase()) : undefined;
  if (!m || month === undefined) throw new ProtocolError(`Invalid date "${text.slice(0, 40)}" (expected e.g. 1-Feb-1994)`);
  const y = Number(m[3]);
  const d = Number(m[1]);
  checkDay(y, month, d, text);
  return { y, m: month, d };
}

/**
 * APPEND date-time: "17-Jul-1996 02:44:25 -0700" (the day may be " 7", "07", or, leniently,
 * "7"). Returns milliseconds since the epoch.
 */
export function parseDateTime(text: string): number {
  const m = /^( \d|\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  const month = m ? MONTH_INDEX.get(m[2].toUpperCase()) : undefined;
  if (!m || month === undefined) {
    throw new ProtocolError(`Invalid date-time "${text.slice(0, 40)}" (expected e.g. 17-Jul-1996 02:44:25 -0700)`);
  }
  const d = Number(m[1].trim());
  const y = Number(m[3]);
  const hh = Number(m[4]);
  const mm = Number(m[5]);
  const ss = Number(m[6]);
  const zh = Number(m[8]);
  const zm = Number(m[9]);
  checkDay(y, month, d, text);
  if (hh > 23 || mm > 59 || ss > 60 || zm > 59) throw new ProtocolError(`Invalid date-time "${text}": time out of range`);
  const offset = (m[7] === '-' ? -1 : 1) * (zh * 60 + zm);
  // A leap second (:60) becomes :59; Maildir keeps whole seconds anyway.
  return Date.UTC(y, month - 1, d, hh, mm, Math.min(ss, 59)) - offset * 60_000;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/**
 * INTERNALDATE text "17-Jul-1996 02:44:25 -0700" for a time in ms. The zone is the given
 * offset in minutes east of UTC, else the server's local zone at that time (as Courier).
 * The day is written with two digits ("05-Nov-2023"), as Courier does (RFC 3501 allows
 * " 5" or "05").
 */
export function formatInternalDate(ms: number, tzOffsetMinutes?: number): string {
  const offset = tzOffsetMinutes ?? -new Date(ms).getTimezoneOffset();
  const t = new Date(Math.floor(ms / 1000) * 1000 + offset * 60_000);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return (
    `${pad2(t.getUTCDate())}-${MONTHS[t.getUTCMonth()]}-${t.getUTCFullYear()} ` +
    `${pad2(t.getUTCHours())}:${pad2(t.getUTCMinutes())}:${pad2(t.getUTCSeconds())} ` +
    `${sign}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`
  );
}

/** Midnight UTC of a date, for comparisons with dates from parseSearchDate. */
export function dateOnlyToUtc(date: DateOnly): number {
  return Date.UTC(date.y, date.m - 1, date.d);
}
