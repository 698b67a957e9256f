// Date: header parsing: RFC 5322 section 3.3 plus the obsolete forms of section 4.3 and the
// common malformed ones (asctime order, missing weekday or seconds, two-digit years, named and
// military zones, "+00:00" offsets, trailing "(UTC)" comments).

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const ZONES: Record<string, number> = {
  ut: 0, utc: 0, gmt: 0, z: 0,
  est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480, pdt: -420,
};

export interface ParsedDate {
  /** Milliseconds since the epoch (UTC). */
  time: number;
  /** The zone offset written in the header, in minutes east of UTC. */
  offsetMinutes: number;
  /** The calendar date as written (in the sender's zone): what SENTBEFORE/SENTON/SENTSINCE
   * compare, since RFC 3501 says to disregard time and timezone. */
  year: number;
  month: number;
  day: number;
}

/** The usual RFC 5322 form, "Tue, 3 Jan 2023 22:13:20 +0900", taken apart without the general path. */
const USUAL = /^(?:([A-Za-z]{3}),[ \t]*)?(\d{1,2})[ \t]+([A-Za-z]{3})[ \t]+(\d{4})[ \t]+(\d{2}):(\d{2}):(\d{2})[ \t]+([+-])(\d{2})(\d{2})$/;

/** Parses a Date: value; null when no date can be made of it. */
export function parseDate(value: string): ParsedDate | null {
  const usual = USUAL.exec(value);
  if (usual !== null) {
    const month = MONTHS.indexOf(usual[3].toLowerCase());
    const day = Number(usual[2]);
    const hour = Number(usual[5]);
    const minute = Number(usual[6]);
    const second = Number(usual[7]);
    // The same answer as below, as long as the weekday is not a month name and nothing is out of range.
    if (month >= 0 && (usual[1] === undefined || !MONTHS.includes(usual[1].toLowerCase())) && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 60) {
      const mins = Number(usual[9]) * 60 + Number(usual[10]);
      const off = usual[8] === '-' ? -mins : mins;
      const year = Number(usual[4]);
      const local = Date.UTC(year, month, day, hour, minute, Math.min(second, 59));
      if (year >= 1000 && !Number.isNaN(local)) return { time: local - off * 60000, offsetMinutes: off, year, month: month + 1, day };
    }
  }
  return parseDateGeneral(value);
}

/** The general path (exported for tests that compare it with the quick one). */
export function parseDateGeneral(value: string): ParsedDate | null {
  const s = value.replace(/\([^()]*\)/g, ' ').toLowerCase();
  const words = s.split(/[\s,]+/).filter((w) => w !== '');
  let day = -1;
  let month = -1;
  let year = -1;
  let hour = -1;
  let minute = 0;
  let second = 0;
  let offset: number | null = null;
  const numbers: string[] = [];
  for (const w of words) {
    const time = /^(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(?:\.\d+)?$/.exec(w);
    if (time !== null && hour < 0) {
      hour = Number(time[1]);
      minute = Number(time[2]);
      second = time[3] === undefined ? 0 : Number(time[3]);
      continue;
    }
    const zone = /^([+-])(\d{2}):?(\d{2})$/.exec(w);
    if (zone !== null && hour >= 0 && offset === null) {
      const mins = Number(zone[2]) * 60 + Number(zone[3]);
      offset = zone[1] === '-' ? -mins : mins;
      continue;
    }
    if (/^\d+$/.test(w)) {
      numbers.push(w);
      continue;
    }
    const dm = /^(\d{1,2})-?([a-z]{3})[a-z]*-?(\d{2,4})?$/.exec(w); // "14-Nov-2023"
    if (dm !== null && MONTHS.includes(dm[2]) && month < 0) {
      day = Number(dm[1]);
      month = MONTHS.indexOf(dm[2]);
      if (dm[3] !== undefined) numbers.push(dm[3]);
      continue;
    }
    const m = MONTHS.indexOf(w.slice(0, 3));
    if (m >= 0 && month < 0 && /^[a-z]+\.?$/.test(w)) {
      month = m;
      continue;
    }
    if (hour >= 0 && offset === null && w in ZONES) {
      offset = ZONES[w];
      continue;
    }
    if (hour >= 0 && offset === null && /^[a-ik-z]$/.test(w)) {
      offset = 0; // military zones: RFC 5322 4.3 says to treat them as -0000
      continue;
    }
  }
  // Numbers in order: day then year (RFC 5322), or year last (asctime "Nov 14 23:13:20 2023").
  for (const nstr of numbers) {
    const n = Number(nstr);
    if (day < 0 && nstr.length <= 2 && n >= 1 && n <= 31) day = n;
    else if (year < 0) year = nstr.length === 2 ? (n < 50 ? 2000 + n : 1900 + n) : nstr.length === 3 ? 1900 + n : n;
  }
  if (day < 1 || month < 0 || year < 1000 || year > 9999) return null;
  if (hour < 0) hour = 0;
  if (hour > 23 || minute > 59 || second > 60 || day > 31) return null;
  const off = offset ?? 0;
  const local = Date.UTC(year, month, day, hour, minute, Math.min(second, 59));
  if (Number.isNaN(local)) return null;
  return { time: local - off * 60000, offsetMinutes: off, year, month: month + 1, day };
}
