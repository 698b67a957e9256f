// A client-side model of one session's selected mailbox that checks every untagged
// response against RFC 3501: no message number beyond the last EXISTS (5.2, 7.4.1),
// EXPUNGE n within 1..count and never during a non-UID FETCH, STORE or SEARCH (7.4.1),
// EXISTS never lowering the count (7.3.1, 7.4.1), keywords in FETCH FLAGS only after a
// FLAGS response that lists them (7.2.6), UIDs rising with message numbers (2.3.1.1), and
// after STORE +FLAGS / -FLAGS (not .SILENT) a FETCH of a stored message that shows the
// change (6.4.6): when several FETCHes of it come, one is enough (a later one may show
// another session's change, 7.4.2); none at all is allowed (the message was expunged).
// With the extensions the session turns on (seen in its responses: * ENABLED, SELECT (CONDSTORE)):
// VANISHED only after ENABLE QRESYNC and then no EXPUNGE (RFC 7162 3.2.10); VANISHED without
// EARLIER names messages the session was told of, lowers the count, and never comes during
// FETCH, STORE or SEARCH; VANISHED (EARLIER) only in SELECT, EXAMINE and UID FETCH; a message's
// MODSEQ never goes down and one MODSEQ shows one set of flags (7162 3.1.3); with CONDSTORE on,
// MODSEQ in every unsolicited FETCH of flags (3.1.4); under IMAP4rev2 no RECENT, and under
// IMAP4rev2 or QRESYNC the UID in every unsolicited FETCH (RFC 9051 7.5.2, 7162 3.2.4). Kept
// searches (SEARCH RETURN (... UPDATE), RFC 5267) are followed through ESEARCH ALL, ADDTO and
// REMOVEFROM (`kept(tag)`) so that a test can hold them against a plain SEARCH.
// It has no server-specific knowledge: the tests and bench:stress feed it every response
// line of a session, ours or a peer's.
//
//   const check = new UntaggedChecker('A');
//   check.feed('SELECT INBOX', reply.lines);   // the command text, without its tag
//   ...
//   check.assertClean();                       // throws with every error and its context

import { parseResponse, type Node } from './response.js';

export class UntaggedChecker {
  /** Messages the client has been told of (the last EXISTS, less the EXPUNGEs since). */
  count = 0;
  /** UID at each message number (index seq - 1), 0 where no response has told it yet. */
  uids: number[] = [];
  /** Keywords (lower case) of the last FLAGS response. */
  keywords = new Set<string>();
  /** Whether a mailbox is selected (after SELECT or EXAMINE). */
  selected = false;
  /** Extensions on: ENABLED QRESYNC / IMAP4REV2 / CONDSTORE, SELECT (CONDSTORE). */
  qresync = false;
  rev2 = false;
  condstore = false;
  /** Per UID: the last MODSEQ and the flags shown with it (sorted, upper case, without \RECENT). */
  private readonly modseqs = new Map<number, { modseq: number; flags?: string }>();
  /** Kept searches (RFC 5267) by tag: their results as ESEARCH told them (UIDs or numbers). */
  private readonly keptResults = new Map<string, Set<number>>();
  /** The tag of the running command, when the caller gives it (`begin(command, tag)`). */
  private tag = '';
  readonly errors: string[] = [];
  /** The last lines seen, for the error report. */
  private readonly recent: string[] = [];
  /** The current command, upper case, and as sent (for error messages). */
  private command = '';
  private commandText = '';

  /**
   * Check that a STORE's own FETCH shows its change (6.4.6). Off where other sessions change
   * the same flags at the same time: the FETCH may then rightly show their later change
   * (7.4.2), and nothing on the client's side can tell the two apart.
   */
  storeResultsChecked = true;

  constructor(readonly name = 'session') {}

  /**
   * Check the untagged lines of one command's response (or of an IDLE's pushes, with the
   * command 'IDLE'). `command` is the command as sent, without its tag: SELECT and EXAMINE
   * start a new mailbox model, CLOSE and UNSELECT end it, and it decides whether EXPUNGE
   * may appear and whether SEARCH results are message numbers.
   */
  feed(command: string, lines: readonly string[], tag = ''): void {
    this.begin(command, tag);
    for (const line of lines) this.line(line);
    this.end();
  }

  /** Start a command: lines fed with `line()` belong to it until `end()`. */
  begin(command: string, tag = ''): void {
    this.commandText = command.trim();
    this.command = this.commandText.toUpperCase();
    this.tag = tag;
    if (/^(SELECT|EXAMINE) .*\((CONDSTORE|QRESYNC)\b/.test(this.command)) this.condstore = true;
    if (/\bRETURN \([^)]*\bUPDATE\b/.test(this.command) && tag) this.keptResults.set(tag, new Set());
    this.store = this.storeExpectation();
    this.storeSet = this.storedMessages();
    if (/^(SELECT|EXAMINE) /.test(this.command)) {
      this.selected = true;
      this.count = 0;
      this.uids = [];
      this.keywords = new Set();
      this.selecting = true;
      this.modseqs.clear();
      this.keptResults.clear();
    }
  }

  end(): void {
    if (this.store) this.checkStore(this.store);
    this.store = undefined;
    this.storeSet = undefined;
    if (/^(CLOSE|UNSELECT)\b/.test(this.command)) this.selected = false;
    this.selecting = false;
    this.command = '';
    this.commandText = '';
  }

  private selecting = false;

  /** What the running STORE must show: its set, by number or UID, and the flag change. */
  private store: StoreCheck | undefined;

  /** The messages any STORE names (also .SILENT, FLAGS, UNCHANGEDSINCE): their FETCH is the STORE's own. */
  private storeSet: Pick<StoreCheck, 'byUid' | 'ranges'> | undefined;

  private storedMessages(): Pick<StoreCheck, 'byUid' | 'ranges'> | undefined {
    const m = /^(UID )?STORE ([0-9:,*]+) /.exec(this.command);
    return m ? { byUid: Boolean(m[1]), ranges: rangesOf(m[2], m[1] ? Infinity : this.count) } : undefined;
  }

  private storeExpectation(): StoreCheck | undefined {
    const m = /^(UID )?STORE ([0-9:,*]+) ([+-])FLAGS \(([^)]*)\)$/.exec(this.command);
    if (!m) return undefined;
    const ranges = rangesOf(m[2], m[1] ? Infinity : this.count);
    const flags = m[4].split(' ').filter(Boolean);
    return { byUid: Boolean(m[1]), ranges, add: m[3] === '+', flags, seen: new Map() };
  }

  private checkStore(store: StoreCheck): void {
    if (!this.storeResultsChecked) return;
    for (const [key, lists] of store.seen) {
      const shows = (list: string[]) => store.flags.every((f) => list.includes(f) === store.add);
      if (!lists.some(shows)) {
        this.error(`${store.byUid ? 'UID' : 'message'} ${key}: FLAGS (${lists[0].join(' ')}) after ${store.add ? '+' : '-'}FLAGS (${store.flags.join(' ')}) (RFC 3501 6.4.6)`);
      }
    }
  }

  /** A FETCH during a STORE: keep its flags if it is of a stored message. */
  private storeFetch(n: number, uid: number | undefined, flags: Node): void {
    const store = this.store;
    if (!store || !Array.isArray(flags)) return;
    const key = store.byUid ? uid : n;
    if (key === undefined || !store.ranges.some(([a, b]) => key >= a && key <= b)) return;
    const list = flags.map((f) => String(f).toUpperCase());
    store.seen.set(key, [...(store.seen.get(key) ?? []), list]);
  }

  /** Check one response line (literals inlined, as ImapTestClient returns them). */
  line(text: string): void {
    this.recent.push(text.length > 300 ? `${text.slice(0, 300)}...` : text);
    if (this.recent.length > 40) this.recent.shift();
    if (!text.startsWith('* ')) return;
    const head = /^\* (\d+) ([A-Za-z]+)/.exec(text);
    if (head) {
      const n = Number(head[1]);
      const kind = head[2].toUpperCase();
      if (kind === 'EXISTS') this.exists(n);
      else if (kind === 'EXPUNGE') this.expunge(n);
      else if (kind === 'FETCH') this.fetch(n, text);
      else if (kind === 'RECENT' && n > this.count) this.error(`* ${n} RECENT with only ${this.count} messages`);
      if (kind === 'RECENT' && this.rev2) this.error(`* ${n} RECENT under IMAP4rev2 (RFC 9051 has none)`);
      return;
    }
    const word = /^\* ([A-Za-z]+)/.exec(text)?.[1].toUpperCase();
    if (word === 'ENABLED') this.enabled(text);
    else if (word === 'VANISHED') this.vanished(text);
    else if (word === 'ESEARCH') this.esearch(text);
    else if (word === 'FLAGS') this.flags(text);
    else if (word === 'SEARCH' && !this.command.startsWith('UID ')) this.search(text);
  }

  private exists(n: number): void {
    // RFC 3501 7.4.1: only EXPUNGE may lower the count; a SELECT's EXISTS sets it.
    if (!this.selecting && n < this.count) this.error(`* ${n} EXISTS lowers the count from ${this.count}`);
    this.count = n;
    if (this.uids.length > n) this.uids.length = n;
    while (this.uids.length < n) this.uids.push(0);
  }

  private enabled(text: string): void {
    const words = text.toUpperCase().split(' ').slice(2);
    if (words.includes('QRESYNC')) this.qresync = this.condstore = true;
    if (words.includes('CONDSTORE')) this.condstore = true;
    if (words.includes('IMAP4REV2')) this.rev2 = true;
  }

  /** The result of the kept search started by the command tagged `tag` (begin(command, tag)). */
  kept(tag: string): ReadonlySet<number> | undefined {
    return this.keptResults.get(tag);
  }

  private esearch(text: string): void {
    const m = /^\* ESEARCH \(TAG "([^"]+)"\)( UID)?(.*)$/i.exec(text);
    const result = m && this.keptResults.get(m[1]);
    if (!m || !result) return;
    const all = /\bALL ([\d:,]+)/i.exec(m[3]);
    if (all) for (const n of numbersOf(all[1])) result.add(n);
    for (const u of m[3].matchAll(/\b(ADDTO|REMOVEFROM) \((\d+) ([\d:,]+)\)/gi)) {
      for (const n of numbersOf(u[3])) {
        if (!m[2] && (n < 1 || n > this.count)) this.error(`* ESEARCH ${u[1]} message ${n} with ${this.count} messages`);
        if (u[1].toUpperCase() === 'ADDTO') result.add(n);
        else result.delete(n);
      }
    }
  }

  private vanished(text: string): void {
    const m = /^\* VANISHED (\(EARLIER\) )?([\d:,]+)\s*$/i.exec(text);
    if (!m) {
      this.error(`VANISHED without a UID set: ${text}`);
      return;
    }
    if (!this.qresync) this.error(`* VANISHED without ENABLE QRESYNC (RFC 7162 3.2.10)`);
    if (m[1]) {
      if (!/^(SELECT|EXAMINE|UID FETCH) /.test(this.command)) this.error(`* VANISHED (EARLIER) during ${this.command.split(' ')[0] || 'no command'} (RFC 7162 3.2.10)`);
      return;
    }
    if (/^(FETCH|STORE|SEARCH) /.test(this.command)) this.error(`* VANISHED during ${this.command.split(' ')[0]} (RFC 7162 3.2.10: as EXPUNGE, RFC 3501 7.4.1)`);
    for (const uid of numbersOf(m[2])) {
      const at = this.uids.indexOf(uid);
      if (at >= 0) {
        this.removeAt(at);
        continue;
      }
      // Not a UID the session was told: a message of unknown UID must stand where it would.
      let lo = 0;
      let hi = this.uids.length;
      for (let i = 0; i < this.uids.length; i++) {
        if (this.uids[i] && this.uids[i] < uid) lo = i + 1;
        if (this.uids[i] > uid) {
          hi = i;
          break;
        }
      }
      const slot = this.uids.slice(lo, hi).indexOf(0);
      if (slot < 0) this.error(`* VANISHED ${uid}: no such message among the ${this.count} the session was told of (RFC 7162 3.2.10)`);
      else this.removeAt(lo + slot);
    }
  }

  private removeAt(index: number): void {
    this.modseqs.delete(this.uids[index]);
    this.uids.splice(index, 1);
    this.count -= 1;
  }

  private expunge(n: number): void {
    if (this.qresync) this.error(`* ${n} EXPUNGE after ENABLE QRESYNC (VANISHED instead, RFC 7162 3.2.10)`);
    if (/^(FETCH|STORE|SEARCH) /.test(this.command)) this.error(`* ${n} EXPUNGE during ${this.command.split(' ')[0]} (RFC 3501 7.4.1)`);
    if (n < 1 || n > this.count) {
      this.error(`* ${n} EXPUNGE with ${this.count} messages`);
      return;
    }
    this.removeAt(n - 1);
  }

  private fetch(n: number, text: string): void {
    if (n < 1 || n > this.count) {
      this.error(`* ${n} FETCH with ${this.count} messages`);
      return;
    }
    const items = parseResponse(text)[3];
    if (!Array.isArray(items)) {
      this.error(`FETCH without a parenthesized list: ${text.slice(0, 120)}`);
      return;
    }
    let uid: number | undefined;
    let flags: Node | undefined;
    let modseq: number | undefined;
    for (let k = 0; k + 1 < items.length; k += 2) {
      const name = String(items[k]).toUpperCase();
      const value = items[k + 1];
      if (name === 'UID') this.uid(n, (uid = Number(value)));
      else if (name === 'FLAGS') this.fetchFlags(n, (flags = value));
      else if (name === 'MODSEQ' && Array.isArray(value)) modseq = Number(value[0]);
    }
    if (flags !== undefined) this.storeFetch(n, uid, flags);
    const stored = this.storeSet && this.storeSet.ranges.some(([a, b]) => {
      const key = this.storeSet!.byUid ? uid ?? this.uids[n - 1] : n;
      return key !== undefined && key >= a && key <= b;
    });
    const solicited = /^(UID )?FETCH |^(SELECT|EXAMINE) /.test(this.command) || stored;
    if (!solicited && uid === undefined && (this.rev2 || this.qresync)) this.error(`* ${n} FETCH without UID under ${this.rev2 ? 'IMAP4rev2 (RFC 9051 7.5.2)' : 'QRESYNC (RFC 7162 3.2.4)'}`);
    if (!solicited && modseq === undefined && flags !== undefined && this.condstore) this.error(`* ${n} FETCH of FLAGS without MODSEQ with CONDSTORE on (RFC 7162 3.1.4)`);
    if (modseq !== undefined) this.modseq(this.uids[n - 1], modseq, flags);
  }

  private modseq(uid: number, modseq: number, value: Node | undefined): void {
    this.condstore = true;
    if (!uid) return;
    const flags = Array.isArray(value) ? value.map((f) => String(f).toUpperCase()).filter((f) => f !== '\\RECENT').sort().join(' ') : undefined;
    const last = this.modseqs.get(uid);
    if (last && modseq < last.modseq) this.error(`UID ${uid}: MODSEQ ${modseq} after ${last.modseq} (RFC 7162 3.1.3: it never goes down)`);
    if (last && modseq === last.modseq && flags !== undefined && last.flags !== undefined && flags !== last.flags) {
      this.error(`UID ${uid}: FLAGS (${flags}) and (${last.flags}) with one MODSEQ ${modseq} (RFC 7162 3.1.3)`);
    }
    if (!last || modseq > last.modseq) this.modseqs.set(uid, flags === undefined ? { modseq } : { modseq, flags });
    else if (flags !== undefined && last.flags === undefined) last.flags = flags;
  }

  private uid(n: number, uid: number): void {
    if (!Number.isInteger(uid) || uid < 1) {
      this.error(`* ${n} FETCH with UID ${uid}`);
      return;
    }
    const known = this.uids[n - 1];
    if (known && known !== uid) this.error(`message ${n} was UID ${known}, now UID ${uid}`);
    // UIDs rise with message numbers: compare with the nearest known neighbours.
    for (let i = n - 2; i >= 0; i--) {
      if (!this.uids[i]) continue;
      if (this.uids[i] >= uid) this.error(`message ${n} has UID ${uid}, but message ${i + 1} has UID ${this.uids[i]}`);
      break;
    }
    for (let i = n; i < this.uids.length; i++) {
      if (!this.uids[i]) continue;
      if (this.uids[i] <= uid) this.error(`message ${n} has UID ${uid}, but message ${i + 1} has UID ${this.uids[i]}`);
      break;
    }
    this.uids[n - 1] = uid;
  }

  private fetchFlags(n: number, value: Node): void {
    if (!Array.isArray(value)) {
      this.error(`* ${n} FETCH FLAGS is not a list`);
      return;
    }
    for (const flag of value) {
      const name = String(flag);
      if (name.startsWith('\\')) continue;
      if (!this.keywords.has(name.toLowerCase())) this.error(`* ${n} FETCH shows keyword ${name} before a FLAGS response lists it`);
    }
  }

  private flags(text: string): void {
    const list = parseResponse(text)[2];
    if (!Array.isArray(list)) {
      this.error(`FLAGS without a list: ${text}`);
      return;
    }
    this.keywords = new Set(list.map(String).filter((f) => !f.startsWith('\\')).map((f) => f.toLowerCase()));
  }

  private search(text: string): void {
    for (const word of text.slice('* SEARCH'.length).trim().split(' ')) {
      if (!/^\d+$/.test(word)) continue; // (MODSEQ ...) and the like
      const n = Number(word);
      if (n < 1 || n > this.count) this.error(`* SEARCH result ${n} with ${this.count} messages`);
    }
  }

  private error(message: string): void {
    if (!this.selected) return;
    this.errors.push(`${this.name}: ${message} (in ${this.commandText || 'no command'})\n    last lines:\n      ${this.recent.slice(-12).join('\n      ')}`);
  }

  /** Throws an Error listing every violation seen, if there was one. */
  assertClean(): void {
    if (this.errors.length) throw new Error(`${this.errors.length} untagged-response error(s):\n${this.errors.slice(0, 10).join('\n')}`);
  }
}

/** The ranges of a sequence set ("1:3,7:*"), `*` as `max`. */
function rangesOf(set: string, max: number): (readonly [number, number])[] {
  return set.split(',').map((part) => {
    const [a, b = a] = part.split(':').map((x) => (x === '*' ? max : Number(x)));
    return [Math.min(a, b), Math.max(a, b)] as const;
  });
}

/** The numbers of a sequence set ("1:3,7"). */
function numbersOf(set: string): number[] {
  const out: number[] = [];
  for (const part of set.split(',')) {
    const [a, b = a] = part.split(':').map(Number);
    for (let n = Math.min(a, b); n <= Math.max(a, b) && out.length < 100_000; n++) out.push(n);
  }
  return out;
}

interface StoreCheck {
  byUid: boolean;
  ranges: (readonly [number, number])[];
  /** +FLAGS (true) or -FLAGS; flags upper case (the command is). */
  add: boolean;
  flags: string[];
  /** The flag lists (upper case) each stored message was shown with, by number or UID. */
  seen: Map<number, string[][]>;
}
