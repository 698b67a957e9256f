// The client-side model of one selected mailbox that bench/stress.ts keeps for every session,
// to check each untagged response against RFC 3501 as it arrives:
// - a message number is never beyond the EXISTS the session was given (7.4.1, 5.2);
// - EXISTS never shrinks (only EXPUNGE removes messages); EXPUNGE names a message in range, and
//   the count goes down by one; no EXPUNGE during FETCH, STORE or SEARCH (7.4.1);
// - a keyword in FLAGS of a FETCH was announced by an untagged FLAGS first (7.2.6);
// - UIDs rise with sequence numbers and a message keeps its UID; UIDVALIDITY does not change;
//   an APPENDUID is above every UID the session has seen (2.3.1.1);
// - after STORE +FLAGS / -FLAGS a FETCH the server sends for the message shows the change
//   (6.4.6). Only one of them need: a FETCH may come at any time (7.4.2), so one sent after
//   the STORE's own answer may show a concurrent change by another session.
// With the extensions a session enables (ENABLE QRESYNC, ENABLE IMAP4rev2, SELECT (CONDSTORE)):
// - VANISHED only once QRESYNC is on, and then no EXPUNGE (RFC 7162 3.2.10); VANISHED without
//   EARLIER names only messages the session was told of (it lowers the count), never during
//   FETCH, STORE or SEARCH; VANISHED (EARLIER) only in SELECT and UID FETCH, never of a message
//   fetched then; after SELECT (QRESYNC (v m)), every UID the client knew that is gone was in a
//   VANISHED, and every known message changed after m was fetched (checkResync, 3.2.5.2);
// - a message's MODSEQ never goes down, and two FETCHes with one MODSEQ show the same flags
//   (7162 3.1.3: every change of metadata raises it); with CONDSTORE on, MODSEQ in every
//   unsolicited FETCH (3.1.4);
// - no EXPUNGE or VANISHED during CLOSE (RFC 3501 6.4.2);
// - under IMAP4rev2 no RECENT (9051 7.4) and, under IMAP4rev2 or QRESYNC, the UID in every
//   unsolicited FETCH (9051 7.5.2, 7162 3.2.4).
// Each error comes with the session's last lines (commands, responses) as its context.
// It stands alone (no import from the server or the tests) so that it judges every server alike.

export interface StoreExpectation {
  seq: number;
  add: string[];
  remove: string[];
  /** Flags other sessions change both ways meanwhile: not checked. Another session's STORE
   * that lands between ours and our answer legally shows in it (the FETCH gives the flags as
   * they are, RFC 3501 7.4.2); Dovecot shows this with keywords under 50 clients. */
  contested?: string[];
}

type Command = 'FETCH' | 'STORE' | 'SEARCH' | 'OTHER';

/** What a FETCH response tells the model. */
export interface FetchData {
  seq: number;
  uid?: number;
  flags?: string[];
  modseq?: number;
}

/** The numbers of a sequence set ("1:3,7"); ranges longer than `limit` are cut there. */
export function expandSet(set: string, limit = 100_000): number[] {
  const out: number[] = [];
  for (const part of set.split(',')) {
    const [a, b = a] = part.split(':').map(Number) as [number, number?];
    const lo = Math.min(a, b!);
    const hi = Math.max(a, b!);
    for (let n = lo; n <= hi && out.length < limit; n++) out.push(n);
  }
  return out;
}

/** The top-level items of a FETCH response that the model checks; null when the text is not one. */
export function parseFetch(text: string): FetchData | null {
  const m = /^\* (\d+) FETCH \(/i.exec(text);
  if (!m) return null;
  const out: FetchData = { seq: Number(m[1]) };
  let i = m[0].length;
  const n = text.length;
  const skipValue = (): void => {
    // one value at depth 1: a parenthesized list, a quoted string, a literal marker or an atom
    let depth = 0;
    while (i < n) {
      const c = text[i]!;
      if (c === '"') {
        i++;
        while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
        i++;
      } else if (c === '(') {
        depth++;
        i++;
      } else if (c === ')') {
        if (depth === 0) return;
        depth--;
        i++;
        if (depth === 0) return;
      } else if (c === ' ' && depth === 0) return;
      else i++;
    }
  };
  while (i < n && text[i] !== ')') {
    if (text[i] === ' ' || text[i] === '\n') {
      i++;
      continue;
    }
    const start = i;
    // item name; BODY[...]<...> sections contain spaces only inside brackets
    let bracket = 0;
    while (i < n && (bracket > 0 || (text[i] !== ' ' && text[i] !== ')'))) {
      if (text[i] === '[') bracket++;
      else if (text[i] === ']') bracket--;
      i++;
    }
    const name = text.slice(start, i).toUpperCase();
    if (text[i] === ' ') i++;
    const valueStart = i;
    skipValue();
    const value = text.slice(valueStart, i);
    if (name === 'UID') out.uid = Number(value);
    else if (name === 'FLAGS') out.flags = value.replace(/^\(|\)$/g, '').split(' ').filter(Boolean);
    else if (name === 'MODSEQ') out.modseq = Number(value.replace(/^\(|\)$/g, ''));
  }
  return out;
}

export class MailboxModel {
  exists = 0;
  /** UID per sequence number - 1; 0 while unknown. */
  private uids: number[] = [];
  /** Keywords from the latest untagged FLAGS; null before the first. */
  private keywords: Set<string> | null = null;
  uidValidity: number | undefined;
  /** The selected mailbox's name as sent in SELECT (an APPEND elsewhere has another UIDVALIDITY). */
  selectedName = '';
  private command: Command = 'OTHER';
  /** The running command's verb with UID (e.g. "UID FETCH"), upper case. */
  private verb = '';
  /** The mailbox of a running APPEND. */
  private appendTo = '';
  private store: StoreExpectation | undefined;
  /** Every flag list a FETCH of the STORE's message showed during the STORE. */
  private storeSeen: string[][] = [];
  /** The UID the session knew for the STORE's message (0 when unknown), for the report. */
  private storeUid = 0;
  /** ENABLE QRESYNC (VANISHED instead of EXPUNGE; CONDSTORE with it). */
  qresync = false;
  /** CONDSTORE on: ENABLE CONDSTORE or QRESYNC, SELECT (CONDSTORE), or a MODSEQ fetched. */
  condstore = false;
  /** ENABLE IMAP4rev2. */
  rev2 = false;
  /** The highest MODSEQ seen (HIGHESTMODSEQ codes and FETCH), for a later SELECT (QRESYNC ...). */
  highestModseq = 0;
  /** Per UID: the last MODSEQ seen and the flags shown with it (sorted, lower case, no \Recent). */
  private modseqs = new Map<number, { modseq: number; flags?: string }>();
  /** UIDs a VANISHED (EARLIER) of this SELECT named: none of them may be fetched. */
  private readonly vanishedEarlier = new Set<number>();
  /** UIDs that left since the SELECT (VANISHED, or EXPUNGE of a known UID). */
  private readonly goneSinceSelect = new Set<number>();
  /** UIDs the SELECT (QRESYNC ...) fetched. */
  private readonly fetchedInSelect = new Set<number>();
  /** HIGHESTMODSEQ of the last SELECT's answer (0 when none). */
  selectModseq = 0;
  /** Set before a SELECT (QRESYNC (v m)): the UIDs the client knew and m, for checkResync. */
  resync: { uids: readonly number[]; modseq: number } | undefined;
  readonly errors: string[] = [];
  /** The session's last lines, newest last: "C: command", "S: response" (shortened). */
  private readonly trail: string[] = [];

  constructor(private readonly onError: (message: string, context: string[]) => void) {}

  private note(line: string): void {
    this.trail.push(line.length > 160 ? `${line.slice(0, 160)}...` : line);
    if (this.trail.length > TRAIL) this.trail.shift();
  }

  /** A new SELECT: forget the previous view. */
  reset(): void {
    this.exists = 0;
    this.uids = [];
    this.keywords = null;
    this.uidValidity = undefined;
    this.modseqs.clear();
    this.vanishedEarlier.clear();
    this.goneSinceSelect.clear();
    this.fetchedInSelect.clear();
    this.selectModseq = 0;
  }

  /**
   * After SELECT (QRESYNC (v m)) and a UID FETCH 1:* (FLAGS MODSEQ): every UID the client knew
   * that is gone was in VANISHED (EARLIER) or has vanished since; every message it knew whose
   * MODSEQ is above m and not above the SELECT's HIGHESTMODSEQ was fetched in the SELECT
   * (RFC 7162 3.2.5.2).
   */
  checkResync(): void {
    const resync = this.resync;
    this.resync = undefined;
    if (!resync || !this.selectModseq) return;
    const now = new Set(this.uids);
    const missing = resync.uids.filter((uid) => !now.has(uid) && !this.vanishedEarlier.has(uid) && !this.goneSinceSelect.has(uid));
    if (missing.length) this.error(`SELECT (QRESYNC (${this.uidValidity} ${resync.modseq})): UIDs ${missing.slice(0, 10).join(',')} are gone but were not in VANISHED (EARLIER)`);
    const unfetched = resync.uids.filter((uid) => {
      const modseq = this.modseqs.get(uid)?.modseq ?? 0;
      return now.has(uid) && modseq > resync.modseq && modseq <= this.selectModseq && !this.fetchedInSelect.has(uid);
    });
    if (unfetched.length) {
      const uid = unfetched[0]!;
      this.error(`SELECT (QRESYNC (${this.uidValidity} ${resync.modseq})) with HIGHESTMODSEQ ${this.selectModseq}: UID ${uid} has MODSEQ ${this.modseqs.get(uid)?.modseq} but was not fetched (and ${unfetched.length - 1} more)`);
    }
  }

  /** The last MODSEQ the session saw of a UID (0 when none). */
  modseqOf(uid: number): number {
    return this.modseqs.get(uid)?.modseq ?? 0;
  }

  /** The flags seen with that MODSEQ (lower case, sorted, joined by spaces), if a FETCH showed them. */
  flagsOf(uid: number): string | undefined {
    return this.modseqs.get(uid)?.flags;
  }

  /** UIDs the session knows of the messages it was told of (0 for the unknown ones). */
  get knownUids(): readonly number[] {
    return this.uids;
  }

  /** The message number of a UID the session knows; 0 when it does not. */
  seqOf(uid: number): number {
    return this.uids.indexOf(uid) + 1;
  }

  /** Report a violation found outside the model (stress-checks.ts), with this session's trail. */
  fail(message: string): void {
    this.error(message);
  }

  /** Before a command is sent: which kind it is, and what a STORE must show. */
  begin(command: string, store?: StoreExpectation): void {
    const words = command.split(' ', 2).map((w) => w.toUpperCase());
    const uid = words[0] === 'UID';
    const verb = uid ? words[1] ?? '' : words[0]!;
    this.verb = uid ? `UID ${verb}` : verb;
    this.appendTo = verb === 'APPEND' ? command.split(' ')[1] ?? '' : '';
    // RFC 3501 7.4.1: no EXPUNGE during FETCH, STORE or SEARCH; the UID forms may have one
    this.command = !uid && (verb === 'FETCH' || verb === 'STORE' || verb === 'SEARCH') ? verb : 'OTHER';
    if (/^(SELECT|EXAMINE) .*\((CONDSTORE|QRESYNC)\b/i.test(command)) this.condstore = true;
    this.store = store;
    this.storeSeen = [];
    this.storeUid = store ? this.uids[store.seq - 1] ?? 0 : 0;
    this.note(`C: ${command}`);
  }

  /** After the tagged reply. */
  end(status: string, text: string): void {
    this.note(`S: ${status} ${text}`);
    const store = this.store;
    if (store && status === 'OK' && this.storeSeen.length) {
      const contested = store.contested ?? [];
      const add = store.add.filter((f) => !hasFlag(contested, f));
      const remove = store.remove.filter((f) => !hasFlag(contested, f));
      const shows = (flags: string[]) => add.every((f) => hasFlag(flags, f)) && !remove.some((f) => hasFlag(flags, f));
      if (!this.storeSeen.some(shows)) {
        const flags = this.storeSeen[0]!;
        const missing = add.filter((f) => !hasFlag(flags, f));
        const kept = remove.filter((f) => hasFlag(flags, f));
        this.error(`flags after STORE of ${store.seq} (UID ${this.storeUid || '?'}): (${flags.join(' ')}) lacks [${missing.join(' ')}] or keeps [${kept.join(' ')}]`);
      }
    }
    const appendUid = /\[APPENDUID (\d+) ([\d:,]+)\]/i.exec(text);
    if (appendUid && status === 'OK' && this.verb === 'APPEND' && this.appendTo === this.selectedName) {
      const [validity, uid] = [Number(appendUid[1]), Math.min(...expandSet(appendUid[2]!, 1000))];
      if (this.uidValidity !== undefined && validity !== this.uidValidity) this.error(`APPENDUID validity ${validity} but the mailbox has ${this.uidValidity}`);
      const highest = this.uids.reduce((a, b) => Math.max(a, b), 0);
      if (uid <= highest) this.error(`APPENDUID ${uid} not above the highest UID seen (${highest})`);
    }
    const modseq = /\[HIGHESTMODSEQ (\d+)\]/i.exec(text);
    if (modseq) this.highestModseq = Math.max(this.highestModseq, Number(modseq[1]));
    this.command = 'OTHER';
    this.verb = '';
    this.store = undefined;
    this.storeSeen = [];
  }

  /** One untagged response (its text; literal contents left out). */
  handle(text: string): void {
    this.note(`S: ${text}`);
    let m: RegExpExecArray | null;
    if ((m = /^\* (\d+) EXISTS\b/i.exec(text))) {
      const n = Number(m[1]);
      if (n < this.exists) this.error(`* ${n} EXISTS after ${this.exists} without EXPUNGE`);
      while (this.uids.length < n) this.uids.push(0);
      this.exists = Math.max(n, this.exists);
    } else if ((m = /^\* (\d+) RECENT\b/i.exec(text))) {
      if (this.rev2) this.error(`* ${m[1]} RECENT under IMAP4rev2 (RFC 9051 has no RECENT)`);
      if (Number(m[1]) > this.exists) this.error(`* ${m[1]} RECENT above EXISTS ${this.exists}`);
    } else if ((m = /^\* (\d+) EXPUNGE\b/i.exec(text))) {
      const n = Number(m[1]);
      if (this.qresync) this.error(`* ${n} EXPUNGE after ENABLE QRESYNC (VANISHED instead, RFC 7162 3.2.10)`);
      if (this.command !== 'OTHER') this.error(`* ${n} EXPUNGE during ${this.command}`);
      if (this.verb === 'CLOSE') this.error(`* ${n} EXPUNGE during CLOSE (RFC 3501 6.4.2: none is sent)`);
      if (n < 1 || n > this.exists) this.error(`* ${n} EXPUNGE with EXISTS ${this.exists}`);
      else this.remove(n);
    } else if ((m = /^\* VANISHED (\(EARLIER\) )?([\d:,]+)\s*$/i.exec(text))) {
      this.vanished(Boolean(m[1]), m[2]!);
    } else if (/^\* FLAGS \(/i.test(text)) {
      const list = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
      this.keywords = new Set(list.split(' ').filter((f) => f && !f.startsWith('\\')).map((f) => f.toLowerCase()));
    } else if ((m = /^\* OK \[UIDVALIDITY (\d+)\]/i.exec(text))) {
      const v = Number(m[1]);
      if (this.uidValidity !== undefined && v !== this.uidValidity) this.error(`UIDVALIDITY changed from ${this.uidValidity} to ${v}`);
      this.uidValidity = v;
    } else if ((m = /^\* OK \[HIGHESTMODSEQ (\d+)\]/i.exec(text))) {
      this.highestModseq = Math.max(this.highestModseq, Number(m[1]));
      if (this.verb === 'SELECT' || this.verb === 'EXAMINE') this.selectModseq = Number(m[1]);
    } else if (/^\* \d+ FETCH \(/i.test(text)) {
      this.fetch(text);
    }
  }

  /** Message n leaves (EXPUNGE, or VANISHED of its UID). */
  private remove(n: number): void {
    const uid = this.uids[n - 1];
    if (uid) this.modseqs.delete(uid);
    if (uid) this.goneSinceSelect.add(uid);
    this.uids.splice(n - 1, 1);
    this.exists--;
    if (this.store && this.store.seq === n) this.store = undefined;
    else if (this.store && this.store.seq > n) this.store.seq--;
  }

  private vanished(earlier: boolean, set: string): void {
    if (!this.qresync) this.error(`* VANISHED ${set} without ENABLE QRESYNC`);
    if (earlier) {
      // RFC 7162 3.2.5.2, 3.2.6: only a SELECT (QRESYNC ...) or a UID FETCH (VANISHED) has them
      if (this.verb !== 'SELECT' && this.verb !== 'EXAMINE' && this.verb !== 'UID FETCH') this.error(`* VANISHED (EARLIER) during ${this.verb || 'no command'}`);
      for (const uid of expandSet(set)) {
        if (this.uids.includes(uid)) this.error(`* VANISHED (EARLIER) ${uid}, a message the session was told is there`);
        this.vanishedEarlier.add(uid);
      }
      return;
    }
    if (this.command !== 'OTHER') this.error(`* VANISHED ${set} during ${this.command} (RFC 7162 3.2.10: as EXPUNGE)`);
    if (this.verb === 'CLOSE') this.error(`* VANISHED ${set} during CLOSE (RFC 7162 3.2.10)`);
    for (const uid of expandSet(set)) {
      const at = this.uids.indexOf(uid);
      if (at >= 0) {
        this.remove(at + 1);
        continue;
      }
      // A UID the session was not told: there must be a message of unknown UID where it would be.
      let lo = 0;
      let hi = this.uids.length;
      for (let i = 0; i < this.uids.length; i++) {
        const u = this.uids[i]!;
        if (u && u < uid) lo = i + 1;
        if (u && u > uid) {
          hi = i;
          break;
        }
      }
      const slot = this.uids.slice(lo, hi).indexOf(0);
      if (slot < 0) {
        this.error(`* VANISHED ${uid}: no such message in the session's view of ${this.exists} (RFC 7162 3.2.10)`);
        continue;
      }
      this.remove(lo + slot + 1);
    }
  }

  private fetch(text: string): void {
    const f = parseFetch(text);
    if (!f) return;
    const n = f.seq;
    if (n < 1 || n > this.exists) {
      this.error(`* ${n} FETCH with EXISTS ${this.exists}: ${text.slice(0, 100)}`);
      return;
    }
    const solicited = this.verb === 'FETCH' || this.verb === 'UID FETCH' || (this.store !== undefined && this.store.seq === n) || this.verb === 'SELECT' || this.verb === 'EXAMINE';
    if (!solicited && f.uid === undefined && (this.rev2 || this.qresync)) this.error(`* ${n} FETCH without UID during ${this.verb || 'no command'} under ${this.rev2 ? 'IMAP4rev2' : 'QRESYNC'}: ${text.slice(0, 100)}`);
    if (!solicited && f.modseq === undefined && f.flags && this.condstore) this.error(`* ${n} FETCH FLAGS without MODSEQ during ${this.verb || 'no command'} with CONDSTORE on (RFC 7162 3.1.4): ${text.slice(0, 100)}`);
    if (f.uid !== undefined && this.verb === 'SELECT') this.fetchedInSelect.add(f.uid);
    if (f.uid !== undefined && this.vanishedEarlier.has(f.uid)) this.error(`* ${n} FETCH of UID ${f.uid}, which VANISHED (EARLIER) said was expunged`);
    if (f.uid !== undefined) {
      const known = this.uids[n - 1]!;
      if (known && known !== f.uid) this.error(`message ${n} had UID ${known}, now ${f.uid}`);
      const below = this.uids[n - 2];
      const above = this.uids[n];
      if (below && below >= f.uid) this.error(`UID ${f.uid} of ${n} not above UID ${below} of ${n - 1}`);
      if (above && above <= f.uid) this.error(`UID ${f.uid} of ${n} not below UID ${above} of ${n + 1}`);
      this.uids[n - 1] = f.uid;
    }
    if (f.modseq !== undefined) this.modseq(this.uids[n - 1]!, f);
    if (f.flags) {
      for (const flag of f.flags) {
        if (flag.startsWith('\\')) continue;
        if (this.keywords && !this.keywords.has(flag.toLowerCase())) {
          this.error(`keyword ${flag} in * ${n} FETCH before a FLAGS response announced it`);
          this.keywords.add(flag.toLowerCase()); // once per keyword and session
        }
      }
      if (this.store && this.store.seq === n) this.storeSeen.push(f.flags);
    }
  }

  private modseq(uid: number, f: FetchData): void {
    const modseq = f.modseq!;
    this.condstore = true;
    this.highestModseq = Math.max(this.highestModseq, modseq);
    if (!uid) return;
    const flags = f.flags?.filter((x) => x.toLowerCase() !== '\\recent').map((x) => x.toLowerCase()).sort().join(' ');
    const last = this.modseqs.get(uid);
    if (last && modseq < last.modseq) this.error(`UID ${uid}: MODSEQ ${modseq} after ${last.modseq} (RFC 7162 3.1.3: it never goes down)`);
    if (last && modseq === last.modseq && flags !== undefined && last.flags !== undefined && flags !== last.flags) {
      this.error(`UID ${uid}: flags (${flags}) and earlier (${last.flags}) with one MODSEQ ${modseq} (RFC 7162 3.1.3)`);
    }
    if (!last || modseq > last.modseq) this.modseqs.set(uid, flags === undefined ? { modseq } : { modseq, flags });
    else if (flags !== undefined && last.flags === undefined) last.flags = flags;
  }

  private error(message: string): void {
    this.errors.push(message);
    this.onError(message, [...this.trail]);
  }
}

/** Lines of context kept per session. */
const TRAIL = 40;

function hasFlag(flags: string[], flag: string): boolean {
  const lower = flag.toLowerCase();
  return flags.some((f) => f.toLowerCase() === lower);
}
